/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { createUser } from '../helpers/factories';
import { launchBrowser, E2E_TIMEOUT } from './helpers/browser';
import { navigating } from './helpers/keyboard';
import { startE2EServer, type E2EServer } from './helpers/server';
import { asRole, auditBoth, auditInvalidSubmit } from './helpers/sweep';
import { createWorld, type World } from './helpers/world';

/**
 * axe and the focus/error checks (see accessibility-admin.test.ts) on the "Working at" form of a substitute at two
 * schools: on /training and on the card, its 422 (a school that is not theirs), and a choice made with the keyboard.
 */
jest.setTimeout(E2E_TIMEOUT);

let server: E2EServer;
let browser: Browser;
let world: World;
let email: string;

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2EServer(), launchBrowser()]);
  world = await createWorld('a11y-working-at');
  email = (await createUser(world.district, { name: 'Sam Substitute', email: 'sam.sub.a11y-working-at@riverbend.example', jobTitle: 'substitute_teacher', schools: [world.schools.lincoln, world.schools.roosevelt] })).email;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Points the first radio at a school that is not the person's (another district's, or none): the server must answer 422. */
const foreignChoice = (page: import('playwright-core').Page) =>
  page.evaluate(() => {
    const radio = document.querySelector<HTMLInputElement>('input[name="school"]')!;
    radio.value = '0123456789abcdef01234567';
    radio.checked = true;
  });

test('when a substitute at two schools uses the "Working at" form, then the list, the card and their 422s have no WCAG 2.1 AA violations, errors are tied to the field, and a keyboard choice works', async () => {
  const problems: string[] = [];
  await asRole(browser, server.baseUrl, email, async (page) => {
    await auditBoth(page, '/training', 'training list with Working at', problems);
    await auditBoth(page, '/training/foundations/card', 'card with Working at', problems);
    await auditInvalidSubmit(page, '/training', '/training/working-at', 'Working at 422 (list)', problems, foreignChoice);
    await auditInvalidSubmit(page, '/training/foundations/card', '/training/working-at', 'Working at 422 (card)', problems, foreignChoice);

    // Keyboard only: the radio group, arrow to Roosevelt, Enter on the button.
    await page.goto('/training?lang=en');
    await page.locator('#field-school').focus();
    await page.keyboard.press('ArrowDown');
    const saved = await navigating(page, () => page.getByRole('button', { name: "Use this school's contacts" }).press('Enter'));
    expect(saved?.status()).toBe(200);
    expect(await page.locator('input[name="school"]:checked').evaluate((el) => (el.parentElement?.textContent ?? '').trim())).toBe('Roosevelt Middle');
    expect(await page.locator('p.notice[role="status"]').textContent()).toContain('contacts of the school you chose');
  });
  expect(problems).toEqual([]);
});
