import request from 'supertest';
import type { Express } from 'express';
import { User } from '../../../src/components/users';
import { AuditEvent } from '../../../src/components/audit/audit.model';
import { buildApp } from '../../../src/app';
import { loadConfig } from '../../../src/config';
import type { TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFrom } from '../../helpers/session';
import { startTestIdp, type TestIdp } from '../../helpers/oidc-provider';
import { closeSsoApp, OIDC_CALLBACK, oidcEnv, startSsoApp } from '../../helpers/sso';

// An Entra-like provider: its accounts carry an email but no email_verified claim (Entra often sends none).
let t: TestApp;
let idp: TestIdp;
/** The same app and provider without OIDC_EMAIL_DOMAINS. */
let withoutDomains: Express;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;

beforeAll(async () => {
  idp = await startTestIdp(OIDC_CALLBACK);
  const sso = oidcEnv(idp, 'Microsoft');
  ({ t, district, school } = await startSsoApp({ ...sso, OIDC_EMAIL_DOMAINS: 'district.test,district-mail.test' }));
  withoutDomains = buildApp(loadConfig({ NODE_ENV: 'test', ...sso }));
});
afterAll(() => closeSsoApp(t, idp));

/** The whole round trip as a browser on `app`: sign-in page → IdP as `accountId` → callback. */
async function ssoSignIn(accountId: string, app: Express = t.app) {
  const agent = request.agent(app);
  const page = await agent.get('/login');
  const start = await agent.post('/auth/oidc').type('form').send({ _csrf: csrfFrom(page.text) });
  expect(start.status).toBe(303);
  const callback = await idp.signInAs(start.headers.location, accountId);
  const done = await agent.get(callback.pathname + callback.search);
  return { agent, done };
}

describe('Entra-like provider without email_verified', () => {
  test('when OIDC_EMAIL_DOMAINS is not set, then the sign-in is refused as unverified and nothing is linked', async () => {
    const user = await createUser(district, { schools: [school], email: 'ana.ruiz@district.test' });
    idp.setAccounts({ 'e-1001': { email: 'ana.ruiz@district.test', name: 'Ana Ruiz' } });
    const { agent, done } = await ssoSignIn('e-1001', withoutDomains);
    expect(done.status).toBe(403);
    expect(done.text).toContain('not verified');
    expect((await agent.get('/account')).status).toBe(303);
    expect((await User.findById(user._id).lean().orFail()).ssoSubject).toBeUndefined();
    expect(await AuditEvent.countDocuments({ action: 'sso.linked', 'target.id': String(user._id) })).toBe(0);
  });

  test('when the email is at a listed district domain, then the person is linked and signed in', async () => {
    const user = await createUser(district, { schools: [school], email: 'ben.cho@district.test' });
    idp.setAccounts({ 'e-2002': { email: 'Ben.Cho@District.test', name: 'Ben Cho' } });
    const { agent, done } = await ssoSignIn('e-2002');
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/');
    const account = await agent.get('/account');
    expect(account.status).toBe(200);
    expect(account.text).toContain(user.name);
    const stored = await User.findById(user._id).lean().orFail();
    expect(stored.ssoSubject).toBe(`${idp.issuer} e-2002`);
    expect(stored.ssoLinkedAt).toBeInstanceOf(Date);
    const audit = await AuditEvent.findOne({ action: 'sso.linked', 'target.id': String(user._id) }).lean().orFail();
    expect(audit.details).toEqual({ issuer: idp.issuer });
  });

  test('when the second listed domain is used, then it links too; once linked, the subject alone signs in', async () => {
    const user = await createUser(district, { schools: [school], email: 'cy.diaz@district-mail.test' });
    idp.setAccounts({ 'e-2102': { email: 'cy.diaz@district-mail.test' } });
    expect((await ssoSignIn('e-2102')).done.status).toBe(303);
    expect((await User.findById(user._id).lean().orFail()).ssoSubject).toBe(`${idp.issuer} e-2102`);
    // Linked: the app without OIDC_EMAIL_DOMAINS also signs them in (the email no longer matters).
    const { agent, done } = await ssoSignIn('e-2102', withoutDomains);
    expect(done.status).toBe(303);
    expect((await agent.get('/account')).status).toBe(200);
  });

  test('when the email is at another domain, then the sign-in is refused even though the roster has that email', async () => {
    const user = await createUser(district, { schools: [school], email: 'dee.fox@partner.test' });
    idp.setAccounts({ 'e-3003': { email: 'dee.fox@partner.test' } });
    const { agent, done } = await ssoSignIn('e-3003');
    expect(done.status).toBe(403);
    expect(done.text).toContain('not verified');
    expect((await agent.get('/account')).status).toBe(303);
    expect((await User.findById(user._id).lean().orFail()).ssoSubject).toBeUndefined();
  });

  test('when the email is at a subdomain of a listed domain, then it is refused (exact domains only)', async () => {
    const user = await createUser(district, { schools: [school], email: 'eli.gray@students.district.test' });
    idp.setAccounts({ 'e-3103': { email: 'eli.gray@students.district.test' } });
    expect((await ssoSignIn('e-3103')).done.status).toBe(403);
    expect((await User.findById(user._id).lean().orFail()).ssoSubject).toBeUndefined();
  });

  test('when the provider says email_verified=false, then it is refused even at a listed domain', async () => {
    const user = await createUser(district, { schools: [school], email: 'fay.hu@district.test' });
    idp.setAccounts({ 'e-4004': { email: 'fay.hu@district.test', email_verified: false } });
    const { agent, done } = await ssoSignIn('e-4004');
    expect(done.status).toBe(403);
    expect(done.text).toContain('not verified');
    expect((await agent.get('/account')).status).toBe(303);
    expect((await User.findById(user._id).lean().orFail()).ssoSubject).toBeUndefined();
  });

  test('when Entra says the email domain is not verified (xms_edov=false), then it is refused at a listed domain', async () => {
    const user = await createUser(district, { schools: [school], email: 'gus.ito@district.test' });
    idp.setAccounts({ 'e-5005': { email: 'gus.ito@district.test', xms_edov: false } });
    expect((await ssoSignIn('e-5005')).done.status).toBe(403);
    expect((await User.findById(user._id).lean().orFail()).ssoSubject).toBeUndefined();
  });

  test('when the listed-domain email is in the roster of two districts, then it is still refused as ambiguous', async () => {
    const other = await createDistrict();
    await createUser(district, { schools: [school], email: 'hal.jo@district.test' });
    await createUser(other, { email: 'hal.jo@district.test' });
    idp.setAccounts({ 'e-6006': { email: 'hal.jo@district.test' } });
    const { done } = await ssoSignIn('e-6006');
    expect(done.status).toBe(403);
    expect(done.text).toContain('more than one district');
    expect(await User.countDocuments({ ssoSubject: `${idp.issuer} e-6006` })).toBe(0);
  });
});
