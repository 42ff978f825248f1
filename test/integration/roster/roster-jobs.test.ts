import { AuditEvent } from '../../../src/components/audit';
import { RosterPreview, RosterPreviewRow, runQueuedRosterImports, startRosterImportRunner } from '../../../src/components/roster';
import { claimRosterImport, runRosterImport } from '../../../src/components/roster/roster-jobs';
import { User } from '../../../src/components/users';
import { clearDatabase, startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { apply, csv, previewIdFrom, upload } from './roster.helpers';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let admin: Awaited<ReturnType<typeof createUser>>;
let adminAgent: Agent;
let secondAgent: Agent;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

beforeEach(async () => {
  await clearDatabase();
  district = await createDistrict();
  lincoln = await createSchool(district, { code: 'LIN' });
  admin = await createUser(district, { role: 'district_admin', email: 'admin@test.example', employeeId: 'A1' });
  await createUser(district, { role: 'district_admin', email: 'second@test.example', employeeId: 'A2' });
  adminAgent = await signIn(t.app, admin.email);
  secondAgent = await signIn(t.app, 'second@test.example');
});

function newRow(i: number): string[] {
  const id = `N${String(i).padStart(5, '0')}`;
  return [id, `${id.toLowerCase()}@test.example`, `New Person ${i}`, 'staff', 'custodian', 'LIN', i % 2 ? 'es' : '', '2026-08-17'];
}

async function preview(rows: string[][], complete = false): Promise<string> {
  const res = await upload(adminAgent, csv(rows), { complete });
  expect(res.status).toBe(303);
  return previewIdFrom(res.headers.location);
}

const importedEvents = () => AuditEvent.countDocuments({ action: 'roster.imported' });

describe('Apply answers at once; the runner applies', () => {
  test('when Apply is pressed, then 303 to the import page (queued, reloading itself, with a Refresh link), and the runner writes every person and marks it done with counts', async () => {
    await createUser(district, { employeeId: 'E01', email: 'e01@test.example', name: 'Old Name', schools: [lincoln], jobTitle: 'teacher' });
    const id = await preview([['E01', 'e01@test.example', 'New Name', 'staff', 'teacher', 'LIN', '', ''], newRow(1), newRow(2)]);
    const form = await adminAgent.get(`/admin/roster/previews/${id}`);
    // Reloading is the admin's choice before they meet it (ticked by default).
    expect(form.text).toMatch(/<input id="field-autoRefresh" type="checkbox" name="autoRefresh" value="yes" checked aria-describedby="help-autoRefresh"> Show the progress on a page that reloads itself every 10 seconds<\/label>/);
    const res = await apply(adminAgent, id, { autoRefresh: 'yes' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/admin/roster/imports/${id}?refresh=on`);
    // Nothing written by the request.
    expect(await User.exists({ employeeId: 'N00001' })).toBeNull();
    expect((await User.findOne({ employeeId: 'E01' }).lean())!.name).toBe('Old Name');

    const queued = await adminAgent.get(res.headers.location);
    expect(queued.status).toBe(200);
    expect(queued.headers['cache-control']).toBe('no-store');
    expect(queued.text).toContain('<h1>Roster import queued</h1>');
    expect(queued.text).toContain('Queued — waiting to start.');
    expect(queued.text).toContain('<meta http-equiv="refresh" content="10">');
    expect(queued.text).toContain('This page reloads itself every 10 seconds until the import finishes.');
    expect(queued.text).toContain(`<a href="/admin/roster/imports/${id}?refresh=on">Refresh now</a>`);
    expect(queued.text).toContain(`<a href="/admin/roster/imports/${id}">Stop reloading automatically</a>`);
    expect(queued.text).toMatch(/<label for="import-progress">Changes written<\/label>\s*<progress id="import-progress" max="3" value="0">/);
    const still = await adminAgent.get(`/admin/roster/imports/${id}`);
    expect(still.text).not.toContain('http-equiv="refresh"');
    expect(still.text).toContain(`<a href="/admin/roster/imports/${id}">Refresh now</a>`);
    expect(still.text).toContain(`<a href="/admin/roster/imports/${id}?refresh=on">Reload this page automatically every 10 seconds</a>`);
    const index = await adminAgent.get('/admin/roster');
    expect(index.text).toMatch(/<tr data-import-state="queued">[\s\S]*?roster\.csv[\s\S]*?Queued/);

    expect(await runQueuedRosterImports()).toBe(1);
    const created = await User.findOne({ district: district._id, employeeId: 'N00001' }).select('+passwordHash').lean();
    expect(created).toMatchObject({ email: 'n00001@test.example', name: 'New Person 1', role: 'staff', jobTitle: 'custodian', preferredLanguage: 'es', active: true });
    expect(created!.schools.map(String)).toEqual([lincoln._id.toString()]);
    expect(created!.startDate!.toISOString()).toBe('2026-08-17T00:00:00.000Z');
    expect(created!.passwordHash).toBeUndefined();
    expect((await User.findOne({ employeeId: 'N00002' }).lean())!.preferredLanguage).toBe('en');
    expect((await User.findOne({ employeeId: 'E01' }).lean())!.name).toBe('New Name');
    const stored = await RosterPreview.findById(id).lean();
    expect(stored).toMatchObject({ state: 'applied', progress: { done: 3, total: 3 }, attempts: 1, error: null });
    expect(stored!.requestedBy!.toString()).toBe(admin._id.toString());
    expect(stored!.appliedBy!.toString()).toBe(admin._id.toString());
    expect(await RosterPreviewRow.countDocuments({ preview: id })).toBe(0);
    const events = await AuditEvent.find({ action: 'roster.imported' }).lean();
    expect(events).toHaveLength(1);
    expect(events[0].details).toMatchObject({ created: 2, updated: 1, unchanged: 0, reactivated: 0, deactivated: 0 });
    expect(JSON.stringify(events[0].details)).not.toContain('@test.example');

    const done = await adminAgent.get(`/admin/roster/imports/${id}?refresh=on`);
    expect(done.text).toContain('<h1>Roster imported</h1>');
    expect(done.text).toContain('Done — every change was written.');
    expect(done.text).not.toContain('http-equiv="refresh"');
    expect(done.text).toContain('data-count="create">2<');
    expect(done.text).toContain('data-count="update">1<');
    const after = await adminAgent.get('/admin/roster');
    expect(after.text).toMatch(/<tr data-import-state="done">[\s\S]*?Done/);
    const es = await adminAgent.get(`/admin/roster/imports/${id}?lang=es`);
    expect(es.text).toContain('Terminada: se escribieron todos los cambios.');
    await adminAgent.get('/admin/roster?lang=en');
  });

  test('when the runner is running in the process, then Apply wakes it (no poll wait) and the import finishes; stop() leaves it idle', async () => {
    const id = await preview([newRow(1)]);
    const runner = startRosterImportRunner({ pollMs: 600_000 });
    try {
      expect((await apply(adminAgent, id)).status).toBe(303);
      let state: string | undefined;
      for (let i = 0; i < 100 && state !== 'applied'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        state = (await RosterPreview.findById(id).lean())?.state;
      }
      expect(state).toBe('applied');
    } finally {
      await runner.stop();
    }
    expect(await User.exists({ employeeId: 'N00001' })).not.toBeNull();
  });
});

describe('progress, shutdown and takeover', () => {
  test('when the runner stops after the first batch, then progress is stored, the import is handed back and the next runner finishes it from there', async () => {
    const rows = Array.from({ length: 2_500 }, (_, i) => newRow(i + 1));
    const id = await preview(rows);
    expect((await apply(adminAgent, id)).status).toBe(303);
    const claimed = await claimRosterImport('stopping-runner');
    expect(String(claimed!._id)).toBe(id);
    // isStopping is asked before each batch: 3 batches of the stale check, then before each batch of writes.
    // Answering "stop" from the 5th question on lets exactly one batch of 1,000 be written.
    let asked = 0;
    await runRosterImport(claimed!, 'stopping-runner', { leaseMs: 60_000, isStopping: () => ++asked > 4 });
    const handedBack = await RosterPreview.findById(id).lean();
    expect(handedBack).toMatchObject({ state: 'applying', owner: null, progress: { done: 1_000, total: 2_500, lastSeq: 1_000 }, attempts: 0 });
    expect(await User.countDocuments({ employeeId: /^N/ })).toBe(1_000);
    const page = await adminAgent.get(`/admin/roster/imports/${id}`);
    expect(page.text).toContain('Applying — 1,000 of 2,500 changes written.');
    expect(page.text).toContain('<h1>Roster import in progress</h1>');

    expect(await runQueuedRosterImports()).toBe(1);
    expect(await User.countDocuments({ employeeId: /^N/ })).toBe(2_500);
    expect(await RosterPreview.findById(id).lean()).toMatchObject({ state: 'applied', progress: { done: 2_500, total: 2_500 } });
    expect(await importedEvents()).toBe(1);
    // 2,500 people written through two runners: more than the default 30 s on a loaded 2-core machine.
  }, 90_000);

  test('when the process applying an import dies, then nothing is claimable while its lease holds; afterwards another runner takes it over and it completes exactly once', async () => {
    await createUser(district, { employeeId: 'E01', email: 'e01@test.example', name: 'Person E01', schools: [lincoln], jobTitle: 'teacher' });
    await createUser(district, { employeeId: 'E02', email: 'e02@test.example', name: 'Person E02', schools: [lincoln], jobTitle: 'teacher' });
    const id = await preview([['E01', 'e01@test.example', 'Principal One', 'principal', '', 'LIN', '', ''], ['E02', 'e02@test.example', 'Person E02', 'staff', 'teacher', 'LIN', '', ''], newRow(1), newRow(2)], true);
    expect((await apply(adminAgent, id)).status).toBe(303);
    const dead = await claimRosterImport('dead-process', 60_000);
    expect(String(dead!._id)).toBe(id);
    // What the dead process had written before it died: E01 promoted (and audited), N00001 created.
    await User.updateOne({ employeeId: 'E01' }, { $set: { name: 'Principal One', role: 'principal' }, $unset: { jobTitle: 1 } });
    await AuditEvent.create({ district: district._id, actor: admin._id, action: 'user.role_changed', target: { kind: 'user', id: 'x' }, details: { via: 'roster_import' } });
    await User.create({ district: district._id, employeeId: 'N00001', email: 'n00001@test.example', name: 'New Person 1', role: 'staff', jobTitle: 'custodian', schools: [lincoln._id], preferredLanguage: 'es', startDate: new Date('2026-08-17T00:00:00Z'), active: true });

    expect(await runQueuedRosterImports({ leaseMs: 60_000 })).toBe(0);
    await RosterPreview.updateOne({ _id: id }, { $set: { heartbeatAt: new Date(Date.now() - 120_000) } });
    expect(await runQueuedRosterImports({ leaseMs: 60_000 })).toBe(1);

    const stored = await RosterPreview.findById(id).lean();
    expect(stored).toMatchObject({ state: 'applied', attempts: 2 });
    expect(await User.countDocuments({ employeeId: 'N00001' })).toBe(1);
    expect(await User.countDocuments({ employeeId: 'N00002' })).toBe(1);
    expect(await User.findOne({ employeeId: 'E01' }).lean()).toMatchObject({ role: 'principal', name: 'Principal One' });
    // The role change already written is not audited a second time.
    expect(await AuditEvent.countDocuments({ action: 'user.role_changed' })).toBe(1);
    expect(await importedEvents()).toBe(1);
    // District administrators are never touched, even in a complete roster that leaves them out.
    expect(await User.countDocuments({ role: 'district_admin', active: true })).toBe(2);

    // The dead process comes back and carries on: it no longer owns the import and writes nothing.
    await runRosterImport(dead!, 'dead-process', { leaseMs: 60_000, isStopping: () => false });
    expect(await RosterPreview.findById(id).lean()).toMatchObject({ state: 'applied', attempts: 2 });
    expect(await importedEvents()).toBe(1);
  });

  test('when several runners look for work at once, then exactly one applies the import', async () => {
    const id = await preview([newRow(1), newRow(2), newRow(3)]);
    expect((await apply(adminAgent, id)).status).toBe(303);
    const ran = await Promise.all([runQueuedRosterImports(), runQueuedRosterImports(), runQueuedRosterImports()]);
    expect(ran.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await User.countDocuments({ employeeId: /^N/ })).toBe(3);
    expect(await RosterPreview.findById(id).lean()).toMatchObject({ state: 'applied', attempts: 1 });
    expect(await importedEvents()).toBe(1);
  });

  test('when the process keeps dying, then the import fails after a few takeovers; applying it again finishes it', async () => {
    const id = await preview([newRow(1)]);
    expect((await apply(adminAgent, id)).status).toBe(303);
    await RosterPreview.updateOne({ _id: id }, { $set: { owner: 'dead-again', heartbeatAt: new Date(Date.now() - 120_000), attempts: 3 } });
    expect(await runQueuedRosterImports({ leaseMs: 60_000 })).toBe(0);
    expect(await RosterPreview.findById(id).lean()).toMatchObject({ state: 'failed', error: 'stopped_repeatedly' });
    const page = await adminAgent.get(`/admin/roster/imports/${id}`);
    expect(page.text).toContain('<h1>Roster import failed</h1>');
    expect(page.text).toContain('The server process writing the changes stopped several times.');
    expect(page.text).toContain('apply it again: it finishes the import.');
    expect(page.text).toContain(`action="/admin/roster/previews/${id}/apply"`);
    const index = await adminAgent.get('/admin/roster');
    expect(index.text).toMatch(/<tr data-import-state="failed">[\s\S]*?Failed/);

    // Again, even after the preview's hour: its rows are kept a day longer.
    await RosterPreview.updateOne({ _id: id }, { $set: { expiresAt: new Date(Date.now() - 1_000) } });
    const again = await apply(adminAgent, id);
    expect(again.status).toBe(303);
    expect(await runQueuedRosterImports()).toBe(1);
    expect(await RosterPreview.findById(id).lean()).toMatchObject({ state: 'applied', attempts: 1, error: null });
    expect(await User.countDocuments({ employeeId: 'N00001' })).toBe(1);
    expect(await importedEvents()).toBe(1);
  });
});

describe('the requester is checked again when it runs', () => {
  test('when the admin who pressed Apply is demoted before it runs, then it fails with the reason and nothing is applied; another admin can apply it again', async () => {
    const id = await preview([newRow(1), newRow(2)]);
    expect((await apply(adminAgent, id)).status).toBe(303);
    await User.updateOne({ _id: admin._id }, { $set: { role: 'principal', schools: [lincoln._id] } });
    expect(await runQueuedRosterImports()).toBe(1);
    expect(await RosterPreview.findById(id).lean()).toMatchObject({ state: 'failed', error: 'requester_not_admin' });
    expect(await User.countDocuments({ employeeId: /^N/ })).toBe(0);
    expect(await importedEvents()).toBe(0);
    expect(await RosterPreviewRow.countDocuments({ preview: id })).toBe(2);

    const page = await secondAgent.get(`/admin/roster/imports/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('The person who pressed Apply is no longer an active district administrator of this district, so nothing was written.');
    expect(page.text).toContain('>Apply again<');

    expect((await apply(secondAgent, id)).status).toBe(303);
    expect(await runQueuedRosterImports()).toBe(1);
    expect(await User.countDocuments({ employeeId: /^N/ })).toBe(2);
    const event = await AuditEvent.findOne({ action: 'roster.imported' }).lean();
    expect((await User.findOne({ email: 'second@test.example' }).lean())!._id.toString()).toBe(event!.actor!.toString());
  });

  test('when the requester is deactivated before it runs, then it fails the same way', async () => {
    const id = await preview([newRow(1)]);
    expect((await apply(adminAgent, id)).status).toBe(303);
    await User.updateOne({ _id: admin._id }, { $set: { active: false } });
    await runQueuedRosterImports();
    expect(await RosterPreview.findById(id).lean()).toMatchObject({ state: 'failed', error: 'requester_not_admin' });
    expect(await User.exists({ employeeId: 'N00001' })).toBeNull();
  });
});

describe('access to the import page', () => {
  test("when an admin of another district opens the import page, then 404; a principal gets 403; a malformed id 404", async () => {
    const id = await preview([newRow(1)]);
    await apply(adminAgent, id);
    const other = await createDistrict();
    await createUser(other, { role: 'district_admin', email: 'other-admin@test.example' });
    const otherAgent = await signIn(t.app, 'other-admin@test.example');
    expect((await otherAgent.get(`/admin/roster/imports/${id}`)).status).toBe(404);
    expect((await otherAgent.get('/admin/roster/imports/not-an-id')).status).toBe(404);
    await createUser(district, { role: 'principal', schools: [lincoln], email: 'p@test.example' });
    const principal = await signIn(t.app, 'p@test.example');
    expect((await principal.get(`/admin/roster/imports/${id}`)).status).toBe(403);
    expect(await runQueuedRosterImports()).toBe(1);
    expect((await otherAgent.get(`/admin/roster/imports/${id}`)).status).toBe(404);
  });

  test('when a preview nobody applied is opened as an import, then it redirects to the preview', async () => {
    const id = await preview([newRow(1)]);
    const res = await adminAgent.get(`/admin/roster/imports/${id}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/admin/roster/previews/${id}`);
  });
});
