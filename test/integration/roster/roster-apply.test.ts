import mongoose from 'mongoose';
import { runQueuedComplianceJobs } from '../../../src/components/assignments';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { createAssignment, publishModule } from '../assignments/compliance-fixtures';
import { AuditEvent } from '../../../src/components/audit';
import { RosterPreview, runQueuedRosterImports } from '../../../src/components/roster';
import { User } from '../../../src/components/users';
import { clearDatabase, startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createRegion, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { apply, applyAndRun, csv, importIdFrom, previewIdFrom, upload } from './roster.helpers';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let adminAgent: Agent;
let admin: Awaited<ReturnType<typeof createUser>>;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

beforeEach(async () => {
  await clearDatabase();
  district = await createDistrict();
  lincoln = await createSchool(district, { code: 'LIN' });
  admin = await createUser(district, { role: 'district_admin', email: 'admin@test.example', employeeId: 'A1' });
  adminAgent = await signIn(t.app, admin.email);
});

/** Ten active staff E01…E10 at Lincoln. */
async function seedStaff(n = 10) {
  for (let i = 1; i <= n; i++) {
    const id = `E${String(i).padStart(2, '0')}`;
    await createUser(district, { employeeId: id, email: `${id.toLowerCase()}@test.example`, name: `Person ${id}`, schools: [lincoln], jobTitle: 'teacher' });
  }
}

function rowFor(i: number): string[] {
  const id = `E${String(i).padStart(2, '0')}`;
  return [id, `${id.toLowerCase()}@test.example`, `Person ${id}`, 'staff', 'teacher', 'LIN', '', ''];
}

async function preview(rows: string[][], complete = false): Promise<string> {
  const res = await upload(adminAgent, csv(rows), { complete });
  expect(res.status).toBe(303);
  return previewIdFrom(res.headers.location);
}

const activeIds = async () => (await User.find({ district: district._id, active: true, role: 'staff' }).sort({ employeeId: 1 }).lean()).map((u) => u.employeeId);

describe('complete roster', () => {
  test('when the file is not marked complete, then people missing from it stay active', async () => {
    await seedStaff();
    const id = await preview([rowFor(1)]);
    expect((await applyAndRun(adminAgent, id)).status).toBe(303);
    expect(await activeIds()).toHaveLength(10);
  });

  test('when a complete roster leaves out one person (under the threshold), then they are deactivated, not deleted, and admins are never touched', async () => {
    await seedStaff();
    const id = await preview([1, 2, 3, 4, 5, 6, 7, 8, 9].map(rowFor), true);
    const page = await adminAgent.get(`/admin/roster/previews/${id}`);
    expect(page.text).toContain('data-count="deactivate">1<');
    expect(page.text).not.toContain('name="confirm"');
    expect((await applyAndRun(adminAgent, id)).status).toBe(303);
    const gone = await User.findOne({ employeeId: 'E10' }).lean();
    expect(gone!.active).toBe(false);
    expect(await User.countDocuments({ district: district._id })).toBe(11);
    expect((await User.findById(admin._id).lean())!.active).toBe(true);
    const audit = await AuditEvent.findOne({ action: 'roster.imported' }).lean();
    expect(audit!.details).toMatchObject({ completeRoster: true, deactivated: 1 });
  });

  test('when a complete roster leaves out a region administrator, then they stay active; a row for one that changes something is refused; one that changes nothing is fine', async () => {
    await seedStaff();
    const north = await createRegion(district, { code: 'NORTH' });
    const overseer = await createUser(district, { role: 'region_admin', regions: [north], schools: [lincoln], employeeId: 'R1', email: 'r1@test.example', name: 'Region One' });
    const left = await preview([1, 2, 3, 4, 5, 6, 7, 8, 9].map(rowFor), true);
    expect((await applyAndRun(adminAgent, left)).status).toBe(303);
    expect((await User.findOne({ employeeId: 'E10' }).lean())!.active).toBe(false);
    expect(await User.findById(overseer._id).lean()).toMatchObject({ active: true, role: 'region_admin' });
    // Listed by HR as staff under another name (a change): refused, with the reason; listed as they are (the role column is
    // not compared, as for district administrators): unchanged.
    const changed = await upload(adminAgent, csv([['R1', 'r1@test.example', 'Region Renamed', 'staff', 'teacher', 'LIN', '', '']]), { complete: false });
    expect(changed.status).toBe(422);
    expect(changed.text).toContain('is a region administrator: region administrators are managed on the Staff page');
    const same = await adminAgent.get(`/admin/roster/previews/${await preview([['R1', 'r1@test.example', 'Region One', 'staff', 'teacher', 'LIN', '', '']])}`);
    expect(same.text).not.toContain('is a region administrator');
    expect((await User.findById(overseer._id).lean())!.role).toBe('region_admin');
  });

  test('when a complete roster would deactivate more than 10 %, then apply is refused until the admin types the number', async () => {
    await seedStaff();
    const id = await preview([1, 2, 3, 4, 5].map(rowFor), true);
    const page = await adminAgent.get(`/admin/roster/previews/${id}`);
    expect(page.text).toContain('This would deactivate 5 people — more than 10% of the 10 active people in the district.');
    expect(page.text).toContain('<label for="field-confirm">Type 5 to confirm the deactivations</label>');

    const missing = await apply(adminAgent, id);
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('Type the number of people to deactivate, exactly as shown, to confirm.');
    const wrong = await apply(adminAgent, id, { confirm: '10' });
    expect(wrong.status).toBe(422);
    expect(await activeIds()).toHaveLength(10);
    expect((await RosterPreview.findById(id).lean())!.state).toBe('ready');

    const confirmed = await applyAndRun(adminAgent, id, { confirm: ' 5 ' });
    expect(confirmed.status).toBe(303);
    expect(await activeIds()).toEqual(['E01', 'E02', 'E03', 'E04', 'E05']);
  });
});

describe('applying only once, only in time, only in the district', () => {
  test('when a preview is applied twice, then the second is refused and nothing changes again', async () => {
    const id = await preview([rowFor(1)]);
    expect((await applyAndRun(adminAgent, id)).status).toBe(303);
    await User.updateOne({ employeeId: 'E01' }, { $set: { name: 'Edited Since' } });
    const again = await apply(adminAgent, id);
    expect(again.status).toBe(409);
    expect(again.text).toContain('This preview has already been applied.');
    expect(await runQueuedRosterImports()).toBe(0);
    expect((await User.findOne({ employeeId: 'E01' }).lean())!.name).toBe('Edited Since');
    expect(await AuditEvent.countDocuments({ action: 'roster.imported' })).toBe(1);
  });

  test('when the preview has expired, then apply is refused (410) and the page says so', async () => {
    const id = await preview([rowFor(1)]);
    await RosterPreview.updateOne({ _id: id }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    const page = await adminAgent.get(`/admin/roster/previews/${id}`);
    expect(page.text).toContain('This preview has expired');
    expect(page.text).not.toContain(`action="/admin/roster/previews/${id}/apply"`);
    const res = await apply(adminAgent, id);
    expect(res.status).toBe(410);
    expect(await User.exists({ employeeId: 'E01' })).toBeNull();
  });

  test("when an admin of another district opens or applies the preview, then 404", async () => {
    const id = await preview([rowFor(1)]);
    const other = await createDistrict();
    const otherAdmin = await createUser(other, { role: 'district_admin', email: 'other-admin@test.example' });
    const otherAgent = await signIn(t.app, otherAdmin.email);
    expect((await otherAgent.get(`/admin/roster/previews/${id}`)).status).toBe(404);
    const token = /name="_csrf" value="([^"]+)"/.exec((await otherAgent.get('/admin/roster')).text)![1];
    const res = await otherAgent.post(`/admin/roster/previews/${id}/apply`).type('form').send({ _csrf: token });
    expect(res.status).toBe(404);
    expect((await otherAgent.get('/admin/roster/previews/not-an-id')).status).toBe(404);
    expect(await User.exists({ employeeId: 'E01' })).toBeNull();
  });

  test('when apply is posted without the CSRF token, then 403 and nothing is written', async () => {
    const id = await preview([rowFor(1)]);
    const res = await adminAgent.post(`/admin/roster/previews/${id}/apply`).type('form').send({});
    expect(res.status).toBe(403);
    expect(await User.exists({ employeeId: 'E01' })).toBeNull();
  });

  test('when a principal posts apply, then 403', async () => {
    const id = await preview([rowFor(1)]);
    const principal = await createUser(district, { role: 'principal', schools: [lincoln], email: 'p@test.example' });
    const agent = await signIn(t.app, principal.email);
    const token = /name="_csrf" value="([^"]+)"/.exec((await agent.get('/account')).text)![1];
    expect((await agent.post(`/admin/roster/previews/${id}/apply`).type('form').send({ _csrf: token })).status).toBe(403);
  });
});

