import { createHash } from 'node:crypto';
import request from 'supertest';
import { AuditEvent } from '../../../src/components/audit';
import { ScimToken } from '../../../src/components/scim';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn } from '../../helpers/session';
import { createTokenOnPage, scimClient } from './scim.helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

async function world() {
  const district = await createDistrict();
  const school = await createSchool(district);
  const adminUser = await createUser(district, { role: 'district_admin', name: 'Dana Admin' });
  const admin = await signIn(t.app, adminUser.email);
  return { district, school, adminUser, admin };
}

describe('the provisioning token page', () => {
  test('when a district admin opens the page with no token, then it shows the tenant URL and that provisioning is off, in English and Spanish', async () => {
    const { admin } = await world();

    const res = await admin.get('/admin/scim');
    const es = await admin.get('/admin/scim?lang=es');

    expect(res.status).toBe(200);
    expect(res.text).toContain('<h1>Automatic provisioning (SCIM)</h1>');
    expect(res.text).toContain(`value="${t.config.baseUrl}/scim/v2"`);
    expect(res.text).toContain('No token yet: provisioning is off.');
    expect(res.text).toContain('<a href="/admin/scim" aria-current=page>');
    expect(es.text).toContain('<h1>Aprovisionamiento automático (SCIM)</h1>');
    expect(es.text).toContain('Todavía no hay token');
  });

  test('when the admin creates a token, then it is shown once (not cached), only its SHA-256 hash is stored, the page then shows who created it, and the event is audited', async () => {
    const { district, adminUser, admin } = await world();
    const csrf = await csrfFor(admin, '/admin/scim');

    const res = await admin.post('/admin/scim/token').type('form').send({ _csrf: csrf });

    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const token = /id="scim-token" type="text" value="([^"]+)"/.exec(res.text)![1];
    expect(token).toMatch(/^sstscim_[A-Za-z0-9_-]{43}$/);
    const stored = await ScimToken.collection.findOne({ district: district._id });
    expect(stored!.tokenHash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(String(stored!.createdBy)).toBe(String(adminUser._id));
    const page = await admin.get('/admin/scim');
    expect(page.text).not.toContain(token);
    expect(page.text).toContain('by Dana Admin');
    expect(page.text).toContain('Not used yet');
    expect(await AuditEvent.findOne({ district: district._id, action: 'scim.token_created' }).lean()).toMatchObject({ actor: adminUser._id, details: { replaced: false } });

    expect((await scimClient(t.app, token).get('/Users')).status).toBe(200);
    expect((await admin.get('/admin/scim')).text).not.toContain('Not used yet');
  });

  test('when a token exists and the admin creates another without ticking the confirmation, then 422 with the error summary; with it, the old token stops working at once', async () => {
    const { district, admin } = await world();
    const first = await createTokenOnPage(admin);
    const csrf = await csrfFor(admin, '/admin/scim');

    const refused = await admin.post('/admin/scim/token').type('form').send({ _csrf: csrf });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('class="error-summary"');
    expect(refused.text).toContain('href="#field-replace"');
    expect(refused.text).toContain('aria-invalid=true');
    expect(await ScimToken.countDocuments({ district: district._id })).toBe(1);

    const second = await createTokenOnPage(admin, true);
    expect(second).not.toBe(first);
    expect(await ScimToken.countDocuments({ district: district._id })).toBe(1);
    expect((await scimClient(t.app, first).get('/Users')).status).toBe(401);
    expect((await scimClient(t.app, second).get('/Users')).status).toBe(200);
    expect(await AuditEvent.findOne({ district: district._id, action: 'scim.token_created', 'details.replaced': true }).lean()).not.toBeNull();
  });

  test('when the admin revokes the token after the confirmation page, then SCIM requests with it fail at once and the event is audited', async () => {
    const { district, adminUser, admin } = await world();
    const token = await createTokenOnPage(admin);
    expect((await scimClient(t.app, token).get('/Users')).status).toBe(200);

    const confirm = await admin.get('/admin/scim/revoke');
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('<h1>Revoke the provisioning token</h1>');
    const res = await admin.post('/admin/scim/revoke').type('form').send({ _csrf: await csrfFor(admin, '/admin/scim/revoke') });

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/scim');
    expect((await admin.get('/admin/scim')).text).toContain('The provisioning token was revoked.');
    expect(await ScimToken.countDocuments({ district: district._id })).toBe(0);
    const after = await scimClient(t.app, token).get('/Users');
    expect(after.status).toBe(401);
    expect(await AuditEvent.findOne({ district: district._id, action: 'scim.token_revoked' }).lean()).toMatchObject({ actor: adminUser._id });
  });

  test('when the revoke or create form is sent without its CSRF token, then 403 and nothing changes', async () => {
    const { district, admin } = await world();
    await createTokenOnPage(admin);

    expect((await admin.post('/admin/scim/revoke').type('form').send({})).status).toBe(403);
    expect((await admin.post('/admin/scim/token').type('form').send({ replace: 'yes' })).status).toBe(403);
    expect(await ScimToken.countDocuments({ district: district._id })).toBe(1);
  });

  test('when staff, a principal or an anonymous visitor open the page or post to it, then 403 (or sign-in), and no token is made', async () => {
    const { district, school } = await world();
    const principal = await signIn(t.app, (await createUser(district, { role: 'principal', schools: [school] })).email);
    const staff = await signIn(t.app, (await createUser(district, { schools: [school] })).email);

    for (const agent of [principal, staff]) {
      expect((await agent.get('/admin/scim')).status).toBe(403);
      expect((await agent.get('/admin/scim/revoke')).status).toBe(403);
      const csrf = await csrfFor(agent);
      expect((await agent.post('/admin/scim/token').type('form').send({ _csrf: csrf })).status).toBe(403);
      expect((await agent.post('/admin/scim/revoke').type('form').send({ _csrf: csrf })).status).toBe(403);
    }
    const anonymous = await request(t.app).get('/admin/scim');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toBe('/login?next=%2Fadmin%2Fscim');
    expect(await ScimToken.countDocuments({ district: district._id })).toBe(0);
  });

  test("when two districts each have a token, then an admin sees and revokes only their own district's", async () => {
    const a = await world();
    const b = await world();
    await createTokenOnPage(a.admin);
    const tokenB = await createTokenOnPage(b.admin);

    await a.admin.post('/admin/scim/revoke').type('form').send({ _csrf: await csrfFor(a.admin, '/admin/scim') });

    expect(await ScimToken.countDocuments({ district: a.district._id })).toBe(0);
    expect(await ScimToken.countDocuments({ district: b.district._id })).toBe(1);
    expect((await scimClient(t.app, tokenB).get('/Users')).status).toBe(200);
  });
});
