import request from 'supertest';
import { AuditEvent } from '../../../src/components/audit/audit.model';
import { LtiPlatform } from '../../../src/components/lti';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, csrfFrom, signIn, type Agent, postForm } from '../../helpers/session';
import { BASE_URL } from './lti.helpers';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let admin: Agent;
let adminId: string;

const VALID = {
  name: 'Canvas',
  issuer: 'https://canvas.instructure.com',
  clientId: '10000000000042',
  authLoginUrl: 'https://sso.canvaslms.com/api/lti/authorize_redirect',
  jwksUrl: 'https://sso.canvaslms.com/api/lti/security/jwks',
  deploymentIds: '42:abc\n43:def',
  linkByEmail: 'yes',
};

beforeAll(async () => {
  t = await startTestApp({ BASE_URL });
  district = await createDistrict();
  const user = await createUser(district, { role: 'district_admin' });
  adminId = user._id.toString();
  admin = await signIn(t.app, user.email);
});
afterAll(async () => {
  await t?.close();
});

const post = (agent: Agent, path: string, body: Record<string, unknown>) => postForm(agent, path, body, '/admin/lti');

describe('the LMS page', () => {
  test('when an admin opens /admin/lti, then it shows the login and launch URLs to give the LMS and a target link per module', async () => {
    const res = await admin.get('/admin/lti');
    expect(res.status).toBe(200);
    expect(res.text).toContain(`value="${BASE_URL}/lti/login"`);
    expect(res.text).toContain(`value="${BASE_URL}/lti/launch"`);
    expect(res.text).toContain(`value="${BASE_URL}/lti/jwks"`);
    // Started without XAPI_SECRET_KEY: the page says grade passback cannot work here.
    expect(res.text).toContain('Grade passback is unavailable on this server');
    expect(res.text).toContain('No LMS is registered yet');
    const es = await admin.get('/admin/lti?lang=es');
    expect(es.text).toContain('Inicio desde el LMS (LTI 1.3)');
    await admin.get('/admin/lti?lang=en');
  });

  test('when an admin registers an LMS, then it is stored for their district, audited, and listed', async () => {
    const res = await post(admin, '/admin/lti', { ...VALID, clientId: 'register-1' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/lti');
    const stored = await LtiPlatform.findOne({ clientId: 'register-1' }).lean();
    expect(stored).toMatchObject({ name: 'Canvas', issuer: VALID.issuer, deploymentIds: ['42:abc', '43:def'], linkByEmail: true });
    expect(String(stored!.district)).toBe(district._id.toString());
    expect(await AuditEvent.countDocuments({ action: 'lti.platform_created', 'target.id': stored!._id.toString(), actor: adminId })).toBe(1);
    expect((await admin.get('/admin/lti')).text).toContain(`<a href="/admin/lti/${stored!._id}">Canvas</a>`);
  });

  test('when the form is invalid, then 422 with each error and the entered values, and nothing is stored', async () => {
    const before = await LtiPlatform.countDocuments();
    const res = await post(admin, '/admin/lti', { name: '', issuer: 'http://not-https.example', clientId: 'has space', authLoginUrl: 'nope', jwksUrl: '', deploymentIds: ' \n ' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('class="error-summary"');
    for (const text of ['Enter a name for this LMS.', 'Enter an https:// address.', 'The client ID can be at most 200 characters, without spaces.', 'Enter the JWKS URL.', 'Enter at least one deployment ID.']) expect(res.text).toContain(text);
    expect(res.text).toContain('value="http://not-https.example"');
    expect(res.text).toContain('value="has space"');
    expect(res.text).toContain('aria-invalid="true"');
    expect(await LtiPlatform.countDocuments()).toBe(before);
  });

  test('when the issuer and client id are already registered (in any district), then 422 on the client id', async () => {
    await post(admin, '/admin/lti', { ...VALID, clientId: 'dup-1' });
    const res = await post(admin, '/admin/lti', { ...VALID, clientId: 'dup-1', name: 'Again' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('This issuer and client ID are already registered.');
    expect(res.text).toContain('value="Again"');
    expect(await LtiPlatform.countDocuments({ clientId: 'dup-1' })).toBe(1);
  });

  test('when an admin edits and then removes a registration, then both are stored and audited', async () => {
    await post(admin, '/admin/lti', { ...VALID, clientId: 'edit-1' });
    const id = (await LtiPlatform.findOne({ clientId: 'edit-1' }).lean())!._id.toString();
    const page = await admin.get(`/admin/lti/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('42:abc\n43:def</textarea>');

    const bad = await admin.post(`/admin/lti/${id}`).type('form').send({ _csrf: csrfFrom(page.text), ...VALID, clientId: 'edit-1', deploymentIds: '' });
    expect(bad.status).toBe(422);
    const saved = await post(admin, `/admin/lti/${id}`, { ...VALID, clientId: 'edit-1', name: 'Schoology', linkByEmail: undefined });
    expect(saved.status).toBe(303);
    expect(await LtiPlatform.findById(id).lean()).toMatchObject({ name: 'Schoology', linkByEmail: false });
    expect(await AuditEvent.countDocuments({ action: 'lti.platform_updated', 'target.id': id })).toBe(1);

    const removed = await post(admin, `/admin/lti/${id}/remove`, {});
    expect(removed.status).toBe(303);
    expect(await LtiPlatform.findById(id).lean()).toBeNull();
    expect(await AuditEvent.countDocuments({ action: 'lti.platform_removed', 'target.id': id })).toBe(1);
  });

  test('when an admin registers an LMS without touching the browser check, then the check is required; turning it off is stored, shown and audited', async () => {
    const form = await admin.get('/admin/lti/new');
    expect(form.text).toContain('<legend>Browser check</legend>');
    expect(form.text).toMatch(/<input id="field-allowUnbound" type="checkbox" name="allowUnbound" value="yes" aria-describedby="help-allowUnbound">/);
    expect(form.text).toContain('Leave this off.');
    expect((await admin.get('/admin/lti')).text).toContain('open the link in a new window');

    expect((await post(admin, '/admin/lti', { ...VALID, clientId: 'binding-1' })).status).toBe(303);
    const stored = await LtiPlatform.findOne({ clientId: 'binding-1' }).lean();
    expect(stored!.requireBrowserBinding).toBe(true);
    expect((await AuditEvent.findOne({ action: 'lti.platform_created', 'target.id': stored!._id.toString() }).lean())!.details).toMatchObject({ requireBrowserBinding: true });

    const id = stored!._id.toString();
    expect((await post(admin, `/admin/lti/${id}`, { ...VALID, clientId: 'binding-1', allowUnbound: 'yes' })).status).toBe(303);
    expect((await LtiPlatform.findById(id).lean())!.requireBrowserBinding).toBe(false);
    expect((await AuditEvent.findOne({ action: 'lti.platform_updated', 'target.id': id }).lean())!.details).toMatchObject({ requireBrowserBinding: false });
    expect((await admin.get(`/admin/lti/${id}`)).text).toContain('name="allowUnbound" value="yes" checked');
    expect((await admin.get('/admin/lti')).text).toContain('<td>Not required</td>');
    const es = await admin.get('/admin/lti?lang=es');
    expect(es.text).toContain('No obligatoria');
    await admin.get('/admin/lti?lang=en');
  });

  test("when an admin opens, edits or removes another district's registration, then it does not exist for them (404) and is unchanged", async () => {
    const other = await createDistrict();
    const foreign = await LtiPlatform.create({ ...VALID, district: other._id, clientId: 'foreign-1', deploymentIds: ['1'], linkByEmail: true });
    const id = foreign._id.toString();
    expect((await admin.get(`/admin/lti/${id}`)).status).toBe(404);
    expect((await post(admin, `/admin/lti/${id}`, { ...VALID, clientId: 'foreign-1', name: 'Taken' })).status).toBe(404);
    expect((await post(admin, `/admin/lti/${id}/remove`, {})).status).toBe(404);
    expect(await LtiPlatform.findById(id).lean()).toMatchObject({ name: 'Canvas' });
    expect(await AuditEvent.countDocuments({ 'target.id': id })).toBe(0);
  });

  test('when staff or a principal use the LMS pages, then 403 and nothing is stored', async () => {
    const school = await createSchool(district);
    const staff = await signIn(t.app, (await createUser(district, { schools: [school] })).email);
    const principal = await signIn(t.app, (await createUser(district, { role: 'principal', schools: [school] })).email);
    const before = await LtiPlatform.countDocuments();
    for (const agent of [staff, principal]) {
      expect((await agent.get('/admin/lti')).status).toBe(403);
      expect((await agent.get('/admin/lti/new')).status).toBe(403);
      const res = await agent.post('/admin/lti').type('form').send({ _csrf: await csrfFor(agent), ...VALID, clientId: 'by-staff' });
      expect(res.status).toBe(403);
    }
    expect(await LtiPlatform.countDocuments()).toBe(before);
    expect((await request(t.app).get('/admin/lti')).status).toBe(303);
  });
});
