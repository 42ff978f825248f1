import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { complete, createAssignment, publishModule, startAttempt } from '../assignments/compliance-fixtures';
import { runQueuedComplianceJobs, syncComplianceForUsers } from '../../../src/components/assignments';
import { User } from '../../../src/components/users';
import { Attempt } from '../../../src/components/completions';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let foreignSchool: Awaited<ReturnType<typeof createSchool>>;
let principal: Agent;
let people: Record<string, Awaited<ReturnType<typeof createUser>>>;
let frontOffice: Awaited<ReturnType<typeof createAssignment>>;

const DAY = 86_400_000;
const past = (days: number) => new Date(Date.now() - days * DAY);

beforeAll(async () => {
  t = await startTestApp();
  await publishModule('foundations', [1], 'Foundations');
  await publishModule('front-office', [1], 'Front office');
  district = await createDistrict();
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  const other = await createDistrict();
  foreignSchool = await createSchool(other, { code: 'FOR' });
  await createUser(other, { role: 'district_admin', email: 'admin@other.example' });
  await createUser(district, { role: 'district_admin', email: 'admin@d.example' });
  await createUser(district, { role: 'principal', email: 'principal.lin@d.example', schools: [lincoln] });
  await createUser(district, { role: 'principal', email: 'principal.roo@d.example', schools: [roosevelt] });
  people = {
    done: await createUser(district, { name: 'Ana Done', email: 'done@d.example', schools: [lincoln], jobTitle: 'teacher' }),
    started: await createUser(district, { name: 'Ben Started', email: 'started@d.example', schools: [lincoln], jobTitle: 'custodian' }),
    idle: await createUser(district, { name: 'Cy Idle', email: 'idle@d.example', schools: [lincoln], jobTitle: 'front_office' }),
    gone: await createUser(district, { name: 'Dee Gone', email: 'gone@d.example', schools: [lincoln], jobTitle: 'teacher', active: false }),
    other: await createUser(district, { name: 'Eve Roosevelt', email: 'eve@d.example', schools: [roosevelt], jobTitle: 'teacher' }),
  };
  // Foundations is overdue for everyone who has not completed it; front office is due far ahead.
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2024-09-30' } });
  frontOffice = await createAssignment(district, { moduleSlug: 'front-office', jobTitles: ['front_office', 'custodian'], due: { kind: 'fixed', date: '2099-06-30' } });
  await complete(people.done, 'foundations', 1, past(10), 88);
  await startAttempt(people.started, 'front-office');
  principal = await signIn(t.app, 'principal.lin@d.example');
});

afterAll(async () => {
  await t.close();
});

