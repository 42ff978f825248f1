import request from 'supertest';
import type { Types } from 'mongoose';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { AuditEvent } from '../../../src/components/audit';
import { statusAt, syncComplianceForUsers, type ComplianceRowDoc } from '../../../src/components/assignments';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { District } from '../../../src/components/districts';
import { Region, getRegionContacts } from '../../../src/components/regions';
import { runQueuedExportJobs } from '../../../src/components/reports';
import { ExportJob } from '../../../src/components/reports/export-job.model';
import { School, getSchoolContactContext } from '../../../src/components/schools';
import { deleteRegion, settleSchoolRegion } from '../../../src/components/schools/region-removal';
import { toActor } from '../../../src/components/auth';
import { User } from '../../../src/components/users';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { pdfText } from '../../helpers/pdf';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { complete, createAssignment, publishModule } from '../assignments/compliance-fixtures';

type Doc<T extends (...args: never[]) => unknown> = Awaited<ReturnType<T>>;

let t: TestApp;
let district: Doc<typeof createDistrict>;
type RegionDoc = { _id: Types.ObjectId };
let north: RegionDoc;
let south: RegionDoc;
let empty: RegionDoc;
let foreignRegion: RegionDoc;
const schools: Record<'n1' | 'n2' | 's1' | 'x1', Doc<typeof createSchool>> = {} as never;
let admin: Agent;
let principal: Agent;
let staff: Agent;

function binary(res: request.Response, callback: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}
const download = (agent: Agent, url: string) => agent.get(url).buffer(true).parse(binary as never);
const csvOf = (res: request.Response) => parse(res.body as Buffer, { bom: true, columns: true }) as Record<string, string>[];

/** The cells of the rollup row whose region link reads `name`. */
function rollupRow(html: string, name: string): string[] {
  const section = html.slice(html.indexOf('id="regions-heading"'), html.indexOf('</section>', html.indexOf('id="regions-heading"')));
  const row = section.split('<tr>').find((r) => r.includes(`>${name}</a>`));
  if (!row) throw new Error(`no rollup row for ${name}`);
  return [...row.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]);
}

/** What the rollup must show for some schools, counted from the stored compliance rows (each person at their first school). */
async function expectedFigures(schoolIds: Types.ObjectId[], now = new Date()) {
  const rows = (await ComplianceRow.find({ district: district._id, primarySchool: { $in: schoolIds } }).lean()) as unknown as ComplianceRowDoc[];
  const statuses = rows.map((r) => statusAt(r, now));
  const staffCount = new Set(rows.map((r) => String(r.user))).size;
  return { staff: staffCount, assigned: rows.length, completed: statuses.filter((s) => s === 'completed').length, overdue: statuses.filter((s) => s === 'overdue').length };
}

