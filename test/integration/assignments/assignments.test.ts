import request from 'supertest';
import { Assignment, runQueuedComplianceJobs } from '../../../src/components/assignments';
import { AuditEvent } from '../../../src/components/audit';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { complete, createAssignment, publishModule } from './compliance-fixtures';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;
let teacher: Awaited<ReturnType<typeof createUser>>;
let custodian: Awaited<ReturnType<typeof createUser>>;

const validForm = (overrides: Record<string, string | string[]> = {}) => ({
  moduleSlug: 'foundations',
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

beforeAll(async () => {
  t = await startTestApp();
  await publishModule('foundations', [1, 2], 'Foundations');
  await publishModule('front-office', [1], 'Front office');
  district = await createDistrict();
  school = await createSchool(district, { code: 'LIN' });
  await createUser(district, { role: 'district_admin', email: 'admin@a.example' });
  await createUser(district, { role: 'principal', email: 'principal@a.example', schools: [school] });
  teacher = await createUser(district, { email: 'teacher@a.example', schools: [school], jobTitle: 'teacher' });
  custodian = await createUser(district, { email: 'custodian@a.example', schools: [school], jobTitle: 'custodian' });
  admin = await signIn(t.app, 'admin@a.example');
});

afterAll(async () => {
  await t.close();
});

describe('GET /admin/assignments', () => {
  test('when anonymous, then redirected to sign-in', async () => {
    const res = await request(t.app).get('/admin/assignments').set('Accept', 'text/html');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fadmin%2Fassignments');
  });

  test('when signed in as staff or principal, then 403', async () => {
    expect((await (await signIn(t.app, 'teacher@a.example')).get('/admin/assignments')).status).toBe(403);
    expect((await (await signIn(t.app, 'principal@a.example')).get('/admin/assignments')).status).toBe(403);
  });

  test('when a district admin opens it, then the list and the new-assignment form render', async () => {
    const list = await admin.get('/admin/assignments');
    expect(list.status).toBe(200);
    expect(list.text).toContain('<h1>Assignments</h1>');
    const form = await admin.get('/admin/assignments/new');
    expect(form.status).toBe(200);
    expect(form.text).toContain('Foundations (EN)');
  });
  test('when an assignment repeats each school year, then the list says when the year ends as a date in the page language, not "(06-30)"', async () => {
    const assignment = await createAssignment(district, { moduleSlug: 'front-office', recurrence: { kind: 'school_year', cycleEnd: '06-30' } });
    const english = await admin.get('/admin/assignments?lang=en');
    expect(english.text).toContain('School year (ends June 30)');
    const spanish = await admin.get('/admin/assignments?lang=es');
    await admin.get('/admin/assignments?lang=en');
    await Assignment.deleteOne({ _id: assignment._id });
    expect(spanish.text).toContain('Año escolar (termina el 30 de junio)');
    expect(spanish.text).not.toContain('(06-30)');
  });
});

describe('POST /admin/assignments', () => {
  test('when the form is invalid, then 422 with the errors and the values entered, and nothing is stored', async () => {
    const before = await Assignment.countDocuments();
    const res = await admin
      .post('/admin/assignments')
      .type('form')
      .send({ _csrf: await csrfFor(admin, '/admin/assignments/new'), ...validForm({ moduleSlug: '', dueDate: '2099-02-30', schoolCodes: 'LIN, $bad' }) });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Choose a published training module.');
    expect(res.text).toContain('Enter a real date as YYYY-MM-DD.');
    expect(res.text).toContain('aria-describedby="error-dueDate"');
    expect(res.text).toContain('value="2099-02-30"');
    expect(await Assignment.countDocuments()).toBe(before);
  });

  test('when a school code is unknown or the version is not published, then 422', async () => {
    const csrf = await csrfFor(admin, '/admin/assignments/new');
    const unknown = await admin.post('/admin/assignments').type('form').send({ _csrf: csrf, ...validForm({ schoolCodes: 'LIN NOPE' }) });
    expect(unknown.status).toBe(422);
    expect(unknown.text).toContain('One or more school codes do not exist in this district.');
    const tooHigh = await admin.post('/admin/assignments').type('form').send({ _csrf: csrf, ...validForm({ minVersion: '3' }) });
    expect(tooHigh.status).toBe(422);
    expect(tooHigh.text).toContain('That version of the module is not published yet.');
  });

  test('when an operator object or a prototype key is posted, then it is refused as invalid input', async () => {
    const res = await admin
      .post('/admin/assignments')
      .type('form')
      .send(`_csrf=${encodeURIComponent(await csrfFor(admin, '/admin/assignments/new'))}&moduleSlug[$ne]=x&__proto__=1&dueKind=fixed&dueDate=2099-01-01&recurrence=none&minVersion=1`);
    expect(res.status).toBe(422);
  });

  test('when the CSRF token is missing, then 403 and nothing is stored', async () => {
    const before = await Assignment.countDocuments();
    const res = await admin.post('/admin/assignments').type('form').send(validForm());
    expect(res.status).toBe(403);
    expect(await Assignment.countDocuments()).toBe(before);
  });

  test('when the form is valid, then the assignment is stored, audited, and every person in the audience gets a compliance row', async () => {
    const res = await admin
      .post('/admin/assignments')
      .type('form')
      .send({ _csrf: await csrfFor(admin, '/admin/assignments/new'), ...validForm({ moduleSlug: 'front-office', jobTitles: ['custodian'], schoolCodes: 'LIN' }) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/assignments');
    await runQueuedComplianceJobs();
    const stored = await Assignment.findOne({ district: district._id, moduleSlug: 'front-office' }).lean();
    expect(stored).toMatchObject({ status: 'active', minVersion: 1, due: { kind: 'fixed', date: '2099-06-30' }, recurrence: { kind: 'annual' } });
    expect(stored!.audience!.jobTitles).toEqual(['custodian']);
    expect(stored!.audience!.schools.map(String)).toEqual([String(school._id)]);
    const audit = await AuditEvent.findOne({ action: 'assignment.created', 'target.id': String(stored!._id) }).lean();
    expect(audit?.details).toMatchObject({ moduleSlug: 'front-office', jobTitles: ['custodian'], schoolCodes: ['LIN'] });
    const rows = await ComplianceRow.find({ assignment: stored!._id }).lean();
    expect(rows.map((r) => r.email)).toEqual(['custodian@a.example']);
    const list = await admin.get('/admin/assignments');
    expect(list.text).toContain('Front office (EN)');
    expect(list.text).toContain('0 of 1 (0%)');
  });
});

describe('editing and archiving', () => {
  test('when the minimum version is raised, then an earlier completion becomes outdated and the change is audited', async () => {
    const assignment = await createAssignment(district, { moduleSlug: 'foundations', jobTitles: ['teacher'] });
    await complete(teacher, 'foundations', 1, new Date('2026-01-10T18:00:00Z'));
    const row = await ComplianceRow.findOne({ assignment: assignment._id, user: teacher._id }).lean();
    expect(row).toMatchObject({ hasSatisfying: true, isOutdated: false });

    const edit = await admin.get(`/admin/assignments/${String(assignment._id)}/edit`);
    expect(edit.status).toBe(200);
    const res = await admin
      .post(`/admin/assignments/${String(assignment._id)}`)
      .type('form')
      .send({ _csrf: await csrfFor(admin, `/admin/assignments/${String(assignment._id)}/edit`), ...validForm({ jobTitles: ['teacher'], recurrence: 'none', minVersion: '2' }) });
    expect(res.status).toBe(303);
    await runQueuedComplianceJobs();
    const after = await ComplianceRow.findOne({ assignment: assignment._id, user: teacher._id }).lean();
    expect(after).toMatchObject({ hasSatisfying: false, isOutdated: true, minVersion: 2 });
    expect(await AuditEvent.countDocuments({ action: 'assignment.updated', 'target.id': String(assignment._id) })).toBe(1);
  });

  test('when the edit is invalid, then 422 and the stored assignment is unchanged', async () => {
    const assignment = await createAssignment(district, { moduleSlug: 'foundations' });
    const res = await admin
      .post(`/admin/assignments/${String(assignment._id)}`)
      .type('form')
      .send({ _csrf: await csrfFor(admin, `/admin/assignments/${String(assignment._id)}/edit`), ...validForm({ dueKind: 'relative', dueDays: '-4' }) });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Enter a whole number of days between 0 and 3650.');
    expect((await Assignment.findById(assignment._id).lean())!.due!.kind).toBe('fixed');
  });

  test('when the assignment belongs to another district, then 404 for edit, update and archive', async () => {
    const other = await createDistrict();
    const foreign = await createAssignment(other, {});
    const csrf = await csrfFor(admin, '/admin/assignments/new');
    expect((await admin.get(`/admin/assignments/${String(foreign._id)}/edit`)).status).toBe(404);
    expect((await admin.post(`/admin/assignments/${String(foreign._id)}`).type('form').send({ _csrf: csrf, ...validForm() })).status).toBe(404);
    expect((await admin.post(`/admin/assignments/${String(foreign._id)}/archive`).type('form').send({ _csrf: csrf })).status).toBe(404);
    expect((await Assignment.findById(foreign._id).lean())!.status).toBe('active');
    expect((await admin.get('/admin/assignments/not-an-id/edit')).status).toBe(404);
  });

  test('when an assignment is archived, then it stops counting (rows removed), is listed as archived and audited', async () => {
    const assignment = await createAssignment(district, { moduleSlug: 'foundations', jobTitles: ['custodian'] });
    expect(await ComplianceRow.countDocuments({ assignment: assignment._id })).toBe(1);
    const res = await admin.post(`/admin/assignments/${String(assignment._id)}/archive`).type('form').send({ _csrf: await csrfFor(admin, '/admin/assignments') });
    expect(res.status).toBe(303);
    await runQueuedComplianceJobs();
    expect((await Assignment.findById(assignment._id).lean())!.status).toBe('archived');
    expect(await ComplianceRow.countDocuments({ assignment: assignment._id })).toBe(0);
    expect(await AuditEvent.countDocuments({ action: 'assignment.archived', 'target.id': String(assignment._id) })).toBe(1);
    const archived = await admin.get('/admin/assignments?show=archived');
    expect(archived.text).toContain('Archived');
  });

  test('when a staff member posts to an admin route, then 403 and nothing changes', async () => {
    const assignment = await createAssignment(district, {});
    const staff = await signIn(t.app, 'custodian@a.example');
    const page = await staff.get('/training');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const res = await staff.post(`/admin/assignments/${String(assignment._id)}/archive`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(403);
    expect((await Assignment.findById(assignment._id).lean())!.status).toBe('active');
  });

  test('when the admin asks to recalculate, then rows are rebuilt from the records and the action is audited', async () => {
    const assignment = await createAssignment(district, { moduleSlug: 'front-office', jobTitles: ['custodian'] });
    await ComplianceRow.deleteMany({ assignment: assignment._id });
    const res = await admin.post('/admin/assignments/rebuild').type('form').send({ _csrf: await csrfFor(admin, '/admin/assignments') });
    expect(res.status).toBe(303);
    await runQueuedComplianceJobs();
    expect(await ComplianceRow.countDocuments({ assignment: assignment._id, user: custodian._id })).toBe(1);
    expect(await AuditEvent.countDocuments({ action: 'compliance.rebuilt' })).toBe(1);
  });
});
