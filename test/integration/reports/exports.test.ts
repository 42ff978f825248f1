import { pdfText as readPdf } from '../../helpers/pdf';
import request from 'supertest';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { AuditEvent } from '../../../src/components/audit';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { complete, createAssignment, publishModule } from '../assignments/compliance-fixtures';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;
let principal: Agent;

/** Collects a binary response body into a Buffer. */
function binary(res: request.Response, callback: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}

const download = (agent: Agent, url: string) => agent.get(url).buffer(true).parse(binary as never);

const pdfText = async (bytes: Buffer): Promise<string> => (await readPdf(bytes)).text;

beforeAll(async () => {
  t = await startTestApp();
  await publishModule('foundations', [1], 'Foundations');
  district = await createDistrict({ name: 'Export Unified' });
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  await createUser(district, { role: 'district_admin', email: 'admin@x.example' });
  await createUser(district, { role: 'principal', email: 'principal@x.example', schools: [lincoln] });
  const done = await createUser(district, { name: 'José Núñez', email: 'jose@x.example', employeeId: 'E-1', schools: [lincoln], jobTitle: 'teacher' });
  await createUser(district, { name: '=HYPERLINK("http://evil.example","click")', email: 'evil@x.example', employeeId: 'E-2', schools: [lincoln], jobTitle: 'custodian' });
  await createUser(district, { name: '+1 Plus', email: 'plus@x.example', employeeId: 'E-3', schools: [roosevelt], jobTitle: 'teacher' });
  await createUser(district, { name: '@SUM(A1)', email: 'at@x.example', employeeId: 'E-4', schools: [roosevelt], jobTitle: 'teacher' });
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2025-09-30' } });
  await complete(done, 'foundations', 1, new Date('2025-09-15T18:00:00Z'), 95);
  admin = await signIn(t.app, 'admin@x.example');
  principal = await signIn(t.app, 'principal@x.example');
});

afterAll(async () => {
  await t.close();
});

