import request from 'supertest';
import type { Express } from 'express';
import { User } from '../../../src/components/users';
import { AuditEvent } from '../../../src/components/audit/audit.model';
import { buildApp } from '../../../src/app';
import { loadConfig } from '../../../src/config';
import type { TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFrom, signIn, type Agent } from '../../helpers/session';
import { startTestIdp, type TestIdp } from '../../helpers/oidc-provider';
import { closeSsoApp, expectInactiveRefused, expectSignedOut, OIDC_CALLBACK, oidcEnv, sidOf, SSO_BASE_URL as BASE_URL, startSsoApp } from '../../helpers/sso';

let t: TestApp;
let idp: TestIdp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;

beforeAll(async () => {
  idp = await startTestIdp(OIDC_CALLBACK);
  ({ t, district, school } = await startSsoApp(oidcEnv(idp, 'Google')));
});
afterAll(() => closeSsoApp(t, idp));

/** Clicks "Sign in with Google" on the sign-in page; returns the agent and the redirect to the IdP. */
async function startSso(app: Express = t.app, loginPath = '/login', agent: Agent = request.agent(app)) {
  const page = await agent.get(loginPath);
  const nextValue = /name="next" value="([^"]*)"/.exec(page.text)?.[1];
  const res = await agent.post('/auth/oidc').type('form').send({ _csrf: csrfFrom(page.text), ...(nextValue ? { next: nextValue } : {}) });
  return { agent, res };
}

/** The whole round trip as a browser: app → IdP (login + consent as `accountId`) → app callback. */
async function ssoSignIn(accountId: string, loginPath = '/login') {
  const { agent, res } = await startSso(t.app, loginPath);
  expect(res.status).toBe(303);
  const callback = await idp.signInAs(res.headers.location, accountId);
  expect(callback.origin + callback.pathname).toBe(`${BASE_URL}/auth/oidc/callback`);
  const done = await agent.get(callback.pathname + callback.search);
  return { agent, done, callback, startRes: res };
}

describe('sign-in page', () => {
  test('when SSO is configured, then the page shows "Sign in with Google" as a CSRF-protected form, and the password form', async () => {
    const res = await request(t.app).get('/login');
    expect(res.status).toBe(200);
    expect(res.text).toContain('action="/auth/oidc"');
    expect(res.text).toContain('Sign in with Google');
    expect(res.text).toContain('id="field-password"');
  });

  test('when the browser prefers Spanish, then the button is in Spanish', async () => {
    const res = await request(t.app).get('/login').set('Accept-Language', 'es');
    expect(res.text).toContain('Iniciar sesión con Google');
  });

  test('when the button is posted without a CSRF token, then 403 and no redirect to the IdP', async () => {
    const res = await request(t.app).post('/auth/oidc').type('form').send({});
    expect(res.status).toBe(403);
    expect(res.headers.location).toBeUndefined();
  });
});

