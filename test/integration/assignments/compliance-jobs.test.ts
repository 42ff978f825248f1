import { Types } from 'mongoose';
import { Assignment, runQueuedComplianceJobs, startComplianceJobRunner } from '../../../src/components/assignments';
import { ComplianceJob, type ComplianceJobRecord } from '../../../src/components/assignments/compliance-job.model';
import { claimComplianceJob, enqueueComplianceJob, MAX_JOB_ATTEMPTS } from '../../../src/components/assignments/compliance-jobs';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { ComplianceSummary } from '../../../src/components/assignments/compliance-summary.model';
import { countsAt, type Tally } from '../../../src/components/assignments/compliance-tally';
import { AuditEvent } from '../../../src/components/audit';
import { District } from '../../../src/components/districts';
import { User } from '../../../src/components/users';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, csrfFrom, signIn, type Agent } from '../../helpers/session';
import { complete, createAssignment, publishModule } from './compliance-fixtures';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;
let adminId: Types.ObjectId;

const form = (overrides: Record<string, string | string[]> = {}) => ({
  moduleSlug: 'front-office',
  roles: 'staff',
  schoolCodes: '',
  dueKind: 'fixed',
  dueDate: '2099-06-30',
  dueDays: '',
  recurrence: 'annual',
  cycleEnd: '',
  minVersion: '1',
  ...overrides,
});

const jobsOf = async (assignment: Types.ObjectId) => (await ComplianceJob.find({ assignment }).sort({ requestedAt: 1 }).lean()) as ComplianceJobRecord[];

/** As if the process running it had died two minutes ago (its heartbeat lapsed). */
const abandon = (jobId: unknown) => ComplianceJob.updateOne({ _id: jobId }, { $set: { heartbeatAt: new Date(Date.now() - 120_000) } });

async function createThroughForm(overrides: Record<string, string | string[]> = {}) {
  const res = await admin.post('/admin/assignments').type('form').send({ _csrf: await csrfFor(admin, '/admin/assignments/new'), ...form(overrides) });
  const created = await Assignment.findOne({ district: district._id }).sort({ createdAt: -1, _id: -1 }).lean();
  return { res, assignment: created! };
}

async function waitFor<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

beforeAll(async () => {
  t = await startTestApp();
  await publishModule('foundations', [1, 2], 'Foundations');
  await publishModule('front-office', [1], 'Front office');
  district = await createDistrict();
  school = await createSchool(district, { code: 'LIN' });
  adminId = (await createUser(district, { role: 'district_admin', email: 'admin@j.example' }))._id;
  await createUser(district, { role: 'principal', email: 'principal@j.example', schools: [school] });
  await createUser(district, { email: 'teacher@j.example', schools: [school], jobTitle: 'teacher' });
  await createUser(district, { email: 'custodian@j.example', schools: [school], jobTitle: 'custodian' });
  admin = await signIn(t.app, 'admin@j.example');
});

afterAll(async () => {
  await t.close();
});

afterEach(async () => {
  // Nothing left behind for the next test: every job of this file has run.
  await runQueuedComplianceJobs();
});

