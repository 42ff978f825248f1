import request from 'supertest';
import type { Types } from 'mongoose';
import { parse } from 'csv-parse/sync';
import { AuditEvent } from '../../../src/components/audit';
import { syncComplianceForUsers } from '../../../src/components/assignments';
import { Region } from '../../../src/components/regions';
import { runQueuedExportJobs } from '../../../src/components/reports';
import { ExportJob } from '../../../src/components/reports/export-job.model';
import { User } from '../../../src/components/users';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { pdfText } from '../../helpers/pdf';
import { csrfFor, postForm, signIn, type Agent } from '../../helpers/session';
import { complete, createAssignment, publishModule } from '../assignments/compliance-fixtures';

/**
 * Region administrators (docs/compliance.md, "Region administrators"): the region view of /district, their
 * region's school pages, exports and insights — every figure scoped by the server from their user record.
 */
type Doc<T extends (...args: never[]) => unknown> = Awaited<ReturnType<T>>;

let t: TestApp;
let district: Doc<typeof createDistrict>;
type RegionDoc = { _id: Types.ObjectId };
let north: RegionDoc;
let south: RegionDoc;
let foreignRegion: RegionDoc;
const schools: Record<'n1' | 'n2' | 's1' | 'x1', Doc<typeof createSchool>> = {} as never;
let admin: Agent;
let regionAdmin: Agent;
let regionAdminId: string;
const northPerson: { id?: string } = {};

function binary(res: request.Response, callback: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}
const download = (agent: Agent, url: string) => agent.get(url).buffer(true).parse(binary as never);
const csvOf = (res: request.Response) => parse(res.body as Buffer, { bom: true, columns: true }) as Record<string, string>[];

/** The part of the district page a figure lives in: the totals section, or the rollup table. */
function section(html: string, headingId: string): string {
  const start = html.indexOf(`id="${headingId}"`);
  if (start < 0) throw new Error(`no section ${headingId}`);
  return html.slice(start, html.indexOf('</section>', start));
}
/** The school rows of the schools table (its links to school pages), in page order. */
const schoolLinks = (html: string) => [...html.matchAll(/<th scope="row"><a href="\/school\/([0-9a-f]{24})">/g)].map((m) => m[1]);

beforeAll(async () => {
  t = await startTestApp();
  await publishModule('foundations', [1], 'Foundations');
  district = await createDistrict({ name: 'Region Admin Unified' });
  const other = await createDistrict({ name: 'Elsewhere Unified' });
  north = await Region.create({ district: district._id, code: 'NORTH', name: 'Region North' });
  south = await Region.create({ district: district._id, code: 'SOUTH', name: 'Region South' });
  foreignRegion = await Region.create({ district: other._id, code: 'FAR', name: 'Faraway Region' });
  schools.n1 = await createSchool(district, { code: 'N1', name: 'North One', region: north._id });
  schools.n2 = await createSchool(district, { code: 'N2', name: 'North Two', region: north._id });
  schools.s1 = await createSchool(district, { code: 'S1', name: 'South One', region: south._id });
  schools.x1 = await createSchool(district, { code: 'X1', name: 'Unregioned One' });
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2020-01-31' } });
  const ids: string[] = [];
  const person = async (school: keyof typeof schools, n: number, done: boolean, extra: Parameters<typeof createUser>[1] = {}) => {
    const user = await createUser(district, { name: `${school.toUpperCase()} person ${n}`, email: `${school}-${n}@ra.example`, schools: [schools[school]], jobTitle: 'teacher', ...extra });
    ids.push(String(user._id));
    if (done) await complete(user, 'foundations', 1, new Date(Date.now() - 86_400_000));
    return user;
  };
  northPerson.id = String((await person('n1', 1, true))._id);
  await person('n1', 2, false);
  await person('n2', 1, true);
  await person('s1', 1, true);
  await person('s1', 2, false);
  await person('x1', 1, false);
  await syncComplianceForUsers(ids);
  await createUser(district, { role: 'district_admin', email: 'admin@ra.example' });
  regionAdminId = String((await createUser(district, { role: 'region_admin', email: 'north@ra.example', regions: [north] }))._id);
  [admin, regionAdmin] = await Promise.all([signIn(t.app, 'admin@ra.example'), signIn(t.app, 'north@ra.example')]);
});