beforeAll(async () => {
  t = await startTestApp();
  await publishModule('foundations', [1], 'Foundations');
  district = await createDistrict({ name: 'Region Unified' });
  const other = await createDistrict({ name: 'Elsewhere Unified' });
  north = await Region.create({ district: district._id, code: 'NORTH', name: 'Region North', contacts: { region_operations: { name: 'North Ops Desk', phone: '(555) 010-0143' } } });
  south = await Region.create({ district: district._id, code: 'SOUTH', name: 'Region South' });
  empty = await Region.create({ district: district._id, code: 'EMPTY', name: 'Region Empty' });
  foreignRegion = await Region.create({ district: other._id, code: 'FAR', name: 'Faraway Region' });
  schools.n1 = await createSchool(district, { code: 'N1', name: 'North One', region: north._id, contacts: { principal: { name: 'Principal Own', phone: '' } } });
  schools.n2 = await createSchool(district, { code: 'N2', name: 'North Two', region: north._id });
  schools.s1 = await createSchool(district, { code: 'S1', name: 'South One', region: south._id });
  schools.x1 = await createSchool(district, { code: 'X1', name: 'Unregioned One' });
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2020-01-31' } });
  const ids: string[] = [];
  const person = async (school: keyof typeof schools, n: number, done: boolean, extra: Parameters<typeof createUser>[1] = {}) => {
    const user = await createUser(district, { name: `${school.toUpperCase()} person ${n}`, email: `${school}-${n}@regions.example`, schools: [schools[school]], jobTitle: 'teacher', ...extra });
    ids.push(String(user._id));
    if (done) await complete(user, 'foundations', 1, new Date(Date.now() - 86_400_000));
  };
  await person('n1', 1, true);
  await person('n1', 2, true);
  await person('n1', 3, false);
  await person('n2', 1, false);
  await person('n2', 2, false);
  await person('s1', 1, true);
  await person('s1', 2, false);
  await person('x1', 1, false);
  // At two schools in two regions: counted once, in the region of their first school (North).
  await person('n1', 4, false, { name: 'Two Regions Driver', email: 'driver@regions.example', schools: [schools.n1, schools.s1], jobTitle: 'bus_driver' });
  await syncComplianceForUsers(ids);
  await createUser(district, { role: 'district_admin', email: 'admin@regions.example' });
  await createUser(district, { role: 'principal', email: 'principal@regions.example', schools: [schools.n1] });
  await createUser(district, { role: 'staff', email: 'staff@regions.example', schools: [schools.n1] });
  [admin, principal, staff] = await Promise.all(['admin', 'principal', 'staff'].map((who) => signIn(t.app, `${who}@regions.example`)));
});

afterAll(async () => {
  await t.close();
});