describe('stale previews and imports already under way', () => {
  test('when someone in the preview was edited after Apply, then the import fails as stale, nothing is written, and the page says what to do', async () => {
    await seedStaff(3);
    const id = await preview([[...rowFor(1).slice(0, 2), 'Renamed One', ...rowFor(1).slice(3)], rowFor(2), ['E50', 'new@test.example', 'New', 'staff', 'teacher', 'LIN', '', '']]);
    const res = await apply(adminAgent, id);
    expect(res.status).toBe(303);
    await User.updateOne({ employeeId: 'E01' }, { $set: { jobTitle: 'custodian' } });
    expect(await runQueuedRosterImports()).toBe(1);
    expect(await User.exists({ employeeId: 'E50' })).toBeNull();
    expect((await User.findOne({ employeeId: 'E01' }).lean())!.name).toBe('Person E01');
    const stored = await RosterPreview.findById(id).lean();
    expect(stored).toMatchObject({ state: 'stale', error: 'stale' });
    expect(await AuditEvent.countDocuments({ action: 'roster.imported' })).toBe(0);
    const page = await adminAgent.get(`/admin/roster/imports/${id}`);
    expect(page.text).toContain('Roster import failed');
    expect(page.text).toContain('The staff list changed after the preview was made');
    expect(page.text).toContain('upload the file again');
    expect(page.text).not.toContain('>Apply again<');
    const again = await apply(adminAgent, id);
    expect(again.status).toBe(409);
    expect(again.text).toContain('The staff list has changed since this preview was made');
  });

  test("when someone else took a new person's employee id after the preview, then the import is stale and writes nothing", async () => {
    const id = await preview([['E50', 'new@test.example', 'New', 'staff', 'teacher', 'LIN', '', '']]);
    await createUser(district, { employeeId: 'E50', email: 'someone-else@test.example', schools: [lincoln] });
    expect((await applyAndRun(adminAgent, id)).status).toBe(303);
    expect((await RosterPreview.findById(id).lean())!.state).toBe('stale');
    expect(await User.exists({ email: 'new@test.example' })).toBeNull();
  });

  test('when another preview of the district is being applied, then this one is refused as busy and writes nothing', async () => {
    const first = await preview([rowFor(1)]);
    const second = await preview([rowFor(2)]);
    expect((await apply(adminAgent, first)).status).toBe(303);
    const res = await apply(adminAgent, second);
    expect(res.status).toBe(409);
    expect(res.text).toContain('being applied in this district right now');
    expect((await RosterPreview.findById(second).lean())!.state).toBe('ready');
    expect(await runQueuedRosterImports()).toBe(1);
    expect(await User.exists({ employeeId: 'E02' })).toBeNull();
    expect(await User.exists({ employeeId: 'E01' })).not.toBeNull();
  });

  test('when Apply is pressed twice (a double click), then both land on the same status page and the import runs once', async () => {
    const id = await preview([rowFor(1)]);
    const first = await apply(adminAgent, id);
    const second = await apply(adminAgent, id);
    expect([first.status, second.status]).toEqual([303, 303]);
    expect(importIdFrom(second.headers.location)).toBe(id);
    expect(await runQueuedRosterImports()).toBe(1);
    expect(await User.countDocuments({ employeeId: 'E01' })).toBe(1);
    expect(await AuditEvent.countDocuments({ action: 'roster.imported' })).toBe(1);
  });
});

