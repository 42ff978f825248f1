/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { newContext } from './browser';
import { axeViolations } from './axe';
import { auditPage, visit } from './audit';
import { navigating } from './keyboard';
import { signIn } from './auth';

/** Runs `run` in a fresh context signed in as `email`; the context is always closed. */
export async function asRole(browser: Browser, baseUrl: string, email: string, run: (page: Page, context: BrowserContext) => Promise<void>): Promise<void> {
  const context = await newContext(browser, baseUrl);
  try {
    const page = await context.newPage();
    await signIn(page, email);
    await run(page, context);
  } finally {
    await context.close();
  }
}

const withLang = (path: string, lang: 'en' | 'es') => `${path}${path.includes('?') ? '&' : '?'}lang=${lang}`;

/**
 * Visits a page, audits it in English (axe + skip link + focus + control contrast + error wiring), then
 * runs axe on it in Spanish unless `spanish` is false (a page that shares its template with one already
 * checked in Spanish: the languages differ only in text, and the suite's time is kept for other checks).
 */
export async function auditBoth(page: Page, path: string, label: string, sink: string[], expectStatus = 200, spanish = true): Promise<boolean> {
  const { problems } = await visit(page, withLang(path, 'en'), label, expectStatus);
  sink.push(...problems);
  if (problems.length) return false;
  sink.push(...(await auditPage(page, `${label} (en)`)));
  if (!spanish) return true;
  await page.goto(withLang(path, 'es'));
  sink.push(...(await axeViolations(page, `${label} (es)`)));
  return true;
}

/** Submits the page's form as it is (empty, or after `prepare`) and audits the 422 re-render: error summary focused, fields wired. */
export async function auditInvalidSubmit(page: Page, path: string, formAction: string, label: string, sink: string[], prepare?: (page: Page) => Promise<void>): Promise<void> {
  const { problems } = await visit(page, withLang(path, 'en'), label);
  sink.push(...problems);
  if (problems.length) return;
  await prepare?.(page);
  const response = await navigating(page, () => page.locator(`main form[action="${formAction}"] button[type=submit]`).first().press('Enter'));
  if (response?.status() !== 422) {
    sink.push(`${label} ${path}: submitting the form empty answered ${response?.status()}, not 422`);
    return;
  }
  if ((await page.locator('main [aria-invalid="true"]').count()) === 0) sink.push(`${label}: a 422 re-render marks no field aria-invalid`);
  if ((await page.evaluate(() => document.activeElement?.id)) !== 'error-summary') sink.push(`${label}: focus is not on the error summary after a 422`);
  sink.push(...(await auditPage(page, label)));
}
