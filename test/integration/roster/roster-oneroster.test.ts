import mongoose from 'mongoose';
import ExcelJS from 'exceljs';
import { AuditEvent } from '../../../src/components/audit';
import { RosterPreview, RosterPreviewRow, RosterProblem } from '../../../src/components/roster';
import { User } from '../../../src/components/users';
import { clearDatabase, startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { buildZip, bulkManifest, oneRosterZip, orgRow, roleRow, userRow, type OneRosterFiles } from '../../helpers/zip';
import { apply, applyAndRun, previewIdFrom, upload } from './roster.helpers';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let adminAgent: Agent;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

beforeEach(async () => {
  await clearDatabase();
  district = await createDistrict();
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  const admin = await createUser(district, { role: 'district_admin', email: 'admin@test.example', employeeId: 'A1' });
  adminAgent = await signIn(t.app, admin.email);
});

const ORGS = [orgRow('org-d', 'district', 'DISTRICT'), orgRow('org-lin', 'school', 'LIN'), orgRow('org-roo', 'school', 'ROO')];

/** A typical SIS export: staff of every mapped role, students, a guardian, a district administrator and a disabled aide. */
function sisExport(overrides: Partial<OneRosterFiles> = {}): Buffer {
  return oneRosterZip({
    orgs: ORGS,
    users: [
      userRow({ sourcedId: 'stu-1', givenName: 'Sofia', familyName: 'Studentname', email: 'sofia.kid@students.example', identifier: 'S9001' }), // line 2
      userRow({ sourcedId: 'tch-1', givenName: 'Teresa', familyName: 'Ortiz', email: 'teresa.ortiz@test.example', identifier: 'E100' }), // line 3
      userRow({ sourcedId: 'cns-1', givenName: 'Carlos', preferredGivenName: 'Charlie', familyName: 'Nuñez', email: 'carlos.nunez@test.example', userMasterIdentifier: 'M200' }), // line 4
      userRow({ sourcedId: 'prn-1', givenName: 'Paula', familyName: 'Reyes', email: 'paula.reyes@test.example', identifier: 'E300' }), // line 5
      userRow({ sourcedId: 'prc-1', givenName: 'Pedro', familyName: 'Castillo', email: 'pedro.castillo@test.example' }), // line 6
      userRow({ sourcedId: 'grd-1', givenName: 'Gloria', familyName: 'Guardianname', email: 'gloria.home@family.example' }), // line 7
      userRow({ sourcedId: 'adm-1', givenName: 'Diana', familyName: 'Admin', email: 'diana.admin@test.example', identifier: 'E500' }), // line 8
      userRow({ sourcedId: 'aid-9', givenName: 'Old', familyName: 'Aide', email: 'old.aide@test.example', identifier: 'E600', enabledUser: 'false' }), // line 9
      userRow({ sourcedId: 'stu-2', givenName: 'Mateo', familyName: 'Kidname', email: 'mateo.kid@students.example', identifier: 'S9002' }), // line 10
    ],
    roles: [
      roleRow('stu-1', 'student', 'org-lin'),
      roleRow('tch-1', 'teacher', 'org-lin'),
      roleRow('cns-1', 'counselor', 'org-roo', 'primary'),
      roleRow('cns-1', 'aide', 'org-lin', 'secondary'),
      roleRow('prn-1', 'principal', 'org-roo'),
      roleRow('prc-1', 'proctor', 'org-lin'),
      roleRow('grd-1', 'guardian', 'org-lin'),
      roleRow('adm-1', 'districtAdministrator', 'org-d'),
      roleRow('aid-9', 'aide', 'org-lin'),
      roleRow('stu-2', 'student', 'org-roo'),
    ],
    ...overrides,
  });
}

/** Every document of every collection, as text: what the database keeps. */
async function everythingStored(): Promise<string> {
  const db = mongoose.connection.db!;
  const parts: string[] = [];
  for (const { name } of await db.listCollections().toArray()) parts.push(JSON.stringify(await db.collection(name).find({}).toArray()));
  return parts.join('\n');
}

const STUDENT_TRACES = /Sofia|Studentname|sofia\.kid|S9001|stu-1|Mateo|Kidname|S9002|stu-2|Gloria|Guardianname|gloria\.home|grd-1/;

async function nothingStored() {
  expect(await RosterPreview.countDocuments()).toBe(0);
  expect(await RosterPreviewRow.countDocuments()).toBe(0);
  expect(await RosterProblem.countDocuments()).toBe(0);
  expect(await User.countDocuments({ district: district._id })).toBe(1);
}

describe('a OneRoster 1.2 zip', () => {
  test('when a SIS export is uploaded, then the preview says OneRoster with its counts, and apply creates the staff with their roles, schools and job titles — and nothing about students', async () => {
    const res = await upload(adminAgent, sisExport(), { fileName: 'oneroster.zip' });
    expect(res.status).toBe(303);
    const id = previewIdFrom(res.headers.location);
    const page = await adminAgent.get(`/admin/roster/previews/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Read as a OneRoster 1.2 file: line numbers are lines of users.csv.');
    expect(page.text).toContain('OneRoster files usually list teaching staff only');
    expect(page.text).toMatch(/data-count="rows">4</);
    expect(page.text).toMatch(/data-count="principals">1</);
    expect(page.text).toMatch(/data-count="skippedNonStaff">3</);
    expect(page.text).toMatch(/data-count="skippedAdmins">1</);
    expect(page.text).toMatch(/data-count="skippedDisabled">1</);
    expect(page.text).toMatch(/data-count="create">4</);
    expect(page.text).not.toMatch(STUDENT_TRACES);
    const preview = await RosterPreview.findById(id).lean();
    expect(preview).toMatchObject({ format: 'oneroster_1_2', state: 'ready', counts: { rows: 4, create: 4, errors: 0 }, oneRoster: { principals: 1, skippedNonStaff: 3, skippedAdmins: 1, skippedDisabled: 1 } });
    const rows = await RosterPreviewRow.find({ preview: id }).sort({ seq: 1 }).lean();
    expect(rows.map((r) => r.line)).toEqual([3, 4, 5, 6]);
    const stored = await everythingStored();
    // The scan sees the staff rows the preview keeps, and no trace of a student or a guardian.
    expect(stored).toContain('teresa.ortiz@test.example');
    expect(stored).not.toMatch(STUDENT_TRACES);

    const applied = await applyAndRun(adminAgent, id);
    expect(applied.status).toBe(303);
    const people = await User.find({ district: district._id, role: { $ne: 'district_admin' } }).sort({ employeeId: 1 }).lean();
    expect(people.map((p) => [p.employeeId, p.name, p.email, p.role, p.jobTitle ?? null, p.schools.map(String).sort()])).toEqual([
      ['E100', 'Teresa Ortiz', 'teresa.ortiz@test.example', 'staff', 'teacher', [String(lincoln._id)]],
      ['E300', 'Paula Reyes', 'paula.reyes@test.example', 'principal', null, [String(roosevelt._id)]],
      ['M200', 'Charlie Nuñez', 'carlos.nunez@test.example', 'staff', 'counselor', [String(lincoln._id), String(roosevelt._id)].sort()],
      ['prc-1', 'Pedro Castillo', 'pedro.castillo@test.example', 'staff', 'other', [String(lincoln._id)]],
    ]);
    expect(await User.exists({ email: 'diana.admin@test.example' })).toBeNull();
    expect(await User.exists({ email: 'old.aide@test.example' })).toBeNull();
    const audit = await AuditEvent.findOne({ action: 'roster.imported' }).lean();
    expect(audit!.details).toMatchObject({ format: 'oneroster_1_2', fileName: 'oneroster.zip', created: 4 });
    expect(await everythingStored()).not.toMatch(STUDENT_TRACES);
  });

  test('when a school identifier is not a school code of the district, then the problem names the users.csv line and column, and no student appears in the problems', async () => {
    const zip = sisExport({
      orgs: [...ORGS, orgRow('org-x', 'school', 'XYZ')],
      roles: [roleRow('stu-1', 'student', 'org-x'), roleRow('tch-1', 'teacher', 'org-x'), roleRow('cns-1', 'counselor', 'org-roo'), roleRow('prn-1', 'principal', 'org-missing'), roleRow('stu-2', 'student', 'org-missing')],
    });
    const res = await upload(adminAgent, zip);
    expect(res.status).toBe(422);
    const found = [...res.text.matchAll(/data-line="(\d+)" data-column="([a-z_]*)" data-code="([a-z_]+)"/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
    expect(found).toEqual(['3:school_codes:school_unknown', '5:school_codes:school_unknown']);
    expect(res.text).toContain('“XYZ” is not a school code of this district.');
    expect(res.text).toContain('orgSourcedId (roles.csv) → identifier or sourcedId (orgs.csv)');
    expect(res.text).toContain('“orgs.csv?org-missing” is not a school code of this district.');
    const problems = await RosterProblem.find().sort({ line: 1 }).lean();
    expect(problems.map((p) => [p.line, p.problems])).toEqual([
      [3, [{ column: 'school_codes', code: 'school_unknown' }]],
      [5, [{ column: 'school_codes', code: 'school_unknown' }]],
    ]);
    const preview = await RosterPreview.findOne().lean();
    expect(preview!.state).toBe('invalid');
    expect(await everythingStored()).not.toMatch(STUDENT_TRACES);
    const csvRes = await adminAgent.get(`/admin/roster/previews/${preview!._id}/problems.csv`);
    expect(csvRes.text).not.toMatch(STUDENT_TRACES);
  });

  test('when "complete roster" is ticked, then a disabled user already in the district is deactivated and the preview warns about non-teaching staff', async () => {
    await createUser(district, { employeeId: 'E600', email: 'old.aide@test.example', schools: [lincoln], jobTitle: 'paraeducator' });
    await createUser(district, { employeeId: 'E700', email: 'bus@test.example', schools: [lincoln], jobTitle: 'bus_driver' });
    const partial = await upload(adminAgent, sisExport());
    const partialPage = await adminAgent.get(`/admin/roster/previews/${previewIdFrom(partial.headers.location)}`);
    expect(partialPage.text).toContain('none (not a complete roster)');
    const res = await upload(adminAgent, sisExport(), { complete: true });
    const id = previewIdFrom(res.headers.location);
    const page = await adminAgent.get(`/admin/roster/previews/${id}`);
    expect(page.text).toContain('This OneRoster file is marked as the complete roster');
    expect(page.text).toMatch(/data-count="deactivate">2</);
    expect((await applyAndRun(adminAgent, id, { confirm: '2' })).status).toBe(303);
    expect((await User.findOne({ employeeId: 'E600' }).lean())!.active).toBe(false);
    expect((await User.findOne({ employeeId: 'E700' }).lean())!.active).toBe(false);
  });

  test('when the roster page is opened, then it explains OneRoster files in English and Spanish and accepts .zip', async () => {
    const en = await adminAgent.get('/admin/roster');
    expect(en.text).toContain('OneRoster 1.2 files');
    expect(en.text).toContain('accept=".csv,text/csv,.zip,application/zip"');
    expect(en.text).toContain('do not tick “complete roster” with a OneRoster file unless it lists all staff');
    const es = await adminAgent.get('/admin/roster?lang=es');
    expect(es.text).toContain('Archivos de OneRoster 1.2');
  });
});

describe('refused zips', () => {
  test('when a real .xlsx workbook is uploaded, then it keeps the spreadsheet refusal', async () => {
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('Staff').addRow(['employee_id', 'email']);
    const xlsx = Buffer.from(await workbook.xlsx.writeBuffer());
    const res = await upload(adminAgent, xlsx, { fileName: 'roster.xlsx' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('This is a spreadsheet (Excel) file, not CSV.');
    await nothingStored();
  });

  const bomb = Buffer.concat([Buffer.from('sourcedId,enabledUser,givenName,familyName\n'), Buffer.alloc(8 * 1024 * 1024, 0x61)]);
  test.each([
    ['truncated', () => sisExport().subarray(0, 200), 'If it is a OneRoster 1.2 zip, it is damaged'],
    ['damaged inside', () => sisExport({ extra: [{ name: 'users.csv', data: 'x', body: Buffer.from([0xff, 0xfe, 0x00, 0x13]) }] }), 'The zip file is damaged'],
    ['a zip bomb (declared)', () => sisExport({ extra: [{ name: 'enrollments.csv', data: 'a', declaredSize: 300 * 1024 * 1024 }] }), 'larger than 200 MB once unpacked'],
    ['a zip bomb (lying about its size)', () => sisExport({ extra: [{ name: 'users.csv', data: bomb, declaredSize: 4096 }] }), 'larger than 200 MB once unpacked'],
    ['path traversal', () => sisExport({ extra: [{ name: '../../etc/cron.d/x', data: 'x' }] }), 'points outside the archive (../../etc/cron.d/x)'],
    ['an absolute path', () => sisExport({ extra: [{ name: '/tmp/x.csv', data: 'x' }] }), 'points outside the archive'],
    ['encrypted', () => sisExport({ extra: [{ name: 'users.csv', data: 'x', encrypted: true }] }), 'password-protected'],
    ['a delta export', () => sisExport({ manifest: bulkManifest({ 'file.users': 'delta' }) }), 'This is a OneRoster delta export (users.csv)'],
    ['version 1.1', () => sisExport({ manifest: bulkManifest({ 'oneroster.version': '1.1' }) }), 'This OneRoster file is version 1.1'],
    ['users absent', () => sisExport({ manifest: bulkManifest({ 'file.users': 'absent' }) }), 'does not include users.csv'],
    ['too many entries', () => sisExport({ extra: Array.from({ length: 60 }, (_, i) => ({ name: `x${i}.csv`, data: 'a' })) }), 'has 64 files inside'],
    ['no staff', () => sisExport({ roles: [roleRow('stu-1', 'student', 'org-lin')] }), 'The OneRoster file lists no staff'],
    ['a users.csv without enabledUser', () => sisExport({ extra: [{ name: 'users.csv', data: 'sourcedId,givenName,familyName\n' }] }), 'Missing required column(s): enabledUser. (in users.csv)'],
  ])('when the zip is %s, then 422 with the reason and nothing stored', async (_label, make, message) => {
    const res = await upload(adminAgent, make(), { fileName: 'oneroster.zip' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="error-summary"');
    expect(res.text).toContain(message);
    await nothingStored();
    expect(await AuditEvent.countDocuments({ action: 'roster.imported' })).toBe(0);
  });

  test('when a refusal is shown in Spanish, then its reason is in Spanish', async () => {
    // The language chosen on a page stays for the session.
    expect((await adminAgent.get('/admin/roster?lang=es')).text).toContain('<html lang="es"');
    const es = await upload(adminAgent, sisExport({ manifest: bulkManifest({ 'file.roles': 'delta' }) }), { fileName: 'oneroster.zip' });
    expect(es.status).toBe(422);
    expect(es.text).toContain('Esta es una exportación parcial (delta) de OneRoster (roles.csv)');
    await nothingStored();
  });

  test('when a zip is refused, then the server keeps answering and a good file still imports', async () => {
    await upload(adminAgent, buildZip([{ name: 'manifest.csv', data: 'propertyName,value\noneroster.version,1.2\n' }]));
    const res = await upload(adminAgent, sisExport());
    expect(res.status).toBe(303);
    expect((await apply(adminAgent, previewIdFrom(res.headers.location))).status).toBe(303);
  });
});
