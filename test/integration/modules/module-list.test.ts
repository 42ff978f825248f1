import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { countOf, createAssignment, createCompletion, prepareVersionedModules, rowWith } from './modules.helpers';

let t: TestApp;
let removeModules: () => Promise<void>;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;

beforeAll(async () => {
  t = await startTestApp();
  removeModules = await prepareVersionedModules();
  district = await createDistrict();
  school = await createSchool(district, { code: 'LIN' });
  admin = await signIn(t.app, (await createUser(district, { role: 'district_admin' })).email);
});
afterAll(async () => {
  await removeModules();
  await t.close();
});

describe('GET /admin/modules', () => {
  test('when an anonymous visitor opens it, then they are sent to sign in', async () => {
    const res = await request(t.app).get('/admin/modules').set('Accept', 'text/html');

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fadmin%2Fmodules');
  });

  test('when staff or a principal open it, then 403', async () => {
    const teacher = await createUser(district, { schools: [school] });
    const principal = await createUser(district, { role: 'principal', schools: [school] });

    expect((await (await signIn(t.app, teacher.email)).get('/admin/modules')).status).toBe(403);
    expect((await (await signIn(t.app, principal.email)).get('/admin/modules')).status).toBe(403);
  });

  test('when an admin opens it, then every module has a row with its latest version, length, pass mark and audience', async () => {
    const res = await admin.get('/admin/modules');

    expect(res.status).toBe(200);
    expect(countOf(res.text, /<h1[ >]/)).toBe(1);
    expect(res.text).toContain('<caption>Training modules, their latest version and use in your district</caption>');
    expect(res.text).toContain('<a href="/admin/modules" aria-current=page>Modules</a>');
    const basics = rowWith(res.text, 'href="/admin/modules/fixture-basics"');
    expect(basics).toContain('<th scope="row"><a href="/admin/modules/fixture-basics">Fixture basics</a><br><code>fixture-basics</code></th>');
    expect(basics).toContain('Version 2<br><span class="muted">current as of May 1, 2026</span>');
    expect(basics).toContain('About 10 minutes<br>2 scenarios, 4 decisions');
    expect(basics).toContain('<td>70%</td>');
    expect(basics).toContain('Staff, Principal; all job titles');
    const office = rowWith(res.text, 'href="/admin/modules/fixture-office"');
    expect(office).toContain('Version 1<br>');
    expect(office).toContain('1 scenario, 2 decisions');
    expect(office).toContain('<td>50%</td>');
    expect(office).toContain('Staff; Front office');
  });

  test('when people of two districts hold completions, then the counts per version are this district’s only, revoked ones excluded', async () => {
    const own = await createDistrict();
    const ownSchool = await createSchool(own);
    const ownAdmin = await signIn(t.app, (await createUser(own, { role: 'district_admin' })).email);
    const staff = await Promise.all([1, 2, 3, 4].map(() => createUser(own, { schools: [ownSchool] })));
    await createCompletion(staff[0], 'fixture-basics', 1);
    await createCompletion(staff[1], 'fixture-basics', 1);
    await createCompletion(staff[1], 'fixture-basics', 2);
    await createCompletion(staff[2], 'fixture-basics', 1, { isRevoked: true });
    await createCompletion(staff[3], 'fixture-office', 1);
    const other = await createDistrict();
    const otherSchool = await createSchool(other);
    for (const person of await Promise.all([1, 2, 3].map(() => createUser(other, { schools: [otherSchool] })))) {
      await createCompletion(person, 'fixture-basics', 1);
      await createCompletion(person, 'fixture-basics', 2);
      await createCompletion(person, 'fixture-office', 1);
    }

    const res = await ownAdmin.get('/admin/modules');

    expect(res.status).toBe(200);
    const basics = rowWith(res.text, 'href="/admin/modules/fixture-basics"');
    expect(basics).toContain('<li>v2: 1 person</li><li>v1: 2 people</li>');
    expect(rowWith(res.text, 'href="/admin/modules/fixture-office"')).toContain('<li>v1: 1 person</li>');
    const otherAdmin = await signIn(t.app, (await createUser(other, { role: 'district_admin' })).email);
    const otherPage = await otherAdmin.get('/admin/modules');
    expect(rowWith(otherPage.text, 'href="/admin/modules/fixture-basics"')).toContain('<li>v2: 3 people</li><li>v1: 3 people</li>');
  });

  test('when the district has active assignments of a module, then the row links to each with its minimum version, and archived or other districts’ ones are not listed', async () => {
    const own = await createDistrict();
    const ownSchool = await createSchool(own, { code: 'ROO' });
    const ownAdmin = await signIn(t.app, (await createUser(own, { role: 'district_admin' })).email);
    const active = await createAssignment(own, { moduleSlug: 'fixture-basics', minVersion: 2, roles: ['staff'], jobTitles: ['teacher'], schools: [ownSchool] });
    const archived = await createAssignment(own, { moduleSlug: 'fixture-basics', status: 'archived' });
    const elsewhere = await createAssignment(await createDistrict(), { moduleSlug: 'fixture-basics' });

    const res = await ownAdmin.get('/admin/modules');

    const basics = rowWith(res.text, 'href="/admin/modules/fixture-basics"');
    expect(basics).toContain(`<a href="/admin/assignments/${active._id}/edit">Staff; Teacher; schools: ROO</a> · version 2 or later`);
    expect(res.text).not.toContain(String(archived._id));
    expect(res.text).not.toContain(String(elsewhere._id));
    expect(rowWith(res.text, 'href="/admin/modules/fixture-office"')).toContain('No active assignment uses this module.');
    expect((await ownAdmin.get(`/admin/assignments/${active._id}/edit`)).status).toBe(200);
  });

  test('when the admin reads Spanish (?lang=es), then the page and the module titles are in Spanish', async () => {
    const res = await admin.get('/admin/modules?lang=es');

    expect(res.status).toBe(200);
    expect(res.text).toContain('<html lang="es"');
    expect(res.text).toContain('<h1>Módulos de capacitación</h1>');
    expect(res.text).toContain('<a href="/admin/modules" aria-current=page>Módulos</a>');
    const basics = rowWith(res.text, 'href="/admin/modules/fixture-basics"');
    expect(basics).toContain('>Conceptos básicos de prueba</a>');
    expect(basics).toContain('vigente al 1 de mayo de 2026');
    expect(basics).toContain('Aproximadamente 10 minutos<br>2 escenarios, 4 decisiones');
    expect(basics).toContain('<td>70 %</td>');
    await admin.get('/admin/modules?lang=en');
  });
});