afterAll(async () => {
  await t.close();
});

describe('the region view of /district', () => {
  test('when a region administrator signs in, then their home is the region view, named as theirs, in the header too', async () => {
    const home = await regionAdmin.get('/');
    expect([home.status, home.headers.location]).toEqual([303, '/district']);
    const res = await regionAdmin.get('/district');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<h1>Region compliance — Region North</h1>');
    expect(res.text).toContain('>My region</a>');
    expect(res.text).not.toContain('href="/admin"');
  });

  test('when they open it, then its figures are those of the district page filtered by their region: the same totals, the same schools, the same rollup line', async () => {
    const own = await regionAdmin.get('/district');
    const filtered = await admin.get(`/district?region=${north._id}`);
    expect(filtered.status).toBe(200);
    const totals = (html: string) => section(html, 'totals-heading').replace(/<h2[^>]*>.*?<\/h2>/, '');
    expect(totals(own.text)).toEqual(totals(filtered.text));
    expect(totals(own.text)).toContain('2 of 3 required trainings completed');
    expect(schoolLinks(own.text).sort()).toEqual([String(schools.n1._id), String(schools.n2._id)].sort());
    expect(schoolLinks(own.text)).toEqual(schoolLinks(filtered.text));
    // The rollup has their region's line only, with the district's figures for it.
    const rollup = (html: string) => section(html, 'regions-heading').split('<tr>').filter((row) => row.includes('scope="row"'));
    const ownRows = rollup(own.text);
    expect(ownRows).toHaveLength(1);
    expect(ownRows[0]).toContain('Region North');
    const cells = (row: string) => [...row.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(cells(ownRows[0])).toEqual(cells(rollup(filtered.text).find((row) => row.includes('>Region North</a>'))!));
    expect(own.text).not.toContain('Region South');
    expect(own.text).not.toContain('No region');
  });

  test('when they look at the filter, then it offers their region only (no "any", no "no region"), and the downloads name it', async () => {
    const res = await regionAdmin.get('/district');
    const select = res.text.slice(res.text.indexOf('id="filter-region"'), res.text.indexOf('</select>', res.text.indexOf('id="filter-region"')));
    expect([...select.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1])).toEqual([String(north._id)]);
    expect(res.text).toContain(`href="/reports/compliance.csv?region=${north._id}"`);
  });

  test("when they ask for another region, the schools without one, another district's region or a made-up one, then 404", async () => {
    for (const region of [String(south._id), 'none', String(foreignRegion._id), '0123456789abcdef01234567']) {
      expect([region, (await regionAdmin.get(`/district?region=${region}`)).status]).toEqual([region, 404]);
    }
  });
});