describe('creating and editing enqueue a job', () => {
  test('when an assignment is created, then 303 at once with a queued job and no rows yet; after the job runs, rows and summaries are right', async () => {
    const { res, assignment } = await createThroughForm({ jobTitles: ['custodian'], schoolCodes: 'LIN' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/assignments');
    const [queued] = await jobsOf(assignment._id);
    expect(queued).toMatchObject({ kind: 'assignment', state: 'queued', moduleSlug: 'front-office', attempts: 0, owner: null, startedAt: null });
    expect(String(queued.district)).toBe(String(district._id));
    expect(String(queued.requestedBy)).toBe(String(adminId));
    expect(await ComplianceRow.countDocuments({ assignment: assignment._id })).toBe(0);
    expect(await ComplianceSummary.countDocuments({ assignment: assignment._id })).toBe(0);
    const waiting = await admin.get('/admin/assignments');
    expect(waiting.text).toContain('Updating compliance… waiting to start.');
    expect(waiting.text).toContain(`id="job-${String(assignment._id)}" data-job-status data-job-state="queued"`);

    expect(await runQueuedComplianceJobs()).toBe(1);

    const [done] = await jobsOf(assignment._id);
    const people = await User.countDocuments({ district: district._id });
    expect(done).toMatchObject({ state: 'done', attempts: 1, error: null, progress: { done: people, total: people } });
    expect(done.startedAt!.getTime()).toBeLessThanOrEqual(done.finishedAt!.getTime());
    const rows = await ComplianceRow.find({ assignment: assignment._id }).lean();
    expect(rows.map((r) => r.email)).toEqual(['custodian@j.example']);
    const summaries = await ComplianceSummary.find({ assignment: assignment._id }).lean();
    expect(summaries.map((s) => String(s.school))).toEqual([String(school._id)]);
    expect(countsAt(summaries[0].primary as Tally, new Date())).toMatchObject({ total: 1, not_started: 1 });
    const list = await admin.get('/admin/assignments');
    expect(list.text).toContain('Compliance updated ');
    expect(list.text).toContain('0 of 1 (0%)');
  });

  test('when an assignment is edited twice in quick succession, then one queued job does both edits', async () => {
    const assignment = await createAssignment(district, { moduleSlug: 'foundations', jobTitles: ['teacher'] });
    const edit = `/admin/assignments/${String(assignment._id)}`;
    const csrf = await csrfFor(admin, `${edit}/edit`);
    const first = await admin.post(edit).type('form').send({ _csrf: csrf, ...form({ moduleSlug: 'foundations', jobTitles: ['teacher'], minVersion: '2' }) });
    const second = await admin.post(edit).type('form').send({ _csrf: csrf, ...form({ moduleSlug: 'foundations', jobTitles: ['custodian'], minVersion: '2' }) });
    expect([first.status, second.status]).toEqual([303, 303]);
    const jobs = await jobsOf(assignment._id);
    expect(jobs.map((j) => j.state)).toEqual(['queued']);
    expect(await AuditEvent.countDocuments({ action: 'assignment.updated', 'target.id': String(assignment._id) })).toBe(2);

    expect(await runQueuedComplianceJobs()).toBe(1);

    const rows = await ComplianceRow.find({ assignment: assignment._id }).lean();
    expect(rows.map((r) => [r.email, r.minVersion])).toEqual([['custodian@j.example', 2]]);
  });

  test('when an edit arrives while its job is running, then a second job is queued behind it, and the page says so', async () => {
    const assignment = await createAssignment(district, { moduleSlug: 'foundations' });
    await enqueueComplianceJob({ districtId: district._id, kind: 'assignment', assignmentId: assignment._id, moduleSlug: 'foundations' });
    const running = await claimComplianceJob('other-instance:1:test');
    expect(String(running!.assignment)).toBe(String(assignment._id));
    const edit = `/admin/assignments/${String(assignment._id)}`;
    const res = await admin.post(edit).type('form').send({ _csrf: await csrfFor(admin, `${edit}/edit`), ...form({ moduleSlug: 'foundations', jobTitles: ['custodian'] }) });
    expect(res.status).toBe(303);
    expect((await jobsOf(assignment._id)).map((j) => j.state)).toEqual(['running', 'queued']);
    const page = await admin.get(`${edit}/edit`);
    expect(page.text).toContain('Another update is queued after it.');

    // Only one job runs per district: the queued one waits for the running one (here: its lapsed lease).
    expect(await runQueuedComplianceJobs()).toBe(0);
    await abandon(running!._id);
    expect(await runQueuedComplianceJobs()).toBe(2);
    expect((await jobsOf(assignment._id)).map((j) => j.state)).toEqual(['done']);
    expect((await ComplianceRow.find({ assignment: assignment._id }).lean()).map((r) => r.email)).toEqual(['custodian@j.example']);
  });
});

describe('claiming, leases and takeovers', () => {
  test('when a job was claimed by a process that died (heartbeat older than the lease), then another runner takes it over and completes it; a live one is left alone', async () => {
    const assignment = await Assignment.create({ district: district._id, moduleSlug: 'front-office', audience: { roles: ['staff'], jobTitles: ['teacher'] }, due: { kind: 'fixed', date: '2099-06-30' }, recurrence: { kind: 'none' }, minVersion: 1 });
    const long = new Date(Date.now() - 180_000);
    const dead = await ComplianceJob.create({ district: district._id, kind: 'assignment', assignment: assignment._id, moduleSlug: 'front-office', state: 'running', requestedAt: long, startedAt: long, heartbeatAt: new Date(Date.now() - 120_000), owner: 'dead-host:1:aaaa', attempts: 1, progress: { done: 1000, total: 5000 } });
    const busy = await createDistrict();
    const live = await ComplianceJob.create({ district: busy._id, kind: 'rebuild', state: 'running', requestedAt: long, startedAt: long, heartbeatAt: new Date(), owner: 'live-host:2:bbbb', attempts: 1 });

    expect(await runQueuedComplianceJobs()).toBe(1);

    const after = (await ComplianceJob.findById(dead._id).lean())!;
    expect(after).toMatchObject({ state: 'done', attempts: 2 });
    expect(after.owner).not.toBe('dead-host:1:aaaa');
    expect(after.progress!.done).toBe(after.progress!.total);
    expect((await ComplianceRow.find({ assignment: assignment._id }).lean()).map((r) => r.email)).toEqual(['teacher@j.example']);
    expect(await ComplianceJob.findById(live._id).lean()).toMatchObject({ state: 'running', owner: 'live-host:2:bbbb', attempts: 1 });
    await ComplianceJob.deleteOne({ _id: live._id });
  });

  test(`when a job's process died ${MAX_JOB_ATTEMPTS} times, then it is failed instead of being taken over again`, async () => {
    const assignment = await createAssignment(district, { moduleSlug: 'foundations' });
    const job = await ComplianceJob.create({ district: district._id, kind: 'assignment', assignment: assignment._id, state: 'running', requestedAt: new Date(), startedAt: new Date(), heartbeatAt: new Date(Date.now() - 120_000), owner: 'crashing:1:cccc', attempts: MAX_JOB_ATTEMPTS });
    expect(await runQueuedComplianceJobs()).toBe(0);
    const after = (await ComplianceJob.findById(job._id).lean())!;
    expect(after).toMatchObject({ state: 'failed', owner: null, error: `The process running this update stopped ${MAX_JOB_ATTEMPTS} times.` });
  });
});

describe('concurrent event refreshes', () => {
  test('when a person finishes training while the job is about to insert their row, then the job reads that batch again and ends done with the completion in the row', async () => {
    const { assignment } = await createThroughForm({ jobTitles: ['teacher'] });
    const teacher = (await User.findOne({ email: 'teacher@j.example' }).lean())!;
    // A slow job: its first row insert waits until the person's own refresh has inserted their row.
    const insert = ComplianceRow.insertMany.bind(ComplianceRow);
    let held = false;
    const spy = jest.spyOn(ComplianceRow, 'insertMany').mockImplementation((async (...args: Parameters<typeof insert>) => {
      if (!held) {
        held = true;
        await complete({ _id: teacher._id, district: teacher.district, schools: teacher.schools }, 'front-office', 1, new Date());
      }
      return insert(...args);
    }) as never);
    try {
      expect(await runQueuedComplianceJobs()).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(held).toBe(true);
    expect((await jobsOf(assignment._id))[0]).toMatchObject({ state: 'done', error: null });
    const rows = await ComplianceRow.find({ assignment: assignment._id }).lean();
    expect(rows.map((r) => [r.email, r.hasSatisfying])).toEqual([['teacher@j.example', true]]);
  });
});

describe('failures and Retry', () => {
  test('when a job throws, then it ends failed with its message, the pages offer Retry, and Retry (district admin, CSRF) queues it again', async () => {
    // A district whose time zone is not a real zone (bad data): every due date fails to compute.
    await District.collection.updateOne({ _id: district._id }, { $set: { timeZone: 'Mars/Olympus' } });
    const { assignment } = await createThroughForm({ moduleSlug: 'foundations', jobTitles: ['custodian'] });
    await runQueuedComplianceJobs();
    await District.collection.updateOne({ _id: district._id }, { $set: { timeZone: 'America/Los_Angeles' } });
    const [failed] = await jobsOf(assignment._id);
    expect(failed).toMatchObject({ state: 'failed', error: 'Invalid time zone specified: Mars/Olympus' });
    expect(failed.finishedAt).toBeInstanceOf(Date);
    expect(await ComplianceRow.countDocuments({ assignment: assignment._id })).toBe(0);

    const retry = `/admin/assignments/${String(assignment._id)}/retry`;
    const list = await admin.get('/admin/assignments');
    expect(list.text).toContain('Compliance update failed: Invalid time zone specified: Mars/Olympus');
    expect(list.text).toContain(`action="${retry}"`);
    const page = await admin.get(`/admin/assignments/${String(assignment._id)}/edit`);
    expect(page.text).toContain('Compliance update failed: Invalid time zone specified: Mars/Olympus');
    expect(page.text).toContain('name="from" value="edit"');

    const principal = await signIn(t.app, 'principal@j.example');
    expect((await principal.post(retry).type('form').send({ _csrf: csrfFrom((await principal.get('/training')).text) })).status).toBe(403);
    const staff = await signIn(t.app, 'teacher@j.example');
    expect((await staff.post(retry).type('form').send({ _csrf: csrfFrom((await staff.get('/training')).text) })).status).toBe(403);
    expect((await admin.post(retry).type('form').send({})).status).toBe(403);
    const foreign = await createAssignment(await createDistrict(), {});
    expect((await admin.post(`/admin/assignments/${String(foreign._id)}/retry`).type('form').send({ _csrf: await csrfFor(admin, '/admin/assignments') })).status).toBe(404);
    expect(await jobsOf(assignment._id)).toHaveLength(1);
    expect(await AuditEvent.countDocuments({ action: 'compliance.retried' })).toBe(0);

    const res = await admin.post(retry).type('form').send({ _csrf: await csrfFor(admin, '/admin/assignments'), from: 'edit' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/admin/assignments/${String(assignment._id)}/edit`);
    expect((await jobsOf(assignment._id)).map((j) => j.state)).toEqual(['failed', 'queued']);
    const audit = await AuditEvent.findOne({ action: 'compliance.retried', 'target.id': String(assignment._id) }).lean();
    expect(audit?.details).toMatchObject({ moduleSlug: 'foundations' });

    expect(await runQueuedComplianceJobs()).toBe(1);
    // The older, failed job is pruned once a newer one has finished.
    expect((await jobsOf(assignment._id)).map((j) => j.state)).toEqual(['done']);
    expect((await ComplianceRow.find({ assignment: assignment._id }).lean()).map((r) => r.email)).toEqual(['custodian@j.example']);
  });
});

describe('the runner', () => {
  test('when the runner is started, then a job enqueued through HTTP runs without anyone calling runQueuedComplianceJobs', async () => {
    // A poll far longer than the test: only the enqueue's poke can start the job in time.
    const runner = startComplianceJobRunner({ pollMs: 600_000 });
    try {
      const { res, assignment } = await createThroughForm({ jobTitles: ['teacher', 'custodian'] });
      expect(res.status).toBe(303);
      const jobs = await waitFor(() => jobsOf(assignment._id), (list) => list[0]?.state === 'done');
      expect(jobs[0]).toMatchObject({ state: 'done', attempts: 1 });
      expect(await ComplianceRow.countDocuments({ assignment: assignment._id })).toBe(2);
    } finally {
      await runner.stop();
    }
  });

  test('when the runner is stopped mid-job, then the batch in hand is written and the job is handed back for the next runner', async () => {
    const big = await createDistrict();
    const campus = await createSchool(big, { code: 'BIG' });
    await User.insertMany(
      Array.from({ length: 2500 }, (_, i) => ({ district: big._id, email: `p${i}@big.example`, name: `Person ${String(i).padStart(4, '0')}`, role: 'staff', jobTitle: 'teacher', schools: [campus._id], employeeId: `B${i}` })),
    );
    const assignment = await Assignment.create({ district: big._id, moduleSlug: 'foundations', audience: { roles: ['staff'] }, due: { kind: 'fixed', date: '2099-06-30' }, recurrence: { kind: 'none' }, minVersion: 1 });
    const runner = startComplianceJobRunner({ pollMs: 600_000 });
    let stopped = false;
    try {
      const { jobId } = await enqueueComplianceJob({ districtId: big._id, kind: 'assignment', assignmentId: assignment._id, moduleSlug: 'foundations' });
      await waitFor(() => ComplianceJob.findById(jobId).lean(), (job) => job?.state !== 'queued');
      await runner.stop();
      stopped = true;
      const handedBack = (await ComplianceJob.findById(jobId).lean())!;
      expect(handedBack).toMatchObject({ state: 'running', owner: null, attempts: 0, progress: { done: 1000, total: 2500 } });
      expect(handedBack.heartbeatAt!.getTime()).toBe(0);
      expect(await ComplianceRow.countDocuments({ assignment: assignment._id })).toBe(1000);

      expect(await runQueuedComplianceJobs()).toBe(1);
      expect(await ComplianceJob.findById(jobId).lean()).toMatchObject({ state: 'done', attempts: 1, progress: { done: 2500, total: 2500 } });
      expect(await ComplianceRow.countDocuments({ assignment: assignment._id })).toBe(2500);
    } finally {
      if (!stopped) await runner.stop();
    }
    // 2,500 people written twice: ~8 s alone, near the default 30 s on a loaded 2-core machine.
  }, 120_000);
});

describe('what the admin sees', () => {
  test('when a job is running, then the assignment page shows its progress and start time in a polite live region, in English and Spanish', async () => {
    const assignment = await createAssignment(district, { moduleSlug: 'foundations' });
    await enqueueComplianceJob({ districtId: district._id, kind: 'assignment', assignmentId: assignment._id, moduleSlug: 'foundations' });
    const running = (await claimComplianceJob('other-instance:1:test'))!;
    await ComplianceJob.updateOne({ _id: running._id }, { $set: { progress: { done: 12345, total: 74000 } } });
    const path = `/admin/assignments/${String(assignment._id)}/edit`;
    const page = await admin.get(path);
    expect(page.text).toContain('data-job-state="running"');
    expect(page.text).toMatch(/aria-live="polite"[^>]*data-job-text>\s*Updating compliance… 12,345 of 74,000 people\s*<small>Started /);
    expect(page.text).toContain(`<a href="${path}">Refresh</a>`);
    expect((await admin.get(`${path}?lang=es`)).text).toContain('Actualizando el cumplimiento… 12,345 de 74,000 personas');
    await admin.get(`${path}?lang=en`);
    await abandon(running._id);
  });

  test('when the district rebuild is queued, then "Recalculate now" shows it, and the district page says which figures are being updated until it is done', async () => {
    const res = await admin.post('/admin/assignments/rebuild').type('form').send({ _csrf: await csrfFor(admin, '/admin/assignments') });
    expect(res.status).toBe(303);
    const audit = await AuditEvent.findOne({ action: 'compliance.rebuilt' }).sort({ _id: -1 }).lean();
    const job = (await ComplianceJob.findOne({ district: district._id, kind: 'rebuild' }).lean())!;
    expect(audit?.details).toEqual({ jobId: String(job._id) });
    expect((await admin.get('/admin/assignments')).text).toContain('id="job-rebuild" data-job-status data-job-state="queued"');
    expect((await admin.get('/district')).text).toContain('Compliance figures for all modules are being updated; they may be a minute out of date.');

    await runQueuedComplianceJobs();
    const list = await admin.get('/admin/assignments');
    expect(list.text).toContain('id="job-rebuild" data-job-status data-job-state="done"');
    expect((await admin.get('/district')).text).not.toContain('are being updated');
  });
});
