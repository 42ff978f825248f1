import request from 'supertest';
import { AuditEvent } from '../../../src/components/audit';
import { School } from '../../../src/components/schools';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent, postForm } from '../../helpers/session';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let otherDistrict: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let elsewhere: Awaited<ReturnType<typeof createSchool>>;
let adminAgent: Agent;
let principalAgent: Agent;
let staffAgent: Agent;

beforeAll(async () => {
  t = await startTestApp();
  district = await createDistrict();
  otherDistrict = await createDistrict();
  lincoln = await createSchool(district, { name: 'Lincoln Elementary', code: 'LIN' });
  elsewhere = await createSchool(otherDistrict, { name: 'Elsewhere High', code: 'ELS' });
  await createUser(district, { role: 'district_admin', email: 'admin@schools.example' });
  await createUser(district, { role: 'principal', schools: [lincoln], email: 'principal@schools.example' });
  await createUser(district, { role: 'staff', schools: [lincoln], email: 'staff@schools.example' });
  adminAgent = await signIn(t.app, 'admin@schools.example');
  principalAgent = await signIn(t.app, 'principal@schools.example');
  staffAgent = await signIn(t.app, 'staff@schools.example');
});
afterAll(async () => {
  await t.close();
});


describe('GET /admin/schools', () => {
  test('when anonymous, then it goes to sign-in', async () => {
    const res = await request(t.app).get('/admin/schools');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fadmin%2Fschools');
  });

  test.each([['principal'], ['staff']])('when signed in as %s, then 403', async (role) => {
    expect((await (role === 'principal' ? principalAgent : staffAgent).get('/admin/schools')).status).toBe(403);
  });

  test('when an admin lists, then only their district\'s schools appear, searchable by name or code', async () => {
    await createSchool(district, { name: 'Roosevelt Middle', code: 'ROO' });
    const all = await adminAgent.get('/admin/schools');
    expect(all.status).toBe(200);
    expect(all.text).toContain('Lincoln Elementary');
    expect(all.text).toContain('Roosevelt Middle');
    expect(all.text).not.toContain('Elsewhere High');
    const byCode = await adminAgent.get('/admin/schools').query({ q: 'roo' });
    expect(byCode.text).toContain('Roosevelt Middle');
    expect(byCode.text).not.toContain('Lincoln Elementary');
  });

  test('when filtering inactive schools, then only those appear', async () => {
    await createSchool(district, { name: 'Closed Campus', code: 'CLO', active: false });
    const active = await adminAgent.get('/admin/schools');
    expect(active.text).not.toContain('Closed Campus');
    const inactive = await adminAgent.get('/admin/schools').query({ active: 'false' });
    expect(inactive.text).toContain('Closed Campus');
    expect(inactive.text).not.toContain('Lincoln Elementary');
  });
});

