import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { complete, createAssignment, publishModule } from '../assignments/compliance-fixtures';
import { District } from '../../../src/components/districts';
import { syncComplianceForUsers } from '../../../src/components/assignments';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let admin: Agent;
const schools: Awaited<ReturnType<typeof createSchool>>[] = [];

beforeAll(async () => {
  t = await startTestApp();
  await publishModule('foundations', [1], 'Foundations');
  await publishModule('classroom', [1], 'Classroom');
  district = await createDistrict({ name: 'Harbor Unified' });
  // 27 schools (more than a page of 25); school i has 3 staff of whom min(i, 3) completed foundations.
  for (let i = 0; i < 27; i += 1) schools.push(await createSchool(district, { code: `S${String(i).padStart(2, '0')}`, name: `School ${String(i).padStart(2, '0')}` }));
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2099-01-31' } });
  await createAssignment(district, { moduleSlug: 'classroom', jobTitles: ['teacher'], due: { kind: 'fixed', date: '2020-01-31' } });
  const ids: string[] = [];
  for (const [i, school] of schools.entries()) {
    for (let j = 0; j < 3; j += 1) {
      const user = await createUser(district, { schools: [school], jobTitle: j === 0 ? 'teacher' : 'custodian' });
      ids.push(String(user._id));
      if (j < Math.min(i, 3)) await complete(user, 'foundations', 1, new Date(Date.now() - 86_400_000));
    }
  }
  // A bus driver at two schools counts at both schools, but once in the district totals.
  const driver = await createUser(district, { name: 'Two Schools', schools: [schools[0], schools[1]], jobTitle: 'bus_driver' });
  // People created straight through the model (not the users service) are synced here, as a roster import would.
  await syncComplianceForUsers([String(driver._id), ...ids]);
  await createUser(district, { role: 'district_admin', email: 'admin@harbor.example' });
  await createUser(district, { role: 'principal', email: 'principal@harbor.example', schools: [schools[0]] });
  admin = await signIn(t.app, 'admin@harbor.example');
});

afterAll(async () => {
  await t.close();
});

describe('GET /district', () => {
  test('when anonymous, then sign-in; staff or principal, then 403', async () => {
    expect((await request(t.app).get('/district').set('Accept', 'text/html')).status).toBe(303);
    expect((await (await signIn(t.app, 'principal@harbor.example')).get('/district')).status).toBe(403);
  });

  test('when the admin opens it, then district totals count each person once and schools are listed lowest compliance first', async () => {
    const res = await admin.get('/district');
    expect(res.status).toBe(200);
    // foundations: 27×3 + 1 driver = 82; classroom (teachers): 27 → 109 required, completed 0+1+2+3×24 = 75.
    expect(res.text).toContain('75 of 109 required trainings completed');
    expect(res.text).toContain('68.8%');
    expect(res.text).toContain('Page 1 of 2 · 27 matching');
    const first = res.text.indexOf('>School 00<');
    const second = res.text.indexOf('>School 01<');
    const later = res.text.indexOf('>School 10<');
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(second);
    expect(second).toBeLessThan(later);
    expect(res.text).toContain(`href="/school/${String(schools[0]._id)}"`);
  });

  test('when the admin reads it in Spanish, then percentages are written as everywhere else in Spanish ("68.8 %")', async () => {
    const res = await admin.get('/district?lang=es');
    await admin.get('/district?lang=en'); // back to English for the next tests, before any assertion can fail
    expect(res.status).toBe(200);
    expect(res.text).toContain('<span class="stat-value">68.8 %</span>');
    expect(res.text).not.toMatch(/>\d+(\.\d)?%</);
  });

  test('when rendered, then the bar chart is inline SVG with a title, a description and a table of the same figures', async () => {
    const res = await admin.get('/district');
    expect(res.text).toMatch(/<svg role="img" aria-labelledby="chart-title chart-desc"/);
    expect(res.text).toContain('<title id="chart-title">');
    expect(res.text).toMatch(/<rect x="\d+" y="\d+" width="[\d.]+" height="16" class="chart-bar"/);
    expect(res.text).toContain('Number of schools by compliance band');
    expect(res.text).not.toMatch(/<script(?! src="\/static\/js\/app.js")/);
  });

  test('when filtered by module and status, then only schools with people in that status are listed', async () => {
    const res = await admin.get('/district?module=foundations&status=not_started');
    expect(res.status).toBe(200);
    // Schools 00, 01, 02 have people who have not started foundations.
    expect(res.text).toContain('3 matching');
    expect(res.text).toContain('<option value="not_started" selected>');
    expect((await admin.get('/district?status=nope')).status).toBe(400);
  });

  test('when sorted by name descending and paged, then page 2 holds the rest', async () => {
    const res = await admin.get('/district?sort=name&dir=desc&page=2');
    expect(res.text).toContain('Page 2 of 2');
    expect(res.text).toContain('>School 00<');
    expect(res.text).not.toContain('>School 26<');
  });

  test('when the district sets a small-group threshold, then smaller schools are hidden but the totals stay', async () => {
    await District.updateOne({ _id: district._id }, { $set: { 'settings.smallGroupThreshold': 4 } });
    const res = await admin.get('/district');
    expect(res.text).toContain('Schools with fewer than 4 people are hidden to protect privacy.');
    expect(res.text).toContain('75 of 109 required trainings completed');
    // Schools 00 and 01 have 4 people (the driver): shown; the others (3) hidden.
    expect((res.text.match(/<td>hidden<\/td>/g) ?? []).length).toBe(23);
    await District.updateOne({ _id: district._id }, { $set: { 'settings.smallGroupThreshold': 0 } });
  });
});
