/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Browser, Page } from 'playwright-core';
import { parse } from 'csv-parse/sync';
import { launchBrowser, newContext, E2E_TIMEOUT } from './helpers/browser';
import { startE2EServer, type E2EServer } from './helpers/server';
import { axeViolations } from './helpers/axe';
import { navigating, tabTo } from './helpers/keyboard';
import { signInWithKeyboard } from './helpers/auth';
import { createWorld, assignTraining, type World } from './helpers/world';
import { completeModuleAs } from './helpers/player';
import { downloadWithKeyboard } from './helpers/files';

/** A principal checks who at her school has done the training, chases the overdue, and exports the proof. */
jest.setTimeout(E2E_TIMEOUT * 2);

let server: E2EServer;
let browser: Browser;
let world: World;

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2EServer(), launchBrowser()]);
  world = await createWorld('pr');
  // Due ten days ago: whoever has not completed it is overdue.
  await assignTraining(world, 'foundations', { roles: ['staff'], dueInDays: -10 });
  await completeModuleAs(browser, server.baseUrl, world.users.teacher.email, 'foundations');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

function rowOf(page: Page, name: string) {
  return page.locator('main table tbody tr', { has: page.locator('th', { hasText: name }) });
}

type CsvRow = Record<string, string>;

async function downloadCsv(page: Page): Promise<{ rows: CsvRow[]; filename: string }> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await tabTo(page, 'main a[href^="/reports/compliance.csv"]');
  const file = await downloadWithKeyboard(page);
  expect(file.suggestedFilename).toMatch(/\.csv$/);
  const text = file.bytes.toString('utf8').replace(/^\uFEFF/, '');
  return { rows: parse(text, { columns: true, skip_empty_lines: true }) as CsvRow[], filename: file.suggestedFilename };
}

describe('principal', () => {
  test('when the principal opens her school, then she sees one teacher completed and another overdue, filters to the overdue, opens a staff record and downloads the CSV', async () => {
    const problems: string[] = [];
    const context = await newContext(browser, server.baseUrl);
    try {
      const page = await context.newPage();
      const { teacher, overdueTeacher, otherSchoolTeacher, principal } = world.users;
      const school = world.schools.lincoln;

      await signInWithKeyboard(page, principal.email);
      expect(new URL(page.url()).pathname).toBe(`/school/${school._id}`);
      problems.push(...(await axeViolations(page, 'school (principal, en)')));

      await expect(rowOf(page, teacher.name).locator('.status').innerText()).resolves.toBe('Completed');
      await expect(rowOf(page, overdueTeacher.name).locator('.status').innerText()).resolves.toBe('Overdue');
      await expect(rowOf(page, otherSchoolTeacher.name).count()).resolves.toBe(0);

      // Filter to the overdue, with the keyboard: the status select, then Apply.
      await tabTo(page, '#filter-status');
      await page.selectOption('#filter-status', 'overdue');
      await tabTo(page, 'main form.filters button[type=submit]');
      await navigating(page, () => page.keyboard.press('Enter'));
      expect(new URL(page.url()).searchParams.get('status')).toBe('overdue');
      await expect(rowOf(page, overdueTeacher.name).count()).resolves.toBe(1);
      await expect(rowOf(page, teacher.name).count()).resolves.toBe(0);
      problems.push(...(await axeViolations(page, 'school filtered (principal)')));

      // The filtered CSV has only the overdue.
      const filtered = await downloadCsv(page);
      expect(filtered.rows.length).toBeGreaterThan(0);
      expect(filtered.rows.every((r) => /overdue/i.test(r.Status))).toBe(true);
      expect(filtered.rows.map((r) => r.Name)).toContain(overdueTeacher.name);
      expect(filtered.rows.map((r) => r.Name)).not.toContain(teacher.name);

      // Omar's staff record.
      await tabTo(page, `main table a[href="/school/${school._id}/staff/${overdueTeacher._id}"]`);
      await navigating(page, () => page.keyboard.press('Enter'));
      await expect(page.locator('h1').innerText()).resolves.toContain(overdueTeacher.name);
      await expect(page.locator('main').innerText()).resolves.toMatch(/Overdue/);
      problems.push(...(await axeViolations(page, 'staff record (principal)')));

      // The whole school's CSV: both teachers, their statuses, the certificate code of the one who completed, nobody from another school.
      await page.goto(`/school/${school._id}`);
      const all = await downloadCsv(page);
      expect(Object.keys(all.rows[0])).toEqual(expect.arrayContaining(['Name', 'Email', 'School', 'Module', 'Status', 'Due date', 'Completed on', 'Certificate code']));
      const ana = all.rows.find((r) => r.Name === teacher.name);
      const omar = all.rows.find((r) => r.Name === overdueTeacher.name);
      expect(ana?.Status).toMatch(/completed/i);
      expect(ana?.['Certificate code']).toMatch(/^[A-Z2-7]{26}$/);
      expect(ana?.['Completed on']).toMatch(/\d{4}-\d{2}-\d{2}|\d/);
      expect(omar?.Status).toMatch(/overdue/i);
      expect(omar?.['Completed on']).toBe('');
      expect(all.rows.every((r) => r.School === school.name)).toBe(true);
      expect(all.rows.map((r) => r.Name)).not.toContain(otherSchoolTeacher.name);

      // Reminders list, and the Spanish view of the school page.
      await page.goto(`/school/${school._id}/reminders`);
      expect(await page.inputValue('#urgent-emails')).toContain(overdueTeacher.email);
      expect(await page.inputValue('#urgent-emails')).not.toContain(teacher.email);
      problems.push(...(await axeViolations(page, 'reminders (principal)')));
      await page.goto(`/school/${school._id}?lang=es`);
      await expect(rowOf(page, overdueTeacher.name).locator('.status').innerText()).resolves.not.toBe('Overdue');
      problems.push(...(await axeViolations(page, 'school (principal, es)')));

      // Another school is out of her scope.
      const other = await page.goto(`/school/${world.schools.roosevelt._id}`);
      expect(other?.status()).toBe(404);
    } finally {
      await context.close();
    }
    expect(problems).toEqual([]);
  });
});
