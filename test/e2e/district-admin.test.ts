/// <reference lib="dom" />
// Code inside page.evaluate() runs in the browser: this file needs the DOM types.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newContext, E2E_TIMEOUT } from './helpers/browser';
import { startE2EServer, type E2EServer } from './helpers/server';
import { axeViolations } from './helpers/axe';
import { focusInfo, navigating, tabTo } from './helpers/keyboard';
import { signIn, signInWithKeyboard } from './helpers/auth';
import { createWorld, assignTraining, type World } from './helpers/world';
import { completeModuleAs } from './helpers/player';
import { downloadWithKeyboard, pdfText } from './helpers/files';
import ExcelJS from 'exceljs';

jest.setTimeout(E2E_TIMEOUT);

let server: E2EServer;
let browser: Browser;
let world: World;
let adminContext: BrowserContext;
let admin: Page;

beforeAll(async () => {
  [server, browser] = await Promise.all([startE2EServer(), launchBrowser()]);
  world = await createWorld('da');
  await assignTraining(world, 'foundations', { roles: ['staff'], dueInDays: -10 });
  await completeModuleAs(browser, server.baseUrl, world.users.teacher.email, 'foundations');
  adminContext = await newContext(browser, server.baseUrl);
  admin = await adminContext.newPage();
  await signInWithKeyboard(admin, world.users.admin.email);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Reads the first worksheet into objects keyed by the header row. */
async function readXlsx(bytes: Buffer): Promise<{ sheetName: string; headers: string[]; rows: Record<string, unknown>[] }> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  const sheet = workbook.worksheets[0];
  const headers = (sheet.getRow(1).values as unknown[]).slice(1).map((v) => String(v ?? ''));
  const rows: Record<string, unknown>[] = [];
  sheet.eachRow((row, n) => {
    if (n === 1) return;
    const values = (row.values as unknown[]).slice(1);
    rows.push(Object.fromEntries(headers.map((h, i) => [h, values[i] ?? ''])));
  });
  return { sheetName: sheet.name, headers, rows };
}

async function downloadLink(page: Page, selector: string) {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await tabTo(page, selector);
  return downloadWithKeyboard(page);
}

describe('district admin: dashboard, drill-down and exports', () => {
  test('when the admin opens the district page and drills into a school, then the school shows who completed and who is overdue, and the XLSX and PDF downloads say the same', async () => {
    const problems: string[] = [];
    const { lincoln, roosevelt } = world.schools;
    const { teacher, overdueTeacher, otherSchoolTeacher } = world.users;
    await admin.goto('/');
    expect(new URL(admin.url()).pathname).toBe('/district');
    await expect(admin.locator('main').innerText()).resolves.toContain(world.district.name);
    for (const school of [lincoln, roosevelt]) {
      await expect(admin.locator(`main table a[href="/school/${school._id}"]`).innerText()).resolves.toBe(school.name);
    }
    problems.push(...(await axeViolations(admin, 'district (en)')));

    // District-wide workbook: every school's staff.
    const districtXlsx = await readXlsx((await downloadLink(admin, 'main a[href^="/reports/compliance.xlsx"]')).bytes);
    expect(districtXlsx.headers).toEqual(expect.arrayContaining(['Name', 'School', 'Module', 'Status', 'Certificate code']));
    expect(districtXlsx.rows.map((r) => r.Name)).toEqual(expect.arrayContaining([teacher.name, overdueTeacher.name, otherSchoolTeacher.name]));

    // Drill into Lincoln by keyboard.
    await tabTo(admin, `main table a[href="/school/${lincoln._id}"]`);
    await navigating(admin, () => admin.keyboard.press('Enter'));
    expect(new URL(admin.url()).pathname).toBe(`/school/${lincoln._id}`);
    const row = (name: string) => admin.locator('main table tbody tr', { has: admin.locator('th', { hasText: name }) });
    await expect(row(teacher.name).locator('.status').innerText()).resolves.toBe('Completed');
    await expect(row(overdueTeacher.name).locator('.status').innerText()).resolves.toBe('Overdue');
    problems.push(...(await axeViolations(admin, 'school (admin drill-down)')));

    // The school's workbook.
    const xlsxFile = await downloadLink(admin, 'main a[href^="/reports/compliance.xlsx"]');
    expect(xlsxFile.suggestedFilename).toMatch(/\.xlsx$/);
    const xlsx = await readXlsx(xlsxFile.bytes);
    const byName = new Map(xlsx.rows.map((r) => [String(r.Name), r]));
    expect(String(byName.get(teacher.name)?.Status)).toMatch(/completed/i);
    expect(String(byName.get(teacher.name)?.['Certificate code'])).toMatch(/^[A-Z2-7]{26}$/);
    expect(String(byName.get(overdueTeacher.name)?.Status)).toMatch(/overdue/i);
    expect(byName.has(otherSchoolTeacher.name)).toBe(false);
    expect(xlsx.rows.every((r) => r.School === lincoln.name)).toBe(true);

    // The board summary PDF for the school.
    const pdfFile = await downloadLink(admin, 'main a[href^="/reports/compliance.pdf"]');
    expect(pdfFile.suggestedFilename).toMatch(/\.pdf$/);
    const pdf = await pdfText(pdfFile.bytes);
    const text = pdf.text.replace(/\s+/g, ' ');
    expect(text).toContain(lincoln.name);
    expect(text).toContain(world.district.name);
    expect(text).toMatch(/\d+\s?%/);
    expect(text).not.toContain(otherSchoolTeacher.name);

    // A staff record from the drill-down.
    await admin.goto(`/school/${lincoln._id}/staff/${teacher._id}`);
    await expect(admin.locator('h1').innerText()).resolves.toContain(teacher.name);
    problems.push(...(await axeViolations(admin, 'staff record (admin)')));
    await admin.goto('/district?lang=es');
    problems.push(...(await axeViolations(admin, 'district (es)')));
    await admin.goto('/district?lang=en');
    expect(problems).toEqual([]);
  });
});

describe('district admin: roster', () => {
  test('when the admin adds a bus driver to a school with the users form, then the new person appears on that school page with the assigned training', async () => {
    const lincoln = world.schools.lincoln;
    await admin.goto('/admin/users/new?lang=en');
    await admin.fill('#field-name', 'Grace Okafor');
    await admin.fill('#field-email', 'grace.okafor.da@riverbend.example');
    await admin.fill('#field-employeeId', 'BUS-0042');
    await admin.check('input[name=role][value=staff]');
    await admin.selectOption('#field-jobTitle', 'bus_driver');
    await admin.check(`input[name=schools][value="${lincoln._id}"]`);
    await navigating(admin, () => admin.click('main form[action="/admin/users"] button[type=submit]'));
    expect(new URL(admin.url()).pathname).toMatch(/^\/admin\/users\/[0-9a-f]{24}$/);
    await expect(admin.locator('main [role=status]').first().innerText()).resolves.toMatch(/\w/);

    await admin.goto(`/school/${lincoln._id}?lang=en`);
    const row = admin.locator('main table tbody tr', { has: admin.locator('th', { hasText: 'Grace Okafor' }) });
    await expect(row.count()).resolves.toBeGreaterThan(0);
    await expect(row.first().locator('.status').innerText()).resolves.toMatch(/Overdue|Not started/);
  });
});

const COUNSEL = 'Riverbend Office of General Counsel';
const COUNSEL_ES = 'la Oficina del Asesor Jurídico de Riverbend';
const COUNSEL_PHONE = '(555) 010-2040';

describe('district admin: contact settings', () => {
  test('when the admin edits the contact tree, then errors are tied to their fields, the save is confirmed, and the new contact appears in the training content in both languages', async () => {
    const problems: string[] = [];
    // From the start page, by keyboard through the main navigation.
    await admin.goto('/');
    await tabTo(admin, 'nav a[href="/admin"]');
    await navigating(admin, () => admin.keyboard.press('Enter'));
    expect(new URL(admin.url()).pathname).toBe('/admin');
    problems.push(...(await axeViolations(admin, 'administration index (en)')));
    await tabTo(admin, 'main a[href="/admin/settings"]');
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
    await admin.fill('#field-contact_counsel_office_name_es', COUNSEL_ES);
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
      // In Spanish, the Spanish name the admin gave.
      await teacher.goto(`${new URL(teacher.url()).pathname}?lang=es`);
      const spanish = await teacher.locator('main').innerText();
      expect(spanish.toLowerCase()).toContain(COUNSEL_ES.toLowerCase());
      expect(spanish).not.toContain(COUNSEL);
    } finally {
      await teacherContext.close();
    }
  });
});