describe('POST /admin/schools', () => {
  test('when anonymous, then refused and nothing is created', async () => {
    const res = await request(t.app).post('/admin/schools').type('form').send({ code: 'ANON', name: 'Anon School' });
    expect([401, 403]).toContain(res.status);
    expect(await School.exists({ code: 'ANON' })).toBeNull();
  });

  test('when a principal posts, then 403', async () => {
    const res = await postForm(principalAgent, '/admin/schools', { code: 'PRIN', name: 'By Principal' });
    expect(res.status).toBe(403);
    expect(await School.exists({ code: 'PRIN' })).toBeNull();
  });

  test('when the input is valid, then the school is created in the admin\'s district (code upper-cased) and audited', async () => {
    const res = await postForm(adminAgent, '/admin/schools', { code: 'new-1', name: 'Cesar Chavez High' });
    expect(res.status).toBe(303);
    const created = await School.findOne({ code: 'NEW-1' }).lean().orFail();
    expect(res.headers.location).toBe(`/admin/schools/${created._id}`);
    expect(created.district.toString()).toBe(String(district._id));
    expect(created.name).toBe('Cesar Chavez High');
    expect(await AuditEvent.exists({ action: 'school.created', 'target.id': String(created._id) })).not.toBeNull();
    const page = await adminAgent.get(res.headers.location);
    expect(page.text).toContain('School added.');
  });

  test('when fields are missing or invalid, then 422 with the errors and the entered values', async () => {
    const res = await postForm(adminAgent, '/admin/schools', { code: 'bad code!', name: '' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('School codes use letters');
    expect(res.text).toContain('Enter the school name.');
    expect(res.text).toContain('value="bad code!"');
  });

  test('when the code is already used in the district, then it is a form error', async () => {
    const res = await postForm(adminAgent, '/admin/schools', { code: 'lin', name: 'Another Lincoln' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('already has that code');
    expect(await School.countDocuments({ district: district._id, code: 'LIN' })).toBe(1);
  });

  test('when the code is used only in another district, then it can be created here', async () => {
    const res = await postForm(adminAgent, '/admin/schools', { code: 'ELS', name: 'Our Elsewhere' });
    expect(res.status).toBe(303);
  });

  test('when the body carries operator keys, then 422', async () => {
    const csrf = await csrfFor(adminAgent);
    const res = await adminAgent.post('/admin/schools').set('X-CSRF-Token', csrf).set('Accept', 'text/html').send({ code: { $gt: '' }, name: ['a', 'b'] });
    expect(res.status).toBe(422);
  });

  test('when a name contains markup, then the list and edit pages escape it', async () => {
    const res = await postForm(adminAgent, '/admin/schools', { code: 'XSS', name: '<img src=x onerror=alert(1)>' });
    expect(res.status).toBe(303);
    for (const path of ['/admin/schools?q=xss', res.headers.location]) {
      const page = await adminAgent.get(path);
      expect(page.text).not.toContain('<img src=x');
      expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    }
  });
});

describe('GET and POST /admin/schools/:id', () => {
  test('when the school is in another district, then 404 for reading and writing', async () => {
    expect((await adminAgent.get(`/admin/schools/${elsewhere._id}`)).status).toBe(404);
    expect((await postForm(adminAgent, `/admin/schools/${elsewhere._id}`, { code: 'ELS', name: 'Hijacked' })).status).toBe(404);
    expect((await postForm(adminAgent, `/admin/schools/${elsewhere._id}/deactivate`, {})).status).toBe(404);
    const stored = await School.findById(elsewhere._id).lean().orFail();
    expect(stored).toMatchObject({ name: 'Elsewhere High', active: true });
  });

  test('when staff open or post it, then 403', async () => {
    expect((await staffAgent.get(`/admin/schools/${lincoln._id}`)).status).toBe(403);
    expect((await postForm(staffAgent, `/admin/schools/${lincoln._id}`, { code: 'LIN', name: 'x' })).status).toBe(403);
  });

  test('when the admin renames a school, then it is saved and audited', async () => {
    const school = await createSchool(district, { name: 'Old Name', code: 'REN' });
    const form = await adminAgent.get(`/admin/schools/${school._id}`);
    expect(form.text).toContain('value="Old Name"');
    const res = await postForm(adminAgent, `/admin/schools/${school._id}`, { code: 'REN', name: 'New Name' });
    expect(res.status).toBe(303);
    expect((await School.findById(school._id).lean())!.name).toBe('New Name');
    expect(await AuditEvent.exists({ action: 'school.updated', 'target.id': String(school._id) })).not.toBeNull();
  });

  test('when the new code belongs to another school, then 422 and nothing changes', async () => {
    const school = await createSchool(district, { name: 'Code Clash', code: 'CLA' });
    const res = await postForm(adminAgent, `/admin/schools/${school._id}`, { code: 'LIN', name: 'Code Clash' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('already has that code');
    expect((await School.findById(school._id).lean())!.code).toBe('CLA');
  });

  test('when the admin deactivates and reactivates a school, then both are stored and audited', async () => {
    const school = await createSchool(district, { name: 'Toggle School', code: 'TOG' });
    expect((await postForm(adminAgent, `/admin/schools/${school._id}/deactivate`, {})).status).toBe(303);
    expect((await School.findById(school._id).lean())!.active).toBe(false);
    expect((await postForm(adminAgent, `/admin/schools/${school._id}/reactivate`, {})).status).toBe(303);
    expect((await School.findById(school._id).lean())!.active).toBe(true);
    const actions = (await AuditEvent.find({ 'target.id': String(school._id) }).lean()).map((e) => e.action).sort();
    expect(actions).toEqual(['school.deactivated', 'school.reactivated']);
  });

  test('when the id is malformed, then 404', async () => {
    expect((await adminAgent.get('/admin/schools/123')).status).toBe(404);
  });
});