describe('GET /reports/compliance.csv', () => {
  test('when staff ask, then 403; anonymous, then sent to sign-in', async () => {
    await createUser(district, { email: 'staff@x.example', schools: [lincoln] });
    const staff = await signIn(t.app, 'staff@x.example');
    expect((await staff.get('/reports/compliance.csv')).status).toBe(403);
    const anonymous = await request(t.app).get('/reports/compliance.csv');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toBe('/login?next=%2Freports%2Fcompliance.csv');
  });

  test('when a principal asks for another school, then 404 and nothing is audited', async () => {
    const before = await AuditEvent.countDocuments({ action: 'compliance.exported' });
    expect((await principal.get(`/reports/compliance.csv?school=${String(roosevelt._id)}`)).status).toBe(404);
    expect((await principal.get(`/reports/compliance.xlsx?school=${String(roosevelt._id)}`)).status).toBe(404);
    expect((await principal.get(`/reports/compliance.pdf?school=${String(roosevelt._id)}`)).status).toBe(404);
    expect(await AuditEvent.countDocuments({ action: 'compliance.exported' })).toBe(before);
  });

  test('when the admin exports the district, then a UTF-8 CSV with BOM, headers, every row, neutralized formulas, and an audit event', async () => {
    const res = await download(admin, '/reports/compliance.csv');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="compliance-district-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.body as Buffer;
    expect([...body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const records = parse(body, { bom: true, columns: true }) as Record<string, string>[];
    expect(Object.keys(records[0])).toEqual([
      'Employee ID', 'Name', 'Email', 'School code', 'School', 'Region code', 'Region', 'Job title', 'Module', 'Required version', 'Status',
      'Due date', 'Completed on', 'Completed version', 'Score', 'Certificate code',
    ]);
    expect(records).toHaveLength(4);
    const jose = records.find((r) => r.Email === 'jose@x.example')!;
    expect(jose).toMatchObject({ Name: 'José Núñez', 'School code': 'LIN', School: 'Lincoln Elementary', Module: 'Foundations (EN)', Status: 'Completed', 'Due date': '2025-09-30', 'Completed on': '2025-09-15', 'Completed version': '1', Score: '95' });
    expect(jose['Certificate code']).toMatch(/^[0-9A-F]{20}$/);
    expect(records.find((r) => r.Email === 'evil@x.example')!.Name).toBe('\'=HYPERLINK("http://evil.example","click")');
    expect(records.find((r) => r.Email === 'plus@x.example')!.Name).toBe("'+1 Plus");
    expect(records.find((r) => r.Email === 'at@x.example')!.Name).toBe("'@SUM(A1)");
    expect(records.find((r) => r.Email === 'plus@x.example')!.Status).toBe('Overdue');
    const audit = await AuditEvent.findOne({ action: 'compliance.exported', 'details.format': 'csv' }).sort({ at: -1 }).lean();
    expect(audit).toMatchObject({ target: { kind: 'district' }, details: { rowCount: 4, complete: true, filters: { school: null, region: null, module: null, status: null, jobTitle: null } } });
  });

  test('when a principal exports their school with filters, then only matching rows of that school, and the filters are audited', async () => {
    const res = await download(principal, '/reports/compliance.csv?status=overdue');
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toContain('compliance-LIN-');
    const records = parse(res.body as Buffer, { bom: true, columns: true }) as Record<string, string>[];
    expect(records.map((r) => r.Email)).toEqual(['evil@x.example']);
    const audit = await AuditEvent.findOne({ action: 'compliance.exported' }).sort({ at: -1 }).lean();
    expect(audit).toMatchObject({ target: { kind: 'school', id: String(lincoln._id) }, details: { rowCount: 1, filters: { school: 'LIN', status: 'overdue' } } });
  });

  test('when the filters are invalid, then 400', async () => {
    expect((await admin.get('/reports/compliance.csv?status=bogus')).status).toBe(400);
    expect((await admin.get('/reports/compliance.csv?school=xyz')).status).toBe(400);
  });
});

describe('principals in an export', () => {
  test('when principals are required to train too, then their job-title cell names their role (it was empty)', async () => {
    const own = await createDistrict();
    const school = await createSchool(own, { code: 'PRX', name: 'Principal Export School' });
    await createUser(own, { role: 'district_admin', email: 'admin@prx.example' });
    await createUser(own, { role: 'principal', name: 'Pat Principal', email: 'pat@prx.example', schools: [school] });
    await createUser(own, { name: 'Sam Staff', email: 'sam@prx.example', schools: [school], jobTitle: 'custodian' });
    await createAssignment(own, { moduleSlug: 'foundations', roles: ['staff', 'principal'], due: { kind: 'fixed', date: '2099-06-30' } });
    const ownAdmin = await signIn(t.app, 'admin@prx.example');
    const res = await download(ownAdmin, '/reports/compliance.csv');
    expect(res.status).toBe(200);
    const records = parse(res.body as Buffer, { bom: true, columns: true }) as Record<string, string>[];
    expect(Object.fromEntries(records.map((r) => [r.Email, r['Job title']]))).toEqual({ 'pat@prx.example': 'Principal', 'sam@prx.example': 'Custodian' });
  });
});

describe('GET /reports/compliance.xlsx', () => {
  test('when the admin exports, then the workbook has the header row, typed date and number cells, an autofilter, and is audited', async () => {
    const res = await download(admin, '/reports/compliance.xlsx?module=foundations');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(res.body as never);
    const sheet = workbook.worksheets[0];
    expect(sheet.getRow(1).getCell(1).value).toBe('Employee ID');
    expect(sheet.getRow(1).getCell(16).value).toBe('Certificate code');
    expect(sheet.rowCount).toBe(5);
    const rows = [2, 3, 4, 5].map((n) => sheet.getRow(n));
    const jose = rows.find((r) => r.getCell(3).value === 'jose@x.example')!;
    expect(jose.getCell(12).value).toEqual(new Date('2025-09-30T00:00:00Z'));
    expect(jose.getCell(13).value).toEqual(new Date('2025-09-15T00:00:00Z'));
    expect(jose.getCell(15).value).toBe(95);
    expect(sheet.autoFilter).toBeTruthy();
    const audit = await AuditEvent.findOne({ action: 'compliance.exported', 'details.format': 'xlsx' }).lean();
    expect(audit).toMatchObject({ details: { rowCount: 4, filters: { module: 'foundations' } } });
  });
});

describe('GET /reports/compliance.pdf', () => {
  test('when the admin exports the board summary, then the PDF holds the district totals, schools, filters and date, and is audited', async () => {
    const res = await download(admin, '/reports/compliance.pdf?module=foundations');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    const text = await pdfText(res.body as never);
    expect(text).toContain('Export Unified');
    expect(text).toContain('District totals');
    expect(text).toContain('1 of 4 required trainings completed (25% compliant)');
    expect(text).toContain('Lincoln Elementary');
    expect(text).toContain('Roosevelt Middle');
    expect(text).toContain('Filters: Module: Foundations (EN)');
    expect(text).toMatch(/Generated \w{3} \d{1,2}, \d{4}/);
    const audit = await AuditEvent.findOne({ action: 'compliance.exported', 'details.format': 'pdf' }).lean();
    expect(audit).toMatchObject({ details: { rowCount: 2, filters: { module: 'foundations' } } });
  });

  test('when a principal exports in Spanish with a job-title filter, then the school summary is in Spanish', async () => {
    const res = await download(principal, '/reports/compliance.pdf?jobTitle=custodian&lang=es');
    expect(res.status).toBe(200);
    const text = await pdfText(res.body as never);
    expect(text).toContain('Totales de la escuela');
    expect(text).toContain('0 de 1 capacitaciones requeridas completadas');
    expect(text).toContain('Puesto: Conserje');
  });
});
