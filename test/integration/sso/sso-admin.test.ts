import request from 'supertest';
import type { Express } from 'express';
import { User } from '../../../src/components/users';
import { AuditEvent } from '../../../src/components/audit/audit.model';
import { buildApp } from '../../../src/app';
import { loadConfig } from '../../../src/config';
import type { TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser, TEST_PASSWORD } from '../../helpers/factories';
import { csrfFor, csrfFrom, signIn } from '../../helpers/session';
import { startTestIdp, type TestIdp } from '../../helpers/oidc-provider';
import { closeSsoApp, OIDC_CALLBACK, oidcEnv, startSsoApp } from '../../helpers/sso';

let t: TestApp;
let idp: TestIdp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;

beforeAll(async () => {
  idp = await startTestIdp(OIDC_CALLBACK);
  ({ t, district, school } = await startSsoApp(oidcEnv(idp, 'Google')));
});
afterAll(() => closeSsoApp(t, idp));

async function ssoSignIn(app: Express, accountId: string) {
  const agent = request.agent(app);
  const page = await agent.get('/login');
  const start = await agent.post('/auth/oidc').type('form').send({ _csrf: csrfFrom(page.text) });
  const callback = await idp.signInAs(start.headers.location, accountId);
  const done = await agent.get(callback.pathname + callback.search);
  return { agent, done };
}

describe('admin: SSO link on /admin/users/:id', () => {
  test('when a district admin unlinks a linked person, then the link is gone, the person is signed out, it is audited, and their next SSO sign-in links again', async () => {
    const admin = await createUser(district, { role: 'district_admin' });
    const person = await createUser(district, { schools: [school], email: 'linked@district.test' });
    idp.setAccounts({ 'g-1': { email: 'linked@district.test', email_verified: true } });
    const { agent: personAgent, done } = await ssoSignIn(t.app, 'g-1');
    expect(done.status).toBe(303);

    const adminAgent = await signIn(t.app, admin.email);
    const page = await adminAgent.get(`/admin/users/${person._id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Linked to a single sign-on identity');
    const res = await adminAgent.post(`/admin/users/${person._id}/sso/unlink`).type('form').send({ _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/admin/users/${person._id}`);

    const stored = await User.findById(person._id).lean().orFail();
    expect(stored.ssoSubject).toBeUndefined();
    expect(await AuditEvent.countDocuments({ action: 'sso.unlinked', 'target.id': String(person._id), actor: admin._id })).toBe(1);
    expect((await personAgent.get('/account')).status).toBe(303);
    const after = await adminAgent.get(`/admin/users/${person._id}`);
    expect(after.text).toContain('Not linked');

    expect((await ssoSignIn(t.app, 'g-1')).done.status).toBe(303);
    expect((await User.findById(person._id).lean().orFail()).ssoSubject).toBe(`${idp.issuer} g-1`);
  });

  test('when the unlink is posted without CSRF, then 403 and the link stays', async () => {
    const admin = await createUser(district, { role: 'district_admin' });
    const person = await createUser(district, { schools: [school], email: 'csrf@district.test' });
    await User.updateOne({ _id: person._id }, { $set: { ssoSubject: 'https://idp.example s-1' } });
    const adminAgent = await signIn(t.app, admin.email);
    const res = await adminAgent.post(`/admin/users/${person._id}/sso/unlink`).type('form').send({});
    expect(res.status).toBe(403);
    expect((await User.findById(person._id).lean().orFail()).ssoSubject).toBe('https://idp.example s-1');
  });

  test('when a principal or staff member posts the unlink, then 403; anonymous goes nowhere', async () => {
    const principal = await createUser(district, { role: 'principal', schools: [school] });
    const person = await createUser(district, { schools: [school] });
    await User.updateOne({ _id: person._id }, { $set: { ssoSubject: 'https://idp.example s-2' } });
    const agent = await signIn(t.app, principal.email);
    const res = await agent.post(`/admin/users/${person._id}/sso/unlink`).type('form').send({ _csrf: await csrfFor(agent) });
    expect(res.status).toBe(403);
    const anonymous = await request(t.app).post(`/admin/users/${person._id}/sso/unlink`).type('form').send({});
    expect([401, 403]).toContain(anonymous.status);
    expect((await User.findById(person._id).lean().orFail()).ssoSubject).toBe('https://idp.example s-2');
  });

  test('when the person is in another district, then 404', async () => {
    const admin = await createUser(district, { role: 'district_admin' });
    const other = await createDistrict();
    const stranger = await createUser(other);
    await User.updateOne({ _id: stranger._id }, { $set: { ssoSubject: 'https://idp.example s-3' } });
    const agent = await signIn(t.app, admin.email);
    const res = await agent.post(`/admin/users/${stranger._id}/sso/unlink`).type('form').send({ _csrf: await csrfFor(agent) });
    expect(res.status).toBe(404);
    expect((await User.findById(stranger._id).lean().orFail()).ssoSubject).toBe('https://idp.example s-3');
  });
});

describe('PASSWORD_SIGN_IN=off', () => {
  let app: Express;
  beforeAll(() => {
    app = buildApp(
      loadConfig({ NODE_ENV: 'test', ...oidcEnv(idp, 'Google'), PASSWORD_SIGN_IN: 'off' }),
    );
  });

  test('when the sign-in page loads, then the password form is folded away as the district admins\' sign-in', async () => {
    const res = await request(app).get('/login');
    expect(res.text).toContain('Sign in with Google');
    expect(res.text).toMatch(/<details><summary>District administrators: sign in with a password<\/summary>/);
  });

  test('when staff or a principal sign in with a correct password, then 403 and no session', async () => {
    for (const role of ['staff', 'principal'] as const) {
      const user = await createUser(district, { role, schools: [school] });
      const agent = request.agent(app);
      const page = await agent.get('/login');
      const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email: user.email, password: TEST_PASSWORD });
      expect(res.status).toBe(403);
      expect(res.text).toContain('Password sign-in is turned off');
      expect((await agent.get('/account')).status).toBe(303);
    }
  });

  test('when a district admin signs in with a password (break-glass), then it works', async () => {
    const admin = await createUser(district, { role: 'district_admin' });
    const agent = await signIn(app, admin.email);
    expect((await agent.get('/account')).status).toBe(200);
  });

  test('when staff use SSO, then they are signed in', async () => {
    await createUser(district, { schools: [school], email: 'sso.only@district.test' });
    idp.setAccounts({ 'g-9': { email: 'sso.only@district.test', email_verified: true } });
    const { agent, done } = await ssoSignIn(app, 'g-9');
    expect(done.status).toBe(303);
    expect((await agent.get('/account')).status).toBe(200);
  });
});