describe('after apply', () => {
  test('when a staff member becomes a principal, then the role change is audited for that person', async () => {
    await seedStaff(2);
    const id = await preview([['E01', 'e01@test.example', 'Person E01', 'principal', '', 'LIN', '', ''], rowFor(2)]);
    expect((await applyAndRun(adminAgent, id)).status).toBe(303);
    const person = await User.findOne({ employeeId: 'E01' }).lean();
    expect(person).toMatchObject({ role: 'principal' });
    expect(person!.jobTitle).toBeUndefined();
    const events = await AuditEvent.find({ action: 'user.role_changed' }).lean();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ target: { kind: 'user', id: person!._id.toString() }, details: { from: 'staff', to: 'principal', via: 'roster_import' } });
    expect((await AuditEvent.findOne({ action: 'roster.imported' }).lean())!.details).toMatchObject({ roleChanges: 1 });
  });

  test('when the queued rebuild runs, then new people are due N days after their start date and deactivated people drop out', async () => {
    await seedStaff(2);
    await publishModule('foundations', [1]);
    const assignment = await createAssignment(district, { due: { kind: 'relative', days: 30 } });
    expect(await ComplianceRow.countDocuments({ assignment: assignment._id })).toBe(2);
    const id = await preview([rowFor(1), ['E50', 'new@test.example', 'New', 'staff', 'custodian', 'LIN', '', '2027-03-01']], true);
    // One of two people is more than 10 %: the guard asks for the number.
    expect((await applyAndRun(adminAgent, id, { confirm: '1' })).status).toBe(303);
    // Enqueued, not run by the import: the rows are those from before until the compliance job runs.
    expect(await ComplianceRow.countDocuments({ assignment: assignment._id })).toBe(2);
    expect(await runQueuedComplianceJobs()).toBeGreaterThanOrEqual(1);
    const newcomer = await User.findOne({ employeeId: 'E50' }).lean();
    const gone = await User.findOne({ employeeId: 'E02' }).lean();
    const row = await ComplianceRow.findOne({ assignment: assignment._id, user: newcomer!._id }).lean();
    expect(row!.dueAt.toISOString().slice(0, 10)).toBe('2027-03-31');
    expect(await ComplianceRow.exists({ assignment: assignment._id, user: gone!._id })).toBeNull();
  });

  test('when the upload path is written with capitals or a trailing slash, then it is still parsed and checked', async () => {
    const token = /name="_csrf" value="([^"]+)"/.exec((await adminAgent.get('/admin/roster')).text)![1];
    const res = await adminAgent.post('/Admin/Roster/Preview/').field('_csrf', token).attach('file', Buffer.from(csv([rowFor(1)])), 'r.csv');
    expect(res.status).toBe(303);
  });

  test('then one audit event with counts and file name and one queued compliance rebuild, and the result page in Spanish', async () => {
    await seedStaff(2);
    const id = await preview([rowFor(1), ['E50', 'new@test.example', 'New', 'staff', 'teacher', 'LIN', '', '']]);
    await applyAndRun(adminAgent, id);
    const events = await AuditEvent.find({ action: 'roster.imported' }).lean();
    expect(events).toHaveLength(1);
    expect(events[0].actor!.toString()).toBe(admin._id.toString());
    expect(events[0].details).toMatchObject({ fileName: 'roster.csv', rows: 2, created: 1, unchanged: 1 });
    const jobs = await mongoose.connection.db!.collection('compliancejobs').find({ district: district._id }).toArray();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ kind: 'rebuild', state: 'queued' });
    expect(events[0].details).toMatchObject({ jobId: jobs[0]._id.toString() });
    const page = await adminAgent.get(`/admin/roster/imports/${id}?lang=es`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Lista importada');
    expect(page.text).toContain('Ver el progreso en la página de asignaciones');
  });
});
