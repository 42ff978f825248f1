import { parse } from 'csv-parse/sync';
import type request from 'supertest';
import { AuditEvent } from '../../../src/components/audit';
import { RosterPreview, RosterProblem } from '../../../src/components/roster';
import { clearDatabase, startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { csv, upload } from './roster.helpers';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let adminAgent: Agent;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

beforeEach(async () => {
  await clearDatabase();
  district = await createDistrict();
  lincoln = await createSchool(district, { code: 'LIN' });
  await createUser(district, { role: 'district_admin', email: 'admin@test.example', employeeId: 'A1' });
  await createUser(district, { employeeId: 'TAKEN', email: 'taken@test.example', schools: [lincoln] });
  adminAgent = await signIn(t.app, 'admin@test.example');
});

/** 1,500 bad emails (lines 2–1501), then a few other kinds; line 1502 onwards. */
function badFile(): string {
  const rows: (string[] | string)[] = [];
  for (let i = 1; i <= 1_500; i++) rows.push([`B${i}`, `secret-value-${i}`, `Private Name ${i}`, 'staff', 'teacher', 'LIN', '', '']);
  rows.push(['D1', 'd1@test.example', 'Dup One', 'staff', 'teacher', 'LIN', '', '']); // 1502 fine
  rows.push(['D1', 'd2@test.example', 'Dup Two', 'staff', 'teacher', 'LIN', '', '']); // 1503 duplicate id of 1502
  rows.push(['E7', 'taken@test.example', 'Taker', 'staff', 'teacher', 'LIN', '', '']); // 1504 email of another person
  rows.push('E8,e8@test.example,Short Row'); // 1505 column count
  rows.push(['E9', 'e9@test.example', 'Many', 'boss', 'astronaut', 'NOPE', 'fr', '2026-13-01']); // 1506 role, school, language, date
  return csv(rows);
}

function text(res: request.Response, callback: (err: Error | null, body: string) => void): void {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => (body += chunk));
  res.on('end', () => callback(null, body));
}

async function invalidPreview(): Promise<string> {
  const res = await upload(adminAgent, badFile(), { fileName: 'HR export (May).csv' });
  expect(res.status).toBe(422);
  const preview = await RosterPreview.findOne({ state: 'invalid' }).lean();
  return preview!._id.toString();
}

