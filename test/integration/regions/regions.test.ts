import request from 'supertest';
import { AuditEvent } from '../../../src/components/audit';
import { Region } from '../../../src/components/regions';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent, postForm } from '../../helpers/session';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let otherDistrict: Awaited<ReturnType<typeof createDistrict>>;
let adminAgent: Agent;
let principalAgent: Agent;
let staffAgent: Agent;

beforeAll(async () => {
  t = await startTestApp();
  district = await createDistrict();
  otherDistrict = await createDistrict();
  const school = await createSchool(district, { name: 'Lincoln Elementary', code: 'LIN' });
  await createUser(district, { role: 'district_admin', email: 'admin@regions.example' });
  await createUser(district, { role: 'principal', schools: [school], email: 'principal@regions.example' });
  await createUser(district, { role: 'staff', schools: [school], email: 'staff@regions.example' });
  [adminAgent, principalAgent, staffAgent] = await Promise.all(['admin', 'principal', 'staff'].map((who) => signIn(t.app, `${who}@regions.example`)));
});
afterAll(async () => {
  await t.close();
});


describe('GET /admin/regions', () => {
  test('when anonymous, then it goes to sign-in', async () => {
    const res = await request(t.app).get('/admin/regions');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fadmin%2Fregions');
  });

  test.each([['principal'], ['staff']])('when signed in as %s, then 403 for the list, the form and a post, and nothing is created', async (role) => {
    const agent = role === 'principal' ? principalAgent : staffAgent;
    expect((await agent.get('/admin/regions')).status).toBe(403);
    expect((await agent.get('/admin/regions/new')).status).toBe(403);
    expect((await postForm(agent, '/admin/regions', { code: 'BYROLE', name: 'By role' })).status).toBe(403);
    expect(await Region.exists({ code: 'BYROLE' })).toBeNull();
  });

  test("when an admin lists, then only their district's regions appear, with how many own contacts each has", async () => {
    await Region.create({ district: district._id, code: 'EAST', name: 'Region East', contacts: { region_operations: { name: 'East Ops', phone: '' } } });
    await Region.create({ district: otherDistrict._id, code: 'FAR', name: 'Faraway Region' });
    const res = await adminAgent.get('/admin/regions');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Region East');
    expect(res.text).toContain('<td>1 contact</td>');
    expect(res.text).not.toContain('Faraway Region');
  });
});