describe('GET /school/:schoolId', () => {
  test('when anonymous, then redirected to sign-in', async () => {
    const res = await request(t.app).get(`/school/${String(lincoln._id)}`).set('Accept', 'text/html');
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login\?next=/);
  });

  test('when signed in as staff, then 403', async () => {
    const staff = await signIn(t.app, 'done@d.example');
    expect((await staff.get(`/school/${String(lincoln._id)}`)).status).toBe(403);
  });

  test('when a principal opens another school, a school of another district or a made-up id, then 404', async () => {
    expect((await principal.get(`/school/${String(roosevelt._id)}`)).status).toBe(404);
    expect((await principal.get(`/school/${String(foreignSchool._id)}`)).status).toBe(404);
    expect((await principal.get('/school/0123456789abcdef01234567')).status).toBe(404);
    expect((await principal.get('/school/not-an-id')).status).toBe(404);
    const foreignAdmin = await signIn(t.app, 'admin@other.example');
    expect((await foreignAdmin.get(`/school/${String(lincoln._id)}`)).status).toBe(404);
  });

  test('when the principal opens their school, then every active person × assigned module is listed with status, due date, completion and score', async () => {
    const res = await principal.get(`/school/${String(lincoln._id)}`);
    expect(res.status).toBe(200);
    const html = res.text;
    expect(html).toContain('Lincoln Elementary');
    // 3 active people × foundations + 2 × front office = 5 required trainings, 1 completed.
    expect(html).toContain('1 of 5 required trainings completed');
    expect(html).toContain('20%');
    expect(html).toContain('Ana Done');
    expect(html).toContain('88%');
    expect(html).toContain('status-completed');
    expect(html).toContain('status-overdue');
    expect(html).toContain('status-in_progress');
    expect(html).toContain('status-not_started');
    expect(html).toContain(`/school/${String(lincoln._id)}/staff/${String(people.done._id)}`);
    // Inactive staff and other schools' staff are not listed.
    expect(html).not.toContain('Dee Gone');
    expect(html).not.toContain('Eve Roosevelt');
  });

  test('when a principal is required to train too, then their row names their role where staff rows name a job title', async () => {
    const own = await createDistrict();
    const school = await createSchool(own, { code: 'PRI', name: 'Principal Test School' });
    await createUser(own, { role: 'principal', name: 'Pat Principal', email: 'pat.principal@p.example', schools: [school] });
    await createUser(own, { name: 'Sam Staff', email: 'sam.staff@p.example', schools: [school], jobTitle: 'custodian' });
    await createAssignment(own, { moduleSlug: 'foundations', roles: ['staff', 'principal'], due: { kind: 'fixed', date: '2099-06-30' } });
    const pat = await signIn(t.app, 'pat.principal@p.example');
    const html = (await pat.get(`/school/${String(school._id)}`)).text;
    const table = html.slice(html.indexOf('<tbody'));
    const rowOf = (name: string) => table.slice(table.indexOf(name), table.indexOf('</tr>', table.indexOf(name)));
    expect(rowOf('Pat Principal')).toContain('<td>Principal</td>');
    expect(rowOf('Sam Staff')).toContain('<td>Custodian</td>');
  });

  test('when the principal reads it in Spanish, then the compliance figure and scores are written "20 %" and "88 %"', async () => {
    const res = await principal.get(`/school/${String(lincoln._id)}?lang=es`);
    await principal.get(`/school/${String(lincoln._id)}?lang=en`); // back to English for the next tests, before any assertion can fail
    expect(res.status).toBe(200);
    expect(res.text).toContain('<span class="stat-value">20 %</span>');
    expect(res.text).toContain('<td>88 %</td>');
    expect(res.text).not.toMatch(/>\d+(\.\d)?%</);
  });

  test('when filtered by status, job title and module, then only matching rows are listed and the filters stay selected', async () => {
    const overdue = await principal.get(`/school/${String(lincoln._id)}?status=overdue`);
    expect(overdue.status).toBe(200);
    expect(overdue.text).toContain('Ben Started');
    expect(overdue.text).toContain('Cy Idle');
    expect(overdue.text).not.toContain('>Ana Done<');
    expect(overdue.text).toContain('<option value="overdue" selected>');
    const custodians = await principal.get(`/school/${String(lincoln._id)}?jobTitle=custodian&module=front-office`);
    expect(custodians.text).toContain('Ben Started');
    expect(custodians.text).not.toContain('Cy Idle');
    expect(custodians.text).toContain('1 matching');
  });

  test('when a filter value is not one of the choices or is repeated, then 400; bracket keys are not parsed into operators', async () => {
    expect((await principal.get(`/school/${String(lincoln._id)}?status=lost`)).status).toBe(400);
    expect((await principal.get(`/school/${String(lincoln._id)}?module=foundations&module=front-office`)).status).toBe(400);
    const bracket = await principal.get(`/school/${String(lincoln._id)}?module[$ne]=x`);
    expect(bracket.status).toBe(200);
    expect(bracket.text).toContain('1 of 5 required trainings completed');
  });

  test('when sorted by status, then the most urgent come first', async () => {
    const res = await principal.get(`/school/${String(lincoln._id)}?sort=status`);
    const order = ['status-overdue', 'status-not_started', 'status-in_progress', 'status-completed'].map((c) => res.text.indexOf(c));
    expect(order.every((pos) => pos > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(res.text).toContain('aria-sort="ascending"');
  });

  test('when a compliance job of the district is queued, then the school page says which module\'s figures are being updated, until it has run', async () => {
    const admin = await signIn(t.app, 'admin@d.example');
    const retry = await admin.post(`/admin/assignments/${String(frontOffice._id)}/retry`).type('form').send({ _csrf: await csrfFor(admin, '/admin/assignments') });
    expect(retry.status).toBe(303);
    const notice = 'Compliance figures for Front office (EN) are being updated; they may be a minute out of date.';
    expect((await principal.get(`/school/${String(lincoln._id)}`)).text).toContain(notice);
    expect((await principal.get(`/school/${String(lincoln._id)}?lang=es`)).text).toContain('Las cifras de cumplimiento de Front office (ES) se están actualizando');
    await principal.get(`/school/${String(lincoln._id)}?lang=en`);
    await runQueuedComplianceJobs();
    const after = await principal.get(`/school/${String(lincoln._id)}`);
    expect(after.text).not.toContain('are being updated');
    expect(after.text).toContain('Ben Started');
  });

  test('when a district admin opens any school of the district, then 200', async () => {
    const admin = await signIn(t.app, 'admin@d.example');
    expect((await admin.get(`/school/${String(roosevelt._id)}`)).status).toBe(200);
  });

  test('when a school has more people than a page, then the list is paged', async () => {
    const big = await createSchool(district, { code: 'BIG', name: 'Big High' });
    const ids: string[] = [];
    for (let i = 0; i < 55; i += 1) ids.push(String((await createUser(district, { name: `Person ${String(i).padStart(2, '0')}`, schools: [big] }))._id));
    await syncComplianceForUsers(ids);
    const admin = await signIn(t.app, 'admin@d.example');
    const first = await admin.get(`/school/${String(big._id)}`);
    expect(first.text).toContain('Page 1 of 2 · 55 matching');
    expect(first.text).toContain('Person 49');
    expect(first.text).not.toContain('Person 50');
    const second = await admin.get(`/school/${String(big._id)}?page=2`);
    expect(second.text).toContain('Person 54');
    expect(second.text).not.toContain('Person 49');
  });
});

describe('GET /school/:schoolId/staff/:userId', () => {
  test('when the principal opens a person of the school, then assignments, completions and attempts show with scores only', async () => {
    await Attempt.create({ user: people.done._id, district: district._id, moduleSlug: 'foundations', moduleVersion: 1, status: 'failed', score: 40, position: { scenarioIndex: 0, nodeId: 'n1' }, decisions: [{ scenarioId: 's1', nodeId: 'n1', choiceId: 'secret-choice', outcome: 'wrong', points: 0, at: new Date() }] });
    const res = await principal.get(`/school/${String(lincoln._id)}/staff/${String(people.done._id)}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Ana Done');
    expect(res.text).toContain('88%');
    expect(res.text).toContain('40%');
    expect(res.text).toContain('Not passed');
    expect(res.text).not.toContain('secret-choice');
  });

  test('when the person is at another school or the school is not the principal\'s, then 404; staff get 403', async () => {
    expect((await principal.get(`/school/${String(lincoln._id)}/staff/${String(people.other._id)}`)).status).toBe(404);
    expect((await principal.get(`/school/${String(roosevelt._id)}/staff/${String(people.other._id)}`)).status).toBe(404);
    const staff = await signIn(t.app, 'idle@d.example');
    expect((await staff.get(`/school/${String(lincoln._id)}/staff/${String(people.idle._id)}`)).status).toBe(403);
  });
});

describe('GET /school/:schoolId/reminders', () => {
  test('when the principal asks for reminders, then overdue and pending emails are listed to copy, with a mailto link', async () => {
    const res = await principal.get(`/school/${String(lincoln._id)}/reminders`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Overdue or expired (2)');
    expect(res.text).toMatch(/started@d\.example, idle@d\.example|idle@d\.example, started@d\.example/);
    expect(res.text).toContain('mailto:?bcc=');
    expect(res.text).not.toContain('done@d.example');
    expect((await principal.get(`/school/${String(roosevelt._id)}/reminders`)).status).toBe(404);
  });

  test('when a person is deactivated, then they leave the school page at once', async () => {
    await User.updateOne({ _id: people.idle._id }, { $set: { active: false } });
    await syncComplianceForUsers([String(people.idle._id)]);
    const res = await principal.get(`/school/${String(lincoln._id)}`);
    expect(res.text).not.toContain('Cy Idle');
    expect(res.text).toContain('1 of 3 required trainings completed');
  });
});
