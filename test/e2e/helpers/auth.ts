/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { BrowserContext, Page } from 'playwright-core';
import { TEST_PASSWORD } from '../../helpers/factories';
import { tabTo } from './keyboard';

/**
 * Signs in on /login the way a keyboard user does: Tab to the email field, type, Tab to the password,
 * type, Enter. Resolves once the browser has left /login (the role's start page).
 */
export async function signInWithKeyboard(page: Page, email: string, password = TEST_PASSWORD, path = '/login'): Promise<void> {
  await page.goto(path);
  await tabTo(page, '#field-email');
  await page.keyboard.type(email);
  await tabTo(page, '#field-password');
  await page.keyboard.type(password);
  await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.keyboard.press('Enter')]);
}

/** Signs in by filling the form (for journeys whose subject is not the sign-in itself). */
export async function signIn(page: Page, email: string, password = TEST_PASSWORD): Promise<void> {
  await page.goto('/login');
  await page.fill('#field-email', email);
  await page.fill('#field-password', password);
  await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.press('#field-password', 'Enter')]);
}

/** A new page in a new context, already signed in. */
export async function signedInPage(context: BrowserContext, email: string): Promise<Page> {
  const page = await context.newPage();
  await signIn(page, email);
  return page;
}

/** Signs out with the header's sign-out button, by keyboard. */
export async function signOutWithKeyboard(page: Page): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await tabTo(page, 'form[action="/logout"] button');
  await Promise.all([page.waitForURL((url) => url.pathname === '/login'), page.keyboard.press('Enter')]);
}