describe('POST /admin/regions', () => {
  test('when the input is valid, then the region is created with its contacts (code upper-cased) and audited', async () => {
    const res = await postForm(adminAgent, '/admin/regions', {
      code: 'west',
      name: 'Region West',
      contact_region_operations_name: 'West Operations Desk',
      contact_region_operations_name_es: 'la oficina de operaciones del Oeste',
      contact_region_operations_phone: '(213) 555-0150',
    });
    expect(res.status).toBe(303);
    const created = await Region.findOne({ district: district._id, code: 'WEST' }).lean().orFail();
    expect(res.headers.location).toBe(`/admin/regions/${created._id}`);
    expect(created.name).toBe('Region West');
    expect(Object.fromEntries(Object.entries(created.contacts ?? {}))).toEqual({ region_operations: { name: 'West Operations Desk', nameEs: 'la oficina de operaciones del Oeste', phone: '(213) 555-0150' } });
    const event = await AuditEvent.findOne({ action: 'region.created', 'target.id': String(created._id) }).lean().orFail();
    expect(event.details).toMatchObject({ code: 'WEST', contacts: [{ key: 'region_operations', from: null, to: { name: 'West Operations Desk', phone: '(213) 555-0150' } }] });
    const page = await adminAgent.get(res.headers.location);
    expect(page.text).toContain('Region added.');
    expect(page.text).toContain('value="West Operations Desk"');
  });

  test('when fields are missing or invalid, then 422 with the errors and every entered value, and nothing is stored', async () => {
    const res = await postForm(adminAgent, '/admin/regions', { code: 'bad code!', name: '', contact_school_police_name: 'North dispatch', contact_school_police_phone: 'call me', contact_principal_phone: '(213) 555-0101' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Region codes use letters');
    expect(res.text).toContain('Enter the region name.');
    expect(res.text).toContain('Enter a phone number using digits');
    expect(res.text).toContain('Enter a name or title for this phone number.');
    expect(res.text).toContain('value="bad code!"');
    expect(res.text).toContain('value="North dispatch"');
    expect(res.text).toContain('value="call me"');
    expect(res.text).toContain('value="(213) 555-0101"');
    expect(res.text).toContain('class="error-summary"');
    expect(await Region.exists({ district: district._id, name: '' })).toBeNull();
  });

  test('when the code is already used in the district, then 422 with the entered values and one region keeps it', async () => {
    const res = await postForm(adminAgent, '/admin/regions', { code: 'east', name: 'Second East' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Another region in this district already has that code.');
    expect(res.text).toContain('value="Second East"');
    expect(await Region.countDocuments({ district: district._id, code: 'EAST' })).toBe(1);
  });

  test('when the code is used only in another district, then it can be created here', async () => {
    expect((await postForm(adminAgent, '/admin/regions', { code: 'FAR', name: 'Our Far' })).status).toBe(303);
  });

  test('when the body carries operator keys, then 422 and nothing is stored', async () => {
    const csrf = await csrfFor(adminAgent);
    const res = await adminAgent.post('/admin/regions').set('X-CSRF-Token', csrf).set('Accept', 'text/html').send({ code: { $gt: '' }, name: ['a', 'b'], contact_principal_name: { $ne: null } });
    expect(res.status).toBe(422);
  });

  test('when the page is read in Spanish, then the form is in Spanish', async () => {
    const res = await adminAgent.get('/admin/regions/new?lang=es');
    await adminAgent.get('/admin/regions?lang=en');
    expect(res.text).toContain('Agregar una región');
    expect(res.text).toContain('Código de la región');
  });
});

describe('GET and POST /admin/regions/:id', () => {
  test("when the region is another district's, then 404 for reading and writing, and it is unchanged", async () => {
    const far = await Region.findOne({ district: otherDistrict._id, code: 'FAR' }).lean().orFail();
    expect((await adminAgent.get(`/admin/regions/${far._id}`)).status).toBe(404);
    expect((await postForm(adminAgent, `/admin/regions/${far._id}`, { code: 'FAR', name: 'Hijacked' })).status).toBe(404);
    expect((await Region.findById(far._id).lean())!.name).toBe('Faraway Region');
  });

  test('when the id is malformed, then 404', async () => {
    expect((await adminAgent.get('/admin/regions/123')).status).toBe(404);
  });

  test('when staff post to a region, then 403 and it is unchanged', async () => {
    const east = await Region.findOne({ district: district._id, code: 'EAST' }).lean().orFail();
    expect((await postForm(staffAgent, `/admin/regions/${east._id}`, { code: 'EAST', name: 'Staff edit' })).status).toBe(403);
    expect((await Region.findById(east._id).lean())!.name).toBe('Region East');
  });

  test('when the admin renames a region and changes its contacts, then it is saved and the audit event holds old → new', async () => {
    const east = await Region.findOne({ district: district._id, code: 'EAST' }).lean().orFail();
    const form = await adminAgent.get(`/admin/regions/${east._id}`);
    expect(form.status).toBe(200);
    expect(form.text).toContain('value="East Ops"');
    const res = await postForm(adminAgent, `/admin/regions/${east._id}`, { code: 'EAST', name: 'Region East (Eastside)', contact_region_operations_name: 'East Operations', contact_region_operations_phone: '(323) 555-0111' });
    expect(res.status).toBe(303);
    const stored = await Region.findById(east._id).lean().orFail();
    expect(stored.name).toBe('Region East (Eastside)');
    expect(stored.contacts?.region_operations).toEqual({ name: 'East Operations', phone: '(323) 555-0111' });
    const event = await AuditEvent.findOne({ action: 'region.updated', 'target.id': String(east._id) }).lean().orFail();
    expect(event.details).toEqual({
      from: { code: 'EAST', name: 'Region East' },
      to: { code: 'EAST', name: 'Region East (Eastside)' },
      contacts: [{ key: 'region_operations', from: { name: 'East Ops', phone: '' }, to: { name: 'East Operations', phone: '(323) 555-0111' } }],
    });
  });

  test('when an edit is invalid or takes another region\'s code, then 422 with the entered values and nothing changes', async () => {
    const east = await Region.findOne({ district: district._id, code: 'EAST' }).lean().orFail();
    const invalid = await postForm(adminAgent, `/admin/regions/${east._id}`, { code: 'EAST', name: 'Still East', contact_counsel_office_phone: 'not a phone', contact_counsel_office_name: 'Counsel' });
    expect(invalid.status).toBe(422);
    expect(invalid.text).toContain('value="not a phone"');
    const taken = await postForm(adminAgent, `/admin/regions/${east._id}`, { code: 'west', name: 'Still East' });
    expect(taken.status).toBe(422);
    expect(taken.text).toContain('Another region in this district already has that code.');
    expect(taken.text).toContain('value="Still East"');
    expect((await Region.findById(east._id).lean())!.code).toBe('EAST');
    expect((await Region.findById(east._id).lean())!.name).toBe('Region East (Eastside)');
  });

  test('when a region name contains markup, then the pages escape it', async () => {
    const res = await postForm(adminAgent, '/admin/regions', { code: 'XSS', name: '<img src=x onerror=alert(1)>' });
    expect(res.status).toBe(303);
    for (const path of ['/admin/regions', res.headers.location]) {
      const page = await adminAgent.get(path);
      expect(page.text).not.toContain('<img src=x');
      expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    }
  });
});
