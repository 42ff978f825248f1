/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createDistrict, createSchool, createUser, TEST_PASSWORD } from '../helpers/factories';
import { launchBrowser, newContext, E2E_TIMEOUT } from './helpers/browser';
import { startE2EServer, type E2EServer } from './helpers/server';
import { axeViolations } from './helpers/axe';
import { focusInfo, describeFocus, hasVisibleFocus, navigating, tabTo } from './helpers/keyboard';
import { signIn, signInWithKeyboard } from './helpers/auth';

jest.setTimeout(E2E_TIMEOUT);

let server: E2EServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let teacherEmail: string;

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2EServer(), launchBrowser()]);
  const district = await createDistrict({ name: 'Riverbend Unified' });
  const school = await createSchool(district, { name: 'Lincoln Elementary' });
  const teacher = await createUser(district, { role: 'staff', jobTitle: 'teacher', schools: [school], name: 'Ana Teacher', email: 'ana.teacher@riverbend.example' });
  teacherEmail = teacher.email;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

beforeEach(async () => {
  context = await newContext(browser, server.baseUrl);
  page = await context.newPage();
});

afterEach(async () => {
  await context?.close();
});

describe('sign-in page', () => {
  test('when a keyboard user loads sign-in, then the skip link is the first Tab stop, is visible when focused, and moves focus to main', async () => {
    await page.goto('/login');
    await page.keyboard.press('Tab');
    const first = await focusInfo(page);
    expect(describeFocus(first)).toMatch(/^<a href=#main>/);
    expect(hasVisibleFocus(first)).toBe(true);
    const box = await page.locator('.skip-link').boundingBox();
    expect(box && box.x >= 0 && box.y >= 0 && box.width > 0).toBe(true);

    await page.keyboard.press('Enter');
    expect((await focusInfo(page)).id).toBe('main');
    // The next Tab continues inside main, not back at the header.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => !!document.activeElement?.closest('main'))).toBe(true);
  });

  test('when the sign-in page is shown in English and Spanish, then axe finds no WCAG 2.1 AA violations', async () => {
    await page.goto('/login');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    const en = await axeViolations(page, 'sign-in (en)');
    await page.goto('/login?lang=es');
    expect(await page.getAttribute('html', 'lang')).toBe('es');
    await expect(page.locator('h1').textContent()).resolves.not.toBe('Sign in');
    const es = await axeViolations(page, 'sign-in (es)');
    expect([...en, ...es]).toEqual([]);
  });

  test('when the empty form is submitted, then a 422 error summary takes focus and each error is tied to its field', async () => {
    await page.goto('/login');
    await tabTo(page, 'form[action="/login"] button[type=submit]');
    const response = await navigating(page, () => page.keyboard.press('Enter'));
    expect(response?.status()).toBe(422);

    // Focus lands on the error summary so the user hears what went wrong.
    expect((await focusInfo(page)).id).toBe('error-summary');
    for (const field of ['email', 'password']) {
      const input = page.locator(`#field-${field}`);
      expect(await input.getAttribute('aria-invalid')).toBe('true');
      const describedBy = (await input.getAttribute('aria-describedby')) ?? '';
      expect(describedBy).not.toBe('');
      const message = await page.locator(`#${describedBy.split(/\s+/)[0]}`).textContent();
      expect(message?.trim().length).toBeGreaterThan(5);
    }
    // The summary links move focus to the field.
    await tabTo(page, '#error-summary a[href="#field-email"]');
    await page.keyboard.press('Enter');
    expect((await focusInfo(page)).id).toBe('field-email');
    expect(await axeViolations(page, 'sign-in 422')).toEqual([]);
  });

  test('when the password is wrong, then the page says so without revealing which part was wrong, and stays accessible', async () => {
    await page.goto('/login');
    await page.fill('#field-email', teacherEmail);
    await page.fill('#field-password', 'not-the-password');
    const response = await navigating(page, () => page.press('#field-password', 'Enter'));
    expect(response?.status()).toBe(401);
    await expect(page.locator('#error-summary').textContent()).resolves.toMatch(/do not match/);
    expect(await page.inputValue('#field-email')).toBe(teacherEmail);
    expect(await page.inputValue('#field-password')).toBe('');
    expect(await axeViolations(page, 'sign-in 401')).toEqual([]);
  });

  test('when a teacher signs in with the keyboard only, then they reach their training page signed in', async () => {
    await signInWithKeyboard(page, teacherEmail);
    expect(new URL(page.url()).pathname).toBe('/training');
    await expect(page.locator('.signed-in-as').textContent()).resolves.toMatch(/Ana Teacher/);
  });

  test('when Spanish is chosen before signing in, then the signed-in pages stay in Spanish', async () => {
    const district = await createDistrict();
    const school = await createSchool(district);
    const maria = await createUser(district, { schools: [school], name: 'María Docente' });
    await page.goto('/login?lang=es');
    await signIn(page, maria.email);
    expect(await page.getAttribute('html', 'lang')).toBe('es');
    // Remembered as her preference: a new browser session opens in Spanish too.
    const other = await newContext(browser, server.baseUrl);
    const otherPage = await other.newPage();
    await signIn(otherPage, maria.email);
    expect(await otherPage.getAttribute('html', 'lang')).toBe('es');
    await other.close();
  });

  test('when a signed-out user opens a protected page, then they are sent to sign in and come back to it afterwards', async () => {
    await page.goto('/account');
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#field-email', teacherEmail);
    await page.fill('#field-password', TEST_PASSWORD);
    await Promise.all([page.waitForURL((u) => u.pathname !== '/login'), page.press('#field-password', 'Enter')]);
    expect(new URL(page.url()).pathname).toBe('/account');
  });
});

describe('error pages', () => {
  test('when a page does not exist, then the 404 page is accessible in both languages, and anonymous visitors are sent to sign in', async () => {
    const problems: string[] = [];
    // Anonymous: unknown addresses are not revealed, the visitor is asked to sign in.
    await page.goto('/no-such-page');
    expect(new URL(page.url()).pathname).toBe('/login');

    // Her own account: switching to Spanish below is remembered as her preference.
    const district = await createDistrict();
    const bilingual = await createUser(district, { schools: [await createSchool(district)] });
    await signIn(page, bilingual.email);
    let response = await page.goto('/no-such-page');
    expect(response?.status()).toBe(404);
    await expect(page.locator('h1').textContent()).resolves.toBe('Page not found');
    problems.push(...(await axeViolations(page, '404 staff (en)')));
    // The error page keeps the skip link and a way home.
    await page.keyboard.press('Tab');
    expect((await focusInfo(page)).href).toBe('#main');
    await expect(page.locator('main a[href="/"]').count()).resolves.toBe(1);

    response = await page.goto('/no-such-page?lang=es');
    expect(response?.status()).toBe(404);
    expect(await page.getAttribute('html', 'lang')).toBe('es');
    await expect(page.locator('h1').textContent()).resolves.not.toBe('Page not found');
    problems.push(...(await axeViolations(page, '404 staff (es)')));
    expect(problems).toEqual([]);
  });

  test('when staff open an admin page, then the 403 page explains it and is accessible', async () => {
    await signIn(page, teacherEmail);
    const response = await page.goto('/admin/users');
    expect(response?.status()).toBe(403);
    await expect(page.locator('h1').textContent()).resolves.toMatch(/do not have access/);
    expect(await axeViolations(page, '403 staff')).toEqual([]);
  });

  test('when a form is sent with an expired token, then the error page says what to do and is accessible', async () => {
    await page.goto('/login');
    await page.evaluate(() => { (document.querySelector('input[name=_csrf]') as HTMLInputElement).value = 'stale-token'; });
    await page.fill('#field-email', teacherEmail);
    await page.fill('#field-password', 'whatever-password');
    const response = await navigating(page, () => page.press('#field-password', 'Enter'));
    expect(response?.status()).toBe(403);
    await expect(page.locator('main').textContent()).resolves.toMatch(/reload|expired|access/i);
    expect(await axeViolations(page, 'csrf 403')).toEqual([]);
  });
});