describe('every problem, downloadable', () => {
  test('when a file has more than 1,000 bad rows, then the page lists the first 1,000 and the CSV has every problem — line, column, reason — without the values', async () => {
    const res = await upload(adminAgent, badFile(), { fileName: 'HR export (May).csv' });
    expect(res.status).toBe(422);
    const id = (await RosterPreview.findOne().lean())!._id.toString();
    expect(res.text).toContain('Showing the first 1000 of 1507 problems.');
    expect(res.text).toContain(`href="/admin/roster/previews/${id}/problems.csv"`);
    expect(res.text).toContain('Download every problem (CSV)');

    const download = await adminAgent.get(`/admin/roster/previews/${id}/problems.csv`).buffer(true).parse(text as never);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(download.headers['content-disposition']).toMatch(/attachment; filename="?HR_export__May_-problems.csv"?/);
    expect(download.headers['cache-control']).toBe('no-store');
    const body = download.body as string;
    expect(body.startsWith('\uFEFF')).toBe(true);
    const records = parse(body, { bom: true }) as string[][];
    expect(records[0]).toEqual(['Line', 'Column', 'Code', 'Problem']);
    const rows = records.slice(1);
    expect(rows).toHaveLength(1_507);
    // Every bad email line, in line order.
    const emailLines = rows.filter((r) => r[2] === 'email_invalid').map((r) => Number(r[0]));
    expect(emailLines).toEqual(Array.from({ length: 1_500 }, (_, i) => i + 2));
    expect(rows[0]).toEqual(['2', 'email', 'email_invalid', 'Not a valid email address.']);
    const rest = rows.slice(1_500).map((r) => r.slice(0, 3).join(':'));
    expect(rest).toEqual([
      '1503:employee_id:duplicate_employee_id',
      '1504:email:email_taken',
      '1505:(whole row):column_count',
      '1506:role:role_invalid',
      '1506:school_codes:school_unknown',
      '1506:language:language_invalid',
      '1506:start_date:start_date_invalid',
    ]);
    expect(rows.find((r) => r[0] === '1503')![3]).toBe('The same employee ID is also on line 1502.');
    expect(rows.find((r) => r[0] === '1505')![3]).toBe('This row has 3 values but the header has 8.');
    // No cell value of the file is echoed back.
    for (const value of ['secret-value-', 'Private Name', 'taken@test.example', 'TAKEN', 'astronaut', 'NOPE', 'boss', '2026-13-01', 'Dup']) expect(body).not.toContain(value);
    const stored = JSON.stringify(await RosterProblem.find({ preview: id }).lean());
    expect(stored).not.toContain('secret-value-');
    expect(stored).not.toContain('taken@test.example');

    const events = await AuditEvent.find({ action: 'roster.problems_exported' }).lean();
    expect(events).toHaveLength(1);
    expect(events[0].target).toMatchObject({ kind: 'roster_import', id });
    expect(events[0].details).toMatchObject({ format: 'csv', lines: 1_504, problems: 1_507, complete: true });
  });

  test('when the admin reads in Spanish, then the CSV headers and reasons are in Spanish', async () => {
    const id = await invalidPreview();
    const download = await adminAgent.get(`/admin/roster/previews/${id}/problems.csv?lang=es`).buffer(true).parse(text as never);
    const records = parse(download.body as string, { bom: true }) as string[][];
    expect(records[0]).toEqual(['Línea', 'Columna', 'Código', 'Problema']);
    expect(records[1]).toEqual(['2', 'email', 'email_invalid', 'No es un correo electrónico válido.']);
    await adminAgent.get('/admin/roster?lang=en');
  });

  test('when an admin of another district asks for the CSV, then 404 and nothing is audited; a principal gets 403', async () => {
    const id = await invalidPreview();
    const other = await createDistrict();
    await createUser(other, { role: 'district_admin', email: 'other-admin@test.example' });
    const otherAgent = await signIn(t.app, 'other-admin@test.example');
    expect((await otherAgent.get(`/admin/roster/previews/${id}/problems.csv`)).status).toBe(404);
    expect((await otherAgent.get('/admin/roster/previews/nope/problems.csv')).status).toBe(404);
    await createUser(district, { role: 'principal', schools: [lincoln], email: 'p@test.example' });
    const principal = await signIn(t.app, 'p@test.example');
    expect((await principal.get(`/admin/roster/previews/${id}/problems.csv`)).status).toBe(403);
    expect(await AuditEvent.countDocuments({ action: 'roster.problems_exported' })).toBe(0);
  });

  test('when the file has no problems, then there is no link and the CSV has only its header; its problems go with the preview', async () => {
    const res = await upload(adminAgent, csv([['E1', 'e1@test.example', 'One', 'staff', 'teacher', 'LIN', '', '']]));
    expect(res.status).toBe(303);
    const page = await adminAgent.get(res.headers.location);
    expect(page.text).not.toContain('problems.csv');
    const id = (await RosterPreview.findOne().lean())!._id.toString();
    const download = await adminAgent.get(`/admin/roster/previews/${id}/problems.csv`).buffer(true).parse(text as never);
    expect(parse(download.body as string, { bom: true })).toEqual([['Line', 'Column', 'Code', 'Problem']]);

    await invalidPreview();
    const problems = await RosterProblem.find().lean();
    const preview = await RosterPreview.findOne({ state: 'invalid' }).lean();
    // Removed (TTL) when the preview's rows would be: a day after it expires.
    expect(problems.every((p) => p.purgeAt.getTime() === preview!.expiresAt.getTime() + 24 * 60 * 60 * 1000)).toBe(true);
  });
});