describe("their region's schools", () => {
  test('when they open a school of their region, its person pages and reminders, then they are served, without the principal-only links', async () => {
    const page = await regionAdmin.get(`/school/${schools.n1._id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('North One');
    expect(page.text).not.toContain(`/school/${schools.n1._id}/contacts`);
    expect(page.text).not.toContain(`/school/${schools.n1._id}/sessions`);
    expect((await regionAdmin.get(`/school/${schools.n1._id}/staff/${northPerson.id}`)).status).toBe(200);
    expect((await regionAdmin.get(`/school/${schools.n2._id}/reminders`)).status).toBe(200);
  });

  test('when they open a school of another region or without a region, then it does not exist for them (404)', async () => {
    for (const school of [schools.s1, schools.x1]) {
      expect((await regionAdmin.get(`/school/${school._id}`)).status).toBe(404);
      expect((await regionAdmin.get(`/school/${school._id}/reminders`)).status).toBe(404);
    }
  });
});

describe('exports', () => {
  test('when they download the CSV without a filter, then it holds their region rows only (the same as the district filtered by it) and is audited as theirs', async () => {
    const own = await download(regionAdmin, '/reports/compliance.csv');
    expect(own.status).toBe(200);
    const emails = csvOf(own).map((r) => r.Email).sort();
    expect(emails).toEqual(['n1-1@ra.example', 'n1-2@ra.example', 'n2-1@ra.example']);
    expect(emails).toEqual(csvOf(await download(admin, `/reports/compliance.csv?region=${north._id}`)).map((r) => r.Email).sort());
    const audit = await AuditEvent.findOne({ action: 'compliance.exported', actor: regionAdminId, 'details.format': 'csv' }).sort({ at: -1 }).lean().orFail();
    expect(audit.details).toMatchObject({ filters: { region: 'NORTH', school: null }, rowCount: 3, complete: true });
  });

  test('when they export another region, then 404 and nothing is audited', async () => {
    const before = await AuditEvent.countDocuments({ action: 'compliance.exported' });
    expect((await regionAdmin.get(`/reports/compliance.csv?region=${south._id}`)).status).toBe(404);
    expect((await regionAdmin.get(`/reports/compliance.xlsx?school=${schools.s1._id}`)).status).toBe(404);
    expect((await regionAdmin.get('/reports/compliance.pdf?region=none')).status).toBe(404);
    expect(await AuditEvent.countDocuments({ action: 'compliance.exported' })).toBe(before);
  });

  test('when they export one school of their region, then its rows only, audited with the school and no region filter', async () => {
    const res = await download(regionAdmin, `/reports/compliance.csv?school=${schools.n2._id}`);
    expect(csvOf(res).map((r) => r.Email)).toEqual(['n2-1@ra.example']);
    const audit = await AuditEvent.findOne({ action: 'compliance.exported', 'details.format': 'csv' }).sort({ at: -1 }).lean().orFail();
    expect(audit.details).toMatchObject({ filters: { school: 'N2', region: null }, rowCount: 1 });
  });

  test('when they download the board PDF, then it is their region with its totals, no other school, and audited', async () => {
    const pdf = await pdfText((await download(regionAdmin, '/reports/compliance.pdf')).body as Buffer);
    expect(pdf.text).toContain('Region: Region North (NORTH)');
    expect(pdf.text).toContain('2 of 3 required trainings completed');
    expect(pdf.text).not.toContain('South One');
    expect(pdf.text).not.toContain('Unregioned One');
    // The school table names each school's region (a district with regions).
    expect(pdf.text).toMatch(/School\s+Region\s+code/);
    expect(pdf.text).toMatch(/North One\s+NORTH\b/);
    const audit = await AuditEvent.findOne({ action: 'compliance.exported', 'details.format': 'pdf' }).sort({ at: -1 }).lean().orFail();
    expect(audit.details).toMatchObject({ filters: { region: 'NORTH' } });
  });

  test('when they ask for a background export without naming a region, then the job keeps theirs and the file holds their region only, audited', async () => {
    const csrf = await csrfFor(regionAdmin, '/district');
    const asked = await regionAdmin.post('/reports/exports').type('form').send({ _csrf: csrf, format: 'csv' });
    expect(asked.status).toBe(303);
    const id = /([0-9a-f]{24})$/.exec(String(asked.headers.location))![1];
    const stored = await ExportJob.findById(id).lean().orFail();
    expect([String(stored.requestedBy), stored.filters?.region]).toEqual([regionAdminId, String(north._id)]);
    await runQueuedExportJobs();
    expect((await ExportJob.findById(id).lean().orFail()).state).toBe('done');
    const file = await download(regionAdmin, `/reports/exports/${id}/download`);
    expect(csvOf(file).map((r) => r.Email).sort()).toEqual(['n1-1@ra.example', 'n1-2@ra.example', 'n2-1@ra.example']);
    const audit = await AuditEvent.findOne({ action: 'compliance.exported', requestId: `export-job:${id}` }).lean().orFail();
    expect(audit.details).toMatchObject({ filters: { region: 'NORTH' }, rowCount: 3 });
    expect(await AuditEvent.countDocuments({ action: 'compliance.export_downloaded', actor: regionAdminId, 'details.exportJob': id })).toBe(1);
  });
});

describe('who sets the role: the Staff form', () => {
  const person = (overrides: Record<string, unknown> = {}) => ({ name: 'Rita Region', email: 'rita@ra.example', role: 'region_admin', preferredLanguage: 'en', ...overrides });

  test('when the role is region administrator without a region, then 422 with the error and the values entered, and nobody is created', async () => {
    const res = await postForm(admin, '/admin/users', person());
    expect(res.status).toBe(422);
    expect(res.text).toContain('A region administrator needs at least one region.');
    expect(res.text).toContain('value="Rita Region"');
    expect(await User.exists({ email: 'rita@ra.example' })).toBeNull();
  });

  test("when the region is another district's, then 422 and nobody is created", async () => {
    const res = await postForm(admin, '/admin/users', person({ regions: String(foreignRegion._id) }));
    expect(res.status).toBe(422);
    expect(res.text).toContain('Choose regions from the list.');
    expect(await User.exists({ email: 'rita@ra.example' })).toBeNull();
  });

  test('when the region field carries an operator (form or JSON), then 422 and nothing is stored', async () => {
    const form = await admin.post('/admin/users').type('form').send(`_csrf=${encodeURIComponent(await csrfFor(admin))}&name=Rita+Region&email=rita%40ra.example&role=region_admin&regions[$ne]=x`);
    expect(form.status).toBe(422);
    const json = await admin
      .post('/admin/users')
      .set('X-CSRF-Token', await csrfFor(admin))
      .set('Accept', 'text/html')
      .send(JSON.parse(`{"name":"Rita Region","email":"rita@ra.example","role":"region_admin","regions":{"$ne":null},"__proto__":{"regions":["${north._id}"]}}`));
    expect(json.status).toBe(422);
    expect(await User.exists({ email: 'rita@ra.example' })).toBeNull();
  });

  test('when the form is right, then the person is stored with the region, and the role and region are audited', async () => {
    const res = await postForm(admin, '/admin/users', person({ regions: String(south._id) }));
    expect(res.status).toBe(303);
    const stored = await User.findOne({ email: 'rita@ra.example' }).lean().orFail();
    expect([stored.role, (stored.regions ?? []).map(String)]).toEqual(['region_admin', [String(south._id)]]);
    const audit = await AuditEvent.findOne({ action: 'user.regions_changed', 'target.id': String(stored._id) }).lean().orFail();
    expect(audit.details).toEqual({ from: [], to: ['SOUTH'] });
  });

  test('when someone else is saved with regions ticked, then none are stored', async () => {
    const res = await postForm(admin, '/admin/users', { name: 'Pat Principal', email: 'pat@ra.example', role: 'principal', schools: String(schools.n1._id), regions: String(north._id), preferredLanguage: 'en' });
    expect(res.status).toBe(303);
    expect((await User.findOne({ email: 'pat@ra.example' }).lean().orFail()).regions).toBeUndefined();
  });
});

describe('changes of role or region take effect at once', () => {
  test("when the admin moves a signed-in region administrator to another region, then their next request shows the new region and the old one's schools are 404; made staff, their region pages are 403", async () => {
    const user = await createUser(district, { role: 'region_admin', email: 'mover@ra.example', regions: [north] });
    const mover = await signIn(t.app, 'mover@ra.example');
    expect((await mover.get(`/school/${schools.n1._id}`)).status).toBe(200);
    const base = { name: user.name, email: 'mover@ra.example', preferredLanguage: 'en' };
    expect((await postForm(admin, `/admin/users/${user._id}`, { ...base, role: 'region_admin', regions: String(south._id) })).status).toBe(303);
    const moved = await mover.get('/district');
    expect(moved.text).toContain('Region compliance — Region South');
    expect(schoolLinks(moved.text)).toEqual([String(schools.s1._id)]);
    expect((await mover.get(`/school/${schools.n1._id}`)).status).toBe(404);
    expect((await mover.get(`/school/${schools.s1._id}`)).status).toBe(200);

    expect((await postForm(admin, `/admin/users/${user._id}`, { ...base, role: 'staff', jobTitle: 'other', schools: String(schools.s1._id), regions: String(south._id) })).status).toBe(303);
    expect((await mover.get('/district')).status).toBe(403);
    expect((await mover.get(`/school/${schools.s1._id}`)).status).toBe(403);
    expect((await mover.get('/reports/compliance.csv')).status).toBe(403);
    const stored = await User.findById(user._id).lean().orFail();
    expect([stored.role, stored.regions]).toEqual(['staff', undefined]);
    const actions = (await AuditEvent.find({ 'target.id': String(user._id) }).sort({ at: 1 }).lean()).map((e) => e.action);
    expect(actions).toEqual(['user.regions_changed', 'user.role_changed', 'user.regions_changed', 'user.schools_changed']);
  });
});
