import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newContext, E2E_TIMEOUT } from './helpers/browser';
import { startE2EServer, type E2EServer } from './helpers/server';
import { axeViolations } from './helpers/axe';
import { focusInfo, navigating, tabTo } from './helpers/keyboard';
import { signIn } from './helpers/auth';
import { createWorld, type World } from './helpers/world';

jest.setTimeout(E2E_TIMEOUT);

let server: E2EServer;
let browser: Browser;
let world: World;
let adminContext: BrowserContext;
let admin: Page;

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2EServer(), launchBrowser()]);
  world = await createWorld('da');
  adminContext = await newContext(browser, server.baseUrl);
  admin = await adminContext.newPage();
  await signIn(admin, world.users.admin.email);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const COUNSEL = 'Riverbend Office of General Counsel';
const COUNSEL_PHONE = '(555) 010-2040';

describe('district admin: contact settings', () => {
  test('when the admin edits the contact tree, then errors are tied to their fields, the save is confirmed, and the new contact appears in the training content', async () => {
    const problems: string[] = [];
    // From the start page, by keyboard through the main navigation.
    await admin.goto('/');
    await tabTo(admin, 'nav a[href="/admin/settings"]');
    await navigating(admin, () => admin.keyboard.press('Enter'));
    expect(new URL(admin.url()).pathname).toBe('/admin/settings');
    expect(await admin.getAttribute('nav a[href="/admin/settings"]', 'aria-current')).toBe('page');
    problems.push(...(await axeViolations(admin, 'settings (en)')));

    // A phone without a name, and a phone that is not a phone: 422, each error on its field.
    await admin.fill('#field-contact_counsel_office_name', '');
    await admin.fill('#field-contact_counsel_office_phone', COUNSEL_PHONE);
    await admin.fill('#field-contact_rapid_response_name', 'Rapid response line');
    await admin.fill('#field-contact_rapid_response_phone', 'call Jo');
    const response = await navigating(admin, () => admin.click('main form button[type=submit]'));
    expect(response?.status()).toBe(422);
    expect((await focusInfo(admin)).id).toBe('error-summary');
    for (const field of ['contact_counsel_office_name', 'contact_rapid_response_phone']) {
      const input = admin.locator(`#field-${field}`);
      expect(await input.getAttribute('aria-invalid')).toBe('true');
      const ids = ((await input.getAttribute('aria-describedby')) ?? '').split(/\s+/);
      expect(ids).toContain(`error-${field}`);
      await expect(admin.locator(`#error-${field}`).textContent()).resolves.toMatch(/\w{3,}/);
    }
    // Entered values are kept.
    expect(await admin.inputValue('#field-contact_counsel_office_phone')).toBe(COUNSEL_PHONE);
    problems.push(...(await axeViolations(admin, 'settings 422')));

    await admin.fill('#field-contact_counsel_office_name', COUNSEL);
    await admin.fill('#field-contact_rapid_response_phone', '(555) 010-9111');
    await navigating(admin, () => admin.click('main form button[type=submit]'));
    expect(new URL(admin.url()).pathname).toBe('/admin/settings');
    await expect(admin.locator('main [role=status]').textContent()).resolves.toMatch(/saved/i);
    expect(await admin.inputValue('#field-contact_counsel_office_name')).toBe(COUNSEL);
    problems.push(...(await axeViolations(admin, 'settings saved')));

    await admin.goto('/admin/settings?lang=es');
    problems.push(...(await axeViolations(admin, 'settings (es)')));
    await admin.goto('/admin/settings?lang=en');
    expect(problems).toEqual([]);

    // A teacher in the district now reads the district's counsel office in the module introduction.
    const teacherContext = await newContext(browser, server.baseUrl);
    try {
      const teacher = await teacherContext.newPage();
      await signIn(teacher, world.users.teacher.email);
      await teacher.goto('/training');
      const moduleLink = teacher.locator('main a[href^="/training/classroom"]').first();
      await navigating(teacher, () => moduleLink.click());
      await expect(teacher.locator('main').innerText()).resolves.toContain(COUNSEL);
    } finally {
      await teacherContext.close();
    }
  });
});