describe('GET /district with regions', () => {
  test('when anonymous, then sign-in; when a principal or staff use the region filter, then 403', async () => {
    const anonymous = await request(t.app).get(`/district?region=${north._id}`);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toMatch(/^\/login/);
    expect((await principal.get(`/district?region=${north._id}`)).status).toBe(403);
    expect((await staff.get('/district?region=none')).status).toBe(403);
  });

  test('when the admin opens it, then the rollup has a row per region and "No region", with the figures of the stored compliance rows, each linking to the filtered view', async () => {
    const res = await admin.get('/district');
    expect(res.status).toBe(200);
    const figures = async (ids: Types.ObjectId[], schoolCount: number) => {
      const e = await expectedFigures(ids);
      return [String(schoolCount), String(e.staff), String(e.assigned), String(e.completed), String(e.overdue)];
    };
    const northFigures = await figures([schools.n1._id, schools.n2._id], 2);
    // North: N1's four (the driver's first school) and N2's two; two completed, the rest overdue.
    expect(northFigures).toEqual(['2', '6', '6', '2', '4']);
    expect(rollupRow(res.text, 'Region North')).toEqual([...northFigures, '33.3%']);
    expect(rollupRow(res.text, 'Region South')).toEqual([...(await figures([schools.s1._id], 1)), '50%']);
    expect(rollupRow(res.text, 'No region')).toEqual([...(await figures([schools.x1._id], 1)), '0%']);
    expect(rollupRow(res.text, 'Region Empty')).toEqual(['0', '0', '0', '0', '0', '—']);
    expect(res.text).toContain(`href="/district?region=${north._id}"`);
    expect(res.text).toContain('href="/district?region=none"');
    // The rows add up to the district's figures: 3 of 9 completed.
    expect(res.text).toContain('3 of 9 required trainings completed');
    // The school list names each school's region; the filter offers every region and "No region".
    expect(res.text).toMatch(/>North Two<\/a><\/th>\s*<td>Region North<\/td>/);
    expect(res.text).toMatch(/>Unregioned One<\/a><\/th>\s*<td>No region<\/td>/);
    expect(res.text).toContain('<label for="filter-region">Region</label>');
    expect(res.text).toContain(`<option value="${south._id}">Region South (SOUTH)</option>`);
    expect(res.text).toContain('<option value="none">No region</option>');
    expect(res.text).not.toContain('Faraway Region');
  });

  test('when filtered by a region, then only its schools and its own totals, the choice is kept in the form, sort links and downloads', async () => {
    const res = await admin.get(`/district?region=${north._id}&module=foundations&sort=name`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Totals — Region North');
    expect(res.text).toContain('2 of 6 required trainings completed');
    expect(res.text).toContain('>North One<');
    expect(res.text).toContain('>North Two<');
    expect(res.text).not.toContain('>South One<');
    expect(res.text).not.toContain('>Unregioned One<');
    expect(res.text).toContain('2 matching');
    expect(res.text).toContain(`<option value="${north._id}" selected>`);
    expect(res.text).toContain(`href="/district?region=${north._id}&amp;module=foundations&amp;sort=code"`);
    expect(res.text).toContain(`href="/reports/compliance.csv?region=${north._id}&amp;module=foundations"`);
    expect(res.text).toContain(`<input type="hidden" name="region" value="${north._id}">`);
    expect(rollupRow(res.text, 'Region North')[0]).toBe('2');
    expect(res.text).toContain('aria-current="page">Region North</a>');
  });

  test('when filtered by "none", then only the schools without a region (no district-office line)', async () => {
    const res = await admin.get('/district?region=none');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Totals — No region');
    expect(res.text).toContain('0 of 1 required trainings completed');
    expect(res.text).toContain('>Unregioned One<');
    expect(res.text).not.toContain('>North One<');
    expect(res.text).toContain('1 matching');
  });

  test("when the region is another district's or made up, then 404; when it is not an id, then 400", async () => {
    expect((await admin.get(`/district?region=${foreignRegion._id}`)).status).toBe(404);
    expect((await admin.get('/district?region=0123456789abcdef01234567')).status).toBe(404);
    expect((await admin.get('/district?region=south')).status).toBe(400);
  });

  test('when the district sets a small-group threshold, then small regions are hidden in the rollup and a small region filter hides its totals', async () => {
    await District.updateOne({ _id: district._id }, { $set: { 'settings.smallGroupThreshold': 3 } });
    try {
      const res = await admin.get('/district');
      expect(rollupRow(res.text, 'Region North')).toEqual(['2', '6', '6', '2', '4', '33.3%']);
      expect(rollupRow(res.text, 'Region South')).toEqual(['1', '—', '—', '—', '—', 'hidden']);
      expect(rollupRow(res.text, 'No region')).toEqual(['1', '—', '—', '—', '—', 'hidden']);
      const filtered = await admin.get(`/district?region=${south._id}`);
      expect(filtered.text).toContain('Fewer than 3 people: the totals are hidden to protect privacy.');
      expect(filtered.text).not.toContain('1 of 2 required trainings completed');
    } finally {
      await District.updateOne({ _id: district._id }, { $set: { 'settings.smallGroupThreshold': 0 } });
    }
  });

  test('when read in Spanish, then the rollup and the filter are in Spanish', async () => {
    const res = await admin.get('/district?lang=es');
    await admin.get('/district?lang=en');
    expect(res.text).toContain('<label for="filter-region">Región</label>');
    expect(res.text).toContain('Cumplimiento por región');
    expect(res.text).toContain('>Sin región</a>');
  });
});

describe('exports with regions', () => {
  test('when the district is exported, then every row names the region of its schools (both, for a person at two regions)', async () => {
    const res = await download(admin, '/reports/compliance.csv');
    expect(res.status).toBe(200);
    const records = csvOf(res);
    expect(Object.keys(records[0]).slice(3, 7)).toEqual(['School code', 'School', 'Region code', 'Region']);
    const byEmail = new Map(records.map((r) => [r.Email, r]));
    expect(byEmail.get('n2-1@regions.example')).toMatchObject({ 'Region code': 'NORTH', Region: 'Region North' });
    expect(byEmail.get('driver@regions.example')).toMatchObject({ 'School code': 'N1; S1', 'Region code': 'NORTH; SOUTH', Region: 'Region North; Region South' });
    expect(byEmail.get('x1-1@regions.example')).toMatchObject({ 'Region code': '', Region: '' });
  });

  test('when a CSV is filtered by region, then only the people at its schools, and the audit event records the region', async () => {
    const res = await download(admin, `/reports/compliance.csv?region=${south._id}`);
    expect(res.status).toBe(200);
    expect(csvOf(res).map((r) => r.Email).sort()).toEqual(['driver@regions.example', 's1-1@regions.example', 's1-2@regions.example']);
    const audit = await AuditEvent.findOne({ action: 'compliance.exported', 'details.format': 'csv' }).sort({ at: -1 }).lean().orFail();
    expect(audit).toMatchObject({ target: { kind: 'district' }, details: { rowCount: 3, complete: true, filters: { school: null, region: 'SOUTH' } } });
    const none = await download(admin, '/reports/compliance.csv?region=none');
    expect(csvOf(none).map((r) => r.Email)).toEqual(['x1-1@regions.example']);
    const noneAudit = await AuditEvent.findOne({ action: 'compliance.exported' }).sort({ at: -1 }).lean().orFail();
    expect(noneAudit.details).toMatchObject({ filters: { region: 'none' } });
    const log = await admin.get('/admin/audit');
    expect(log.text).toContain('filters: schools without a region');
    expect(log.text).toContain('filters: region SOUTH');
  });

  test("when an export names another district's region, then 404 and nothing is audited; principals cannot export a region (403 for staff)", async () => {
    const before = await AuditEvent.countDocuments({ action: 'compliance.exported' });
    expect((await admin.get(`/reports/compliance.csv?region=${foreignRegion._id}`)).status).toBe(404);
    expect((await admin.get(`/reports/compliance.pdf?region=${foreignRegion._id}`)).status).toBe(404);
    expect((await staff.get(`/reports/compliance.csv?region=${north._id}`)).status).toBe(403);
    expect(await AuditEvent.countDocuments({ action: 'compliance.exported' })).toBe(before);
    // A principal's export is their school's, whatever region they name: the rows are their school's.
    const own = await download(principal, `/reports/compliance.csv?region=${south._id}`);
    expect(own.status).toBe(200);
    expect(new Set(csvOf(own).map((r) => r['School code'].split('; ')[0]))).toEqual(new Set(['N1']));
  });

  test('when an XLSX is filtered by region, then its rows carry the region columns', async () => {
    const res = await download(admin, `/reports/compliance.xlsx?region=${north._id}`);
    expect(res.status).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(res.body as never);
    const sheet = workbook.worksheets[0];
    expect([sheet.getRow(1).getCell(6).value, sheet.getRow(1).getCell(7).value]).toEqual(['Region code', 'Region']);
    expect(sheet.rowCount).toBe(7);
    const regions = new Set([2, 3, 4, 5, 6, 7].map((n) => String(sheet.getRow(n).getCell(6).value)));
    expect(regions).toEqual(new Set(['NORTH', 'NORTH; SOUTH']));
  });

  test('when the board PDF is district-wide, then it has the per-region rollup; filtered by region, then the region and its totals', async () => {
    const whole = await pdfText((await download(admin, '/reports/compliance.pdf')).body as Buffer);
    expect(whole.text).toContain('Regions');
    expect(whole.text).toContain('Region North (NORTH)');
    expect(whole.text).toContain('No region');
    const one = await pdfText((await download(admin, `/reports/compliance.pdf?region=${south._id}`)).body as Buffer);
    expect(one.text).toContain('Region: Region South (SOUTH)');
    expect(one.text).toContain('Region totals');
    expect(one.text).toContain('1 of 2 required trainings completed (50% compliant)');
    expect(one.text).not.toContain('North One');
    const audit = await AuditEvent.findOne({ action: 'compliance.exported', 'details.format': 'pdf' }).sort({ at: -1 }).lean().orFail();
    expect(audit.details).toMatchObject({ filters: { region: 'SOUTH' }, rowCount: 1 });
  });

  test('when a background export is asked from a region-filtered dashboard, then the job keeps the region, its page names it, and the file holds only that region', async () => {
    const csrf = await csrfFor(admin, '/district');
    const asked = await admin.post('/reports/exports').type('form').send({ _csrf: csrf, format: 'csv', region: String(south._id) });
    expect(asked.status).toBe(303);
    const id = /([0-9a-f]{24})$/.exec(String(asked.headers.location))![1];
    expect((await ExportJob.findById(id).lean().orFail()).filters?.region).toBe(String(south._id));
    expect((await admin.get(`/reports/exports/${id}`)).text).toContain('Region South');
    await runQueuedExportJobs();
    const job = await ExportJob.findById(id).lean().orFail();
    expect(job.state).toBe('done');
    expect(job.progress?.total).toBe(3);
    const file = await download(admin, `/reports/exports/${id}/download`);
    expect(csvOf(file).map((r) => r.Email).sort()).toEqual(['driver@regions.example', 's1-1@regions.example', 's1-2@regions.example']);
    const audit = await AuditEvent.findOne({ action: 'compliance.exported', requestId: `export-job:${id}` }).lean().orFail();
    expect(audit.details).toMatchObject({ filters: { region: 'SOUTH' }, rowCount: 3 });
  });

  test("when a background export names another district's region, then 404 and no job", async () => {
    const before = await ExportJob.countDocuments();
    const csrf = await csrfFor(admin, '/district');
    const asked = await admin.post('/reports/exports').type('form').send({ _csrf: csrf, format: 'csv', region: String(foreignRegion._id) });
    expect(asked.status).toBe(404);
    expect(await ExportJob.countDocuments()).toBe(before);
  });
});

describe('deleting a region', () => {
  test('when a principal or staff try, then 403; another district\'s region, then 404; without a CSRF token, then 403; nothing is deleted', async () => {
    expect((await principal.get(`/admin/regions/${north._id}/delete`)).status).toBe(403);
    const principalCsrf = await csrfFor(principal);
    expect((await principal.post(`/admin/regions/${north._id}/delete`).type('form').send({ _csrf: principalCsrf })).status).toBe(403);
    expect((await staff.get(`/admin/regions/${north._id}/delete`)).status).toBe(403);
    expect((await admin.get(`/admin/regions/${foreignRegion._id}/delete`)).status).toBe(404);
    const csrf = await csrfFor(admin);
    expect((await admin.post(`/admin/regions/${foreignRegion._id}/delete`).type('form').send({ _csrf: csrf })).status).toBe(404);
    expect((await admin.post(`/admin/regions/${north._id}/delete`).type('form').send({})).status).toBe(403);
    expect(await Region.countDocuments({ _id: { $in: [north._id, foreignRegion._id] } })).toBe(2);
  });

  test('when the admin opens the confirm page from the edit page, then it says how many schools are in the region', async () => {
    const edit = await admin.get(`/admin/regions/${north._id}`);
    expect(edit.text).toContain(`href="/admin/regions/${north._id}/delete"`);
    const res = await admin.get(`/admin/regions/${north._id}/delete`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Delete Region North?');
    expect(res.text).toContain('2 schools are in this region.');
    expect(res.text).toMatch(/<form method="post" action="\/admin\/regions\/[0-9a-f]{24}\/delete">\s*<input type="hidden" name="_csrf"/);
  });

  test('when the admin deletes it, then its schools have no region (their own contacts stay), the contact memos are dropped, and it is audited and told as a sentence', async () => {
    // Memoised before: the school's context includes the region's desk.
    expect((await getSchoolContactContext(String(district._id), String(schools.n1._id))).contacts.region_operations?.name).toBe('North Ops Desk');
    expect(await getRegionContacts(String(district._id), String(north._id))).not.toBeNull();
    const csrf = await csrfFor(admin, `/admin/regions/${north._id}/delete`);
    const res = await admin.post(`/admin/regions/${north._id}/delete`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/regions');
    expect((await admin.get('/admin/regions')).text).toContain('Region deleted. Its schools now have no region.');
    expect(await Region.exists({ _id: north._id })).toBeNull();
    const [n1, n2] = await Promise.all([School.findById(schools.n1._id).lean().orFail(), School.findById(schools.n2._id).lean().orFail()]);
    expect(n1.region).toBeUndefined();
    expect(n2.region).toBeUndefined();
    expect(Object.fromEntries(Object.entries(n1.contacts ?? {}))).toEqual({ principal: { name: 'Principal Own', phone: '' } });
    expect(await getRegionContacts(String(district._id), String(north._id))).toBeNull();
    const context = await getSchoolContactContext(String(district._id), String(schools.n1._id));
    expect(context.contacts.region_operations?.name).not.toBe('North Ops Desk');
    expect(context.contacts.principal?.name).toBe('Principal Own');
    const event = await AuditEvent.findOne({ action: 'region.deleted', 'target.id': String(north._id) }).lean().orFail();
    expect(event.details).toEqual({ code: 'NORTH', name: 'Region North', schools: 2 });
    const log = await admin.get('/admin/audit');
    expect(log.text).toContain('Deleted the region “Region North” (NORTH); its 2 schools now have no region.');
    // The dashboard now counts those schools under "No region".
    const dashboard = await admin.get('/district');
    expect(rollupRow(dashboard.text, 'No region').slice(0, 2)).toEqual(['3', '7']);
    expect(dashboard.text).not.toContain('>Region North</a>');
    expect((await admin.get(`/district?region=${north._id}`)).status).toBe(404);
  });

  test('when a queued export names a region deleted before it runs, then the job fails with a reason', async () => {
    const csrf = await csrfFor(admin, '/district');
    const asked = await admin.post('/reports/exports').type('form').send({ _csrf: csrf, format: 'xlsx', region: String(empty._id) });
    const id = /([0-9a-f]{24})$/.exec(String(asked.headers.location))![1];
    const deleteCsrf = await csrfFor(admin, `/admin/regions/${empty._id}/delete`);
    expect((await admin.post(`/admin/regions/${empty._id}/delete`).type('form').send({ _csrf: deleteCsrf })).status).toBe(303);
    await runQueuedExportJobs();
    const job = await ExportJob.findById(id).lean().orFail();
    expect(job.state).toBe('failed');
    expect(job.error).toBe('This region no longer exists.');
  });
  test('when a school form wrote the school into a region after the deletion had detached its schools, then the writer\'s own check takes it out again: no school is left in a deleted region', async () => {
    const actor = toActor(await User.findOne({ email: 'admin@regions.example' }).lean().orFail());
    const race = await Region.create({ district: district._id, code: 'RACE', name: 'Region Race' });
    const school = await createSchool(district, { code: 'R1', name: 'Race One' });
    // The region still exists: the write stands.
    await School.updateOne({ _id: school._id }, { $set: { region: race._id } });
    expect(await settleSchoolRegion(actor, String(school._id), String(race._id))).toBe(true);
    expect(String((await School.findById(school._id).lean().orFail()).region)).toBe(String(race._id));
    // The deletion ran between the form's check and its write (both detaches done, record gone), then the write landed.
    await deleteRegion(actor, String(race._id));
    await School.updateOne({ _id: school._id }, { $set: { region: race._id } });
    expect(await settleSchoolRegion(actor, String(school._id), String(race._id))).toBe(false);
    expect((await School.findById(school._id).lean().orFail()).region).toBeUndefined();
  });

  test('when the school form and the deletion run at the same time, then whichever wins, the school is in an existing region or in none', async () => {
    const csrf = await csrfFor(admin, '/admin/schools');
    for (let round = 0; round < 4; round += 1) {
      const region = await Region.create({ district: district._id, code: `RACE${round}`, name: `Race ${round}` });
      const school = await createSchool(district, { code: `RC${round}`, name: `Race school ${round}` });
      const [saved, deleted] = await Promise.all([
        admin.post(`/admin/schools/${school._id}`).type('form').send({ _csrf: csrf, code: `RC${round}`, name: `Race school ${round}`, region: String(region._id) }),
        admin.post(`/admin/regions/${region._id}/delete`).type('form').send({ _csrf: csrf }),
      ]);
      expect([saved.status, deleted.status].every((status) => status === 303 || status === 422)).toBe(true);
      const stored = await School.findById(school._id).lean().orFail();
      if (stored.region) expect(await Region.exists({ _id: stored.region })).not.toBeNull();
      expect(await Region.exists({ _id: region._id })).toBeNull();
    }
  });
});
