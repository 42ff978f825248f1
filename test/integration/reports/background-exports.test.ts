import request from 'supertest';
import mongoose from 'mongoose';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { AuditEvent } from '../../../src/components/audit';
import { User } from '../../../src/components/users';
import { removeExpiredExports, runQueuedExportJobs, startExportJobRunner } from '../../../src/components/reports';
import { ExportJob } from '../../../src/components/reports/export-job.model';
import { claimExportJob, MAX_PENDING_PER_PERSON } from '../../../src/components/reports/export-jobs';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { complete, createAssignment, publishModule } from '../assignments/compliance-fixtures';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;
let otherAdmin: Agent;
let principal: Agent;

function binary(res: request.Response, callback: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}
const download = (agent: Agent, url: string) => agent.get(url).buffer(true).parse(binary as never);

async function ask(agent: Agent, fields: Record<string, string>): Promise<request.Response> {
  const csrf = await csrfFor(agent, '/reports/exports');
  return agent.post('/reports/exports').type('form').send({ _csrf: csrf, ...fields });
}

const idOf = (res: request.Response) => /^\/reports\/exports\/([0-9a-f]{24})$/.exec(String(res.headers.location))?.[1] ?? '';
const chunkCount = () => mongoose.connection.db!.collection('exports.chunks').countDocuments();

beforeAll(async () => {
  t = await startTestApp();
  await publishModule('foundations', [1], 'Foundations');
  district = await createDistrict({ name: 'Background Unified' });
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  await createUser(district, { role: 'district_admin', email: 'admin@bg.example' });
  await createUser(district, { role: 'district_admin', email: 'admin2@bg.example' });
  await createUser(district, { role: 'principal', email: 'principal@bg.example', schools: [lincoln] });
  const done = await createUser(district, { name: 'José Núñez', email: 'jose@bg.example', employeeId: 'E-1', schools: [lincoln], jobTitle: 'teacher' });
  await createUser(district, { name: '=HYPERLINK("http://evil.example")', email: 'evil@bg.example', employeeId: 'E-2', schools: [lincoln], jobTitle: 'custodian' });
  for (let i = 0; i < 30; i++) await createUser(district, { name: `Person ${String(i).padStart(2, '0')}`, email: `p${i}@bg.example`, employeeId: `R-${i}`, schools: [roosevelt], jobTitle: 'teacher' });
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2025-09-30' } });
  await complete(done, 'foundations', 1, new Date('2025-09-15T18:00:00Z'), 95);
  admin = await signIn(t.app, 'admin@bg.example');
  otherAdmin = await signIn(t.app, 'admin2@bg.example');
  principal = await signIn(t.app, 'principal@bg.example');
});

afterAll(async () => {
  await t.close();
});

beforeEach(async () => {
  await ExportJob.deleteMany({});
});

