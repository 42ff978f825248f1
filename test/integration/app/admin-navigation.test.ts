import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';

const AREAS = ['/admin/assignments', '/admin/modules', '/admin/users', '/admin/roster', '/admin/scim', '/admin/xapi', '/admin/lti', '/admin/schools', '/admin/regions', '/admin/settings', '/admin/audit'];

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;

beforeAll(async () => {
  t = await startTestApp();
  district = await createDistrict();
  school = await createSchool(district);
  admin = await signIn(t.app, (await createUser(district, { role: 'district_admin' })).email);
});
afterAll(async () => {
  await t.close();
});

/** The links inside the <nav> with this accessible name. */
function navLinks(html: string, label: string): string[] {
  const nav = html.match(new RegExp(`<nav[^>]*aria-label="${label}"[^>]*>([\\s\\S]*?)</nav>`));
  if (!nav) return [];
  return [...nav[1].matchAll(/<a href="([^"]+)"/g)].map((m) => m[1]);
}

describe('administration navigation', () => {
  test('when an admin opens any page, then the main navigation has one Administration link instead of every area', async () => {
    const res = await admin.get('/district');

    expect(res.status).toBe(200);
    const main = navLinks(res.text, 'Main navigation');
    expect(main).toEqual(expect.arrayContaining(['/training', '/district', '/admin', '/account']));
    for (const area of AREAS) expect(main).not.toContain(area);
    expect(navLinks(res.text, 'Administration sections')).toEqual([]);
  });

  test('when an admin opens /admin, then every area is listed with what it is for, and the page is current in the main navigation', async () => {
    const res = await admin.get('/admin');

    expect(res.status).toBe(200);
    expect(res.text).toContain('<title>Administration · ');
    expect(res.text).toContain('<a href="/admin" aria-current=page>Administration</a>');
    const listed = [...res.text.matchAll(/<li><a href="(\/admin\/[^"]+)">/g)].map((m) => m[1]);
    expect(listed).toEqual(AREAS);
    expect(res.text).toContain('Bring the staff list from HR as a CSV file');
  });

  test('when an admin opens an area, then a second navigation lists every area with the current one marked, and Administration is marked as the current section', async () => {
    const res = await admin.get('/admin/users');

    expect(res.status).toBe(200);
    expect(navLinks(res.text, 'Administration sections')).toEqual(AREAS);
    expect(res.text).toContain('<a href="/admin/users" aria-current=page>Staff</a>');
    expect(res.text).toContain('<a href="/admin" aria-current=true>Administration</a>');
    expect(res.text.match(/aria-current=page/g)).toHaveLength(1);
  });

  test('when the admin reads in Spanish, then the navigation and the index are in Spanish', async () => {
    const res = await admin.get('/admin/settings?lang=es');

    expect(res.status).toBe(200);
    expect(navLinks(res.text, 'Secciones de administración')).toEqual(AREAS);
    const index = await admin.get('/admin?lang=es');
    expect(index.text).toContain('<h1>Administración</h1>');
    expect(index.text).toContain('Importe la lista de personal de Recursos Humanos');
  });

  test('when staff or a principal open /admin, then 403 and no administration links appear for them', async () => {
    const teacher = await signIn(t.app, (await createUser(district, { schools: [school] })).email);
    const principal = await signIn(t.app, (await createUser(district, { role: 'principal', schools: [school] })).email);

    for (const agent of [teacher, principal]) {
      expect((await agent.get('/admin')).status).toBe(403);
      const home = await agent.get('/training');
      expect(navLinks(home.text, 'Main navigation')).not.toContain('/admin');
    }
  });

  test('when an anonymous visitor opens /admin, then they are sent to sign in', async () => {
    const res = await request(t.app).get('/admin').set('Accept', 'text/html');

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fadmin');
  });
});