describe('SSO sign-in', () => {
  test('when a rostered active person signs in for the first time, then they are linked by verified email and land signed in', async () => {
    const user = await createUser(district, { schools: [school], email: 'maria.lopez@district.test' });
    idp.setAccounts({ 'g-1001': { email: 'Maria.Lopez@District.test', email_verified: true, name: 'María López' } });
    const { agent, done, startRes } = await ssoSignIn('g-1001');

    const authUrl = new URL(startRes.headers.location);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('state')).toBeTruthy();
    expect(authUrl.searchParams.get('nonce')).toBeTruthy();
    expect(authUrl.searchParams.get('scope')).toBe('openid email profile');
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/');
    const home = await agent.get('/account');
    expect(home.status).toBe(200);
    expect(home.text).toContain(user.name);

    const stored = await User.findById(user._id).lean().orFail();
    expect(stored.ssoSubject).toBe(`${idp.issuer} g-1001`);
    expect(stored.lastSignInAt).toBeInstanceOf(Date);
    const audit = await AuditEvent.findOne({ action: 'sso.linked', 'target.id': String(user._id) }).lean();
    expect(audit).not.toBeNull();
    expect(JSON.stringify(audit)).not.toMatch(/token|eyJ/i);
  });

  test('when a linked person changed their email at the IdP, then the next sign-in still matches by subject', async () => {
    const user = await createUser(district, { schools: [school], email: 'jo.kim@district.test' });
    idp.setAccounts({ 'g-2002': { email: 'jo.kim@district.test', email_verified: true } });
    expect((await ssoSignIn('g-2002')).done.status).toBe(303);

    idp.setAccounts({ 'g-2002': { email: 'jo.park@district.test', email_verified: true } });
    const { agent, done } = await ssoSignIn('g-2002');
    expect(done.status).toBe(303);
    const account = await agent.get('/account');
    expect(account.status).toBe(200);
    expect(account.text).toContain(user.name);
  });

  test('when someone at the IdP gets a linked person\'s old email, then they cannot take over the account', async () => {
    const user = await createUser(district, { schools: [school], email: 'sam.ortiz@district.test' });
    idp.setAccounts({ 'g-3003': { email: 'sam.ortiz@district.test', email_verified: true } });
    expect((await ssoSignIn('g-3003')).done.status).toBe(303);

    idp.setAccounts({ 'g-3999': { email: 'sam.ortiz@district.test', email_verified: true } });
    const { agent, done } = await ssoSignIn('g-3999');
    expect(done.status).toBe(403);
    await expectSignedOut(agent);
    expect((await User.findById(user._id).lean().orFail()).ssoSubject).toBe(`${idp.issuer} g-3003`);
  });

  test('when the email is not in the roster, then 403 tells them to ask the office, and no account is created', async () => {
    const before = await User.countDocuments();
    idp.setAccounts({ 'g-4004': { email: 'stranger@district.test', email_verified: true } });
    const { agent, done } = await ssoSignIn('g-4004');
    expect(done.status).toBe(403);
    expect(done.text).toContain('ask your principal or the district office');
    expect(await User.countDocuments()).toBe(before);
    expect(await User.findOne({ email: 'stranger@district.test' })).toBeNull();
    await expectSignedOut(agent);
  });

  test('when the IdP says the email is not verified, then the sign-in is refused and nothing is linked', async () => {
    const user = await createUser(district, { schools: [school], email: 'unverified@district.test' });
    idp.setAccounts({ 'g-5005': { email: 'unverified@district.test', email_verified: false } });
    const { agent, done } = await ssoSignIn('g-5005');
    expect(done.status).toBe(403);
    expect(done.text).toContain('not verified');
    expect((await User.findById(user._id).lean().orFail()).ssoSubject).toBeUndefined();
    await expectSignedOut(agent);
  });

  test('when the account is inactive, then the sign-in is refused, nothing is linked and the refusal is audited', async () => {
    const user = await createUser(district, { schools: [school], email: 'left@district.test', active: false });
    idp.setAccounts({ 'g-6006': { email: 'left@district.test', email_verified: true } });
    const { done } = await ssoSignIn('g-6006');
    await expectInactiveRefused(done, user, district._id);
  });

  test('when a linked person is deactivated later, then SSO refuses them', async () => {
    const user = await createUser(district, { schools: [school], email: 'later@district.test' });
    idp.setAccounts({ 'g-6106': { email: 'later@district.test', email_verified: true } });
    expect((await ssoSignIn('g-6106')).done.status).toBe(303);
    await User.updateOne({ _id: user._id }, { $set: { active: false } });
    expect((await ssoSignIn('g-6106')).done.status).toBe(403);
  });

  test('when the email belongs to people in two districts, then the sign-in is refused', async () => {
    const other = await createDistrict();
    await createUser(district, { schools: [school], email: 'twice@district.test' });
    await createUser(other, { email: 'twice@district.test' });
    idp.setAccounts({ 'g-7007': { email: 'twice@district.test', email_verified: true } });
    const { done } = await ssoSignIn('g-7007');
    expect(done.status).toBe(403);
    expect(done.text).toContain('more than one district');
    expect(await User.countDocuments({ ssoSubject: `${idp.issuer} g-7007` })).toBe(0);
  });

  test('when signing in, then the session id changes and a fresh CSRF token works for a form', async () => {
    await createUser(district, { schools: [school], email: 'fixation@district.test' });
    idp.setAccounts({ 'g-8008': { email: 'fixation@district.test', email_verified: true } });
    const { agent, res } = await startSso();
    const before = sidOf(res);
    expect(before).toBeDefined();
    const callback = await idp.signInAs(res.headers.location, 'g-8008');
    const done = await agent.get(callback.pathname + callback.search);
    expect(done.status).toBe(303);
    const after = sidOf(done);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    // The old session is gone: a request carrying the old cookie is anonymous.
    const stale = await request(t.app).get('/account').set('Cookie', before!);
    expect(stale.status).toBe(303);
    const account = await agent.get('/account');
    const logout = await agent.post('/logout').type('form').send({ _csrf: csrfFrom(account.text) });
    expect(logout.status).toBe(303);
    await expectSignedOut(agent);
  });

  test('when the person came from a deep link, then `next` is kept through the round trip; an absolute next is not', async () => {
    await createUser(district, { schools: [school], email: 'deep@district.test' });
    idp.setAccounts({ 'g-9009': { email: 'deep@district.test', email_verified: true } });
    const { done } = await ssoSignIn('g-9009', `/login?next=${encodeURIComponent('/account?tab=1')}`);
    expect(done.headers.location).toBe('/account?tab=1');
    const { agent, res } = await startSso();
    const evil = await agent.post('/auth/oidc').type('form').send({ _csrf: csrfFrom((await agent.get('/login')).text), next: '//evil.example/x' });
    expect(res.status).toBe(303);
    const callback = await idp.signInAs(evil.headers.location, 'g-9009');
    const landed = await agent.get(callback.pathname + callback.search);
    expect(landed.headers.location).toBe('/');
  });
});