describe('background exports', () => {
  test('when the admin prepares the district XLSX, then it is queued, runs, shows progress figures, and downloads once ready with every row; the export and the download are audited', async () => {
    const asked = await ask(admin, { format: 'xlsx' });
    expect(asked.status).toBe(303);
    const id = idOf(asked);
    expect(id).not.toBe('');
    const queued = await admin.get(`/reports/exports/${id}`);
    expect(queued.status).toBe(200);
    expect(queued.text).toContain('data-job-state="queued"');
    expect(queued.text).toContain('Whole district');
    expect((await admin.get(`/reports/exports/${id}/download`)).status).toBe(404);

    const exportedBefore = await AuditEvent.countDocuments({ action: 'compliance.exported' });
    expect(await runQueuedExportJobs()).toBe(1);
    const job = await ExportJob.findById(id).lean();
    expect(job?.state).toBe('done');
    expect(job?.progress?.rows).toBe(32);
    expect(job?.progress?.total).toBe(32);
    expect(job?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect(await AuditEvent.countDocuments({ action: 'compliance.exported' })).toBe(exportedBefore + 1);

    const page = await admin.get(`/reports/exports/${id}`);
    expect(page.text).toContain('data-job-state="done"');
    expect(page.text).toContain(`/reports/exports/${id}/download`);
    expect(page.text).toMatch(/Ready: 32 rows/);

    const res = await download(admin, `/reports/exports/${id}/download`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="compliance-district-\d{4}-\d{2}-\d{2}\.xlsx"$/);
    expect(res.headers['cache-control']).toBe('no-store');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(res.body as never);
    const sheet = workbook.worksheets[0];
    expect(sheet.rowCount).toBe(33);
    const names = sheet.getColumn(2).values.slice(2);
    expect(names).toContain('José Núñez');
    // A typed text cell, never a formula.
    expect(names).toContain('=HYPERLINK("http://evil.example")');
    const downloaded = await AuditEvent.findOne({ action: 'compliance.export_downloaded' }).sort({ at: -1 }).lean();
    expect(downloaded?.details).toMatchObject({ exportJob: id, format: 'xlsx', rowCount: 32 });
  });

  test('when a principal prepares a CSV of their school with a filter, then only matching rows of that school, in Spanish when asked in Spanish', async () => {
    const csrf = await csrfFor(principal, '/reports/exports?lang=es');
    const asked = await principal.post('/reports/exports').type('form').send({ _csrf: csrf, format: 'csv', school: String(lincoln._id), status: 'completed' });
    expect(asked.status).toBe(303);
    const id = idOf(asked);
    await runQueuedExportJobs();
    const res = await download(principal, `/reports/exports/${id}/download`);
    expect(res.status).toBe(200);
    const records = parse(res.body as Buffer, { bom: true, columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(1);
    expect(Object.values(records[0])).toContain('José Núñez');
    expect(Object.keys(records[0])).toContain('Nombre');
    // Switch back so later tests see English.
    await principal.get('/reports/exports?lang=en');
  });

  test('when a principal asks for another school, then 404 and nothing is queued', async () => {
    const res = await ask(principal, { format: 'csv', school: String(roosevelt._id) });
    expect(res.status).toBe(404);
    expect(await ExportJob.countDocuments({})).toBe(0);
  });

  test('when someone else — even another admin of the district — opens the export or its file, then 404; staff get 403; anonymous go to sign-in', async () => {
    const id = idOf(await ask(admin, { format: 'csv' }));
    await runQueuedExportJobs();
    expect((await otherAdmin.get(`/reports/exports/${id}`)).status).toBe(404);
    expect((await otherAdmin.get(`/reports/exports/${id}/download`)).status).toBe(404);
    expect((await otherAdmin.get('/reports/exports')).text).not.toContain(id);
    await createUser(district, { email: 'staff@bg.example', schools: [lincoln] });
    const staff = await signIn(t.app, 'staff@bg.example');
    expect((await staff.get(`/reports/exports/${id}`)).status).toBe(403);
    expect((await staff.get('/reports/exports')).status).toBe(403);
    const anonymous = await request(t.app).get(`/reports/exports/${id}/download`);
    expect(anonymous.status).toBe(303);
    expect((await admin.get('/reports/exports/not-an-id')).status).toBe(404);
    expect((await admin.get('/reports/exports')).text).toContain(id);
  });

  test('when the form has no CSRF token or a bad format, then it is refused and nothing is queued', async () => {
    expect((await admin.post('/reports/exports').type('form').send({ format: 'csv' })).status).toBe(403);
    expect((await ask(admin, { format: 'pdf' })).status).toBe(422);
    expect((await ask(admin, { format: 'csv', status: 'nonsense' })).status).toBe(422);
    const injected = await admin.post('/reports/exports').send({ _csrf: await csrfFor(admin), format: { $gt: '' } });
    expect(injected.status).toBe(422);
    expect(await ExportJob.countDocuments({})).toBe(0);
  });

  test('when a person already has the maximum of exports waiting, then the next one is refused with 429 and a message', async () => {
    for (let i = 0; i < MAX_PENDING_PER_PERSON; i++) expect((await ask(admin, { format: 'csv' })).status).toBe(303);
    const refused = await ask(admin, { format: 'csv' });
    expect(refused.status).toBe(429);
    expect(refused.text).toContain('three exports being prepared');
    expect(await ExportJob.countDocuments({})).toBe(MAX_PENDING_PER_PERSON);
  });

  test('when the person who asked loses the role before it runs, then the job fails with a reason and writes no file', async () => {
    await createUser(district, { role: 'district_admin', email: 'leaving@bg.example' });
    const leaving = await signIn(t.app, 'leaving@bg.example');
    const id = idOf(await ask(leaving, { format: 'csv' }));
    await User.updateOne({ email: 'leaving@bg.example' }, { $set: { active: false } });
    const chunksBefore = await chunkCount();
    await runQueuedExportJobs();
    const job = await ExportJob.findById(id).lean();
    expect(job?.state).toBe('failed');
    expect(job?.error).toMatch(/can no longer export/);
    expect(await chunkCount()).toBe(chunksBefore);
  });

  test('when the process running a job dies, then another takes it over after the lease and finishes it; a file past its expiry is not served and is removed with its record', async () => {
    const id = idOf(await ask(admin, { format: 'csv' }));
    const dead = await claimExportJob('dead-process', 60_000);
    expect(String(dead?._id)).toBe(id);
    // Nothing claimable while the lease holds.
    expect(await runQueuedExportJobs({ leaseMs: 60_000 })).toBe(0);
    await ExportJob.updateOne({ _id: id }, { $set: { heartbeatAt: new Date(Date.now() - 120_000) } });
    expect(await runQueuedExportJobs({ leaseMs: 60_000 })).toBe(1);
    const job = await ExportJob.findById(id).lean();
    expect(job?.state).toBe('done');
    expect(job?.attempts).toBe(2);
    expect((await download(admin, `/reports/exports/${id}/download`)).status).toBe(200);

    await ExportJob.updateOne({ _id: id }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await admin.get(`/reports/exports/${id}/download`)).status).toBe(404);
    expect(await chunkCount()).toBeGreaterThan(0);
    expect(await removeExpiredExports()).toBe(1);
    expect(await ExportJob.countDocuments({ _id: id })).toBe(0);
    expect(await mongoose.connection.db!.collection('exports.files').countDocuments({ _id: job!.file! })).toBe(0);
    expect(await mongoose.connection.db!.collection('exports.chunks').countDocuments({ files_id: job!.file! })).toBe(0);
  });

  test('the district page offers the background export with its filters, in English and Spanish', async () => {
    const page = await admin.get('/district?status=overdue');
    expect(page.status).toBe(200);
    expect(page.text).toContain('action="/reports/exports"');
    expect(page.text).toMatch(/<input type="hidden" name="status" value="overdue">/);
    expect(page.text).toContain('value="xlsx"');
    const es = await admin.get('/district?lang=es');
    expect(es.text).toContain('Prepárela en segundo plano');
    await admin.get('/district?lang=en');
  });

  test('when a runner is running in the process, then a new export wakes it at once (no poll wait) and it finishes; stop() leaves it idle', async () => {
    const runner = startExportJobRunner({ pollMs: 600_000 });
    try {
      const id = idOf(await ask(admin, { format: 'csv' }));
      let state: string | undefined;
      for (let i = 0; i < 100 && state !== 'done'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        state = (await ExportJob.findById(id).lean())?.state;
      }
      expect(state).toBe('done');
    } finally {
      await runner.stop();
    }
    expect(await ExportJob.countDocuments({ state: { $in: ['queued', 'running'] } })).toBe(0);
  });
});