describe('SSO callback attacks and errors', () => {
  test('when the state is tampered with, then 400 and not signed in', async () => {
    await createUser(district, { schools: [school], email: 'state@district.test' });
    idp.setAccounts({ 'g-1010': { email: 'state@district.test', email_verified: true } });
    const { agent, res } = await startSso();
    const callback = await idp.signInAs(res.headers.location, 'g-1010');
    const forged = new URL(callback);
    forged.searchParams.set('state', 'forged-state');
    const done = await agent.get(forged.pathname + forged.search);
    expect(done.status).toBe(400);
    expect(done.text).toContain('could not be verified');
    await expectSignedOut(agent);
    // The round trip was used up by the failed attempt: the genuine callback afterwards is refused too.
    const genuine = await agent.get(callback.pathname + callback.search);
    expect(genuine.status).toBe(400);
    await expectSignedOut(agent);
  });

  test('when the callback is replayed, then the second one is refused', async () => {
    await createUser(district, { schools: [school], email: 'replay@district.test' });
    idp.setAccounts({ 'g-1111': { email: 'replay@district.test', email_verified: true } });
    const { callback } = await ssoSignIn('g-1111');
    const attacker = request.agent(t.app);
    await attacker.get('/login');
    const replay = await attacker.get(callback.pathname + callback.search);
    expect(replay.status).toBe(400);
    await expectSignedOut(attacker);
  });

  test('when the callback comes without a round trip in the session or without a code, then 400', async () => {
    const bare = await request(t.app).get('/auth/oidc/callback?code=abc&state=def');
    expect(bare.status).toBe(400);
    const { agent, res } = await startSso();
    const state = new URL(res.headers.location).searchParams.get('state')!;
    const noCode = await agent.get(`/auth/oidc/callback?state=${state}`);
    expect(noCode.status).toBe(400);
    await expectSignedOut(agent);
  });

  test('when the IdP answers access_denied, then a clear 403 page and not signed in', async () => {
    const { agent, res } = await startSso();
    const state = new URL(res.headers.location).searchParams.get('state')!;
    const done = await agent.get(`/auth/oidc/callback?error=access_denied&state=${state}`);
    expect(done.status).toBe(403);
    expect(done.text).toContain('Sign-in was cancelled');
    await expectSignedOut(agent);
  });

  test('when the IdP is unreachable, then the button shows a 503 page and password sign-in still works', async () => {
    const app = buildApp(
      loadConfig({ NODE_ENV: 'test', BASE_URL, OIDC_ISSUER: 'http://127.0.0.1:9', OIDC_CLIENT_ID: 'x', OIDC_CLIENT_SECRET: 'y', OIDC_LABEL: 'Entra' }),
    );
    const page = await request(app).get('/login');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Sign in with Entra');
    const agent = request.agent(app);
    const form = await agent.get('/login');
    const res = await agent.post('/auth/oidc').type('form').send({ _csrf: csrfFrom(form.text) });
    expect(res.status).toBe(503);
    expect(res.text).toContain('We could not reach Entra');
    expect(res.text).not.toMatch(/at .*\.ts:\d+|ECONNREFUSED/);

    const user = await createUser(district, { schools: [school], email: 'fallback@district.test' });
    const signedIn = await signIn(app, user.email);
    expect((await signedIn.get('/account')).status).toBe(200);
  });
});
