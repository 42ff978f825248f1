import request from 'supertest';
import type { Express } from 'express';
import mongoose from 'mongoose';
import pino from 'pino';
import { AuditEvent } from '../../../src/components/audit/audit.model';
import { buildApp } from '../../../src/app';
import { loadConfig } from '../../../src/config';
import { logger } from '../../../src/shared/logger';
import type { TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser, TEST_PASSWORD } from '../../helpers/factories';
import { csrfFrom, signIn, type Agent } from '../../helpers/session';
import { startTestIdp, type IdpBrowser, type TestIdp } from '../../helpers/oidc-provider';
import { closeSsoApp, OIDC_CALLBACK, oidcEnv, SSO_BASE_URL as BASE_URL, startSsoApp } from '../../helpers/sso';

// Shared computers: the provider is asked to show its account chooser (OIDC_PROMPT), and signing out of
// the app also signs out at the provider (RP-initiated logout) when it has an end_session_endpoint.
let t: TestApp;
let idp: TestIdp;
/** A provider without end_session_endpoint (like Google), and the app configured for it. */
let googleLike: TestIdp;
let googleApp: Express;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;

function ssoEnv(provider: TestIdp, extra: Record<string, string> = {}) {
  return { NODE_ENV: 'test', ...oidcEnv(provider, 'Microsoft'), ...extra };
}

beforeAll(async () => {
  [idp, googleLike] = await Promise.all([
    startTestIdp(OIDC_CALLBACK),
    startTestIdp(OIDC_CALLBACK, { endSession: false }),
  ]);
  ({ t, district, school } = await startSsoApp(ssoEnv(idp)));
  googleApp = buildApp(loadConfig(ssoEnv(googleLike, { OIDC_LABEL: 'Google' })));
});
afterAll(() => closeSsoApp(t, idp, googleLike));

const sessions = () => mongoose.connection.db!.collection<{ _id: string; session: string }>('sessions');

/** The session id inside the app's signed cookie (`s:<id>.<signature>`). */
function sessionIdOf(res: { headers: Record<string, unknown> }): string {
  const cookie = ((res.headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith('sst.sid='));
  if (!cookie) throw new Error('no session cookie');
  return decodeURIComponent(cookie.split(';')[0].slice('sst.sid='.length)).slice(2).split('.')[0];
}

/** Clicks "Sign in with …" on `app`; returns the agent and the authorization URL at the provider. */
async function startSso(app: Express, agent: Agent = request.agent(app)) {
  const page = await agent.get('/login');
  const start = await agent.post('/auth/oidc').type('form').send({ _csrf: csrfFrom(page.text) });
  expect(start.status).toBe(303);
  return { agent, authorizationUrl: new URL(start.headers.location) };
}

/** A full SSO sign-in as `accountId`, the IdP side in `browser` (kept, like a shared computer's browser). */
async function ssoSignIn(accountId: string, browser: IdpBrowser, app: Express = t.app, provider: TestIdp = idp) {
  const { agent, authorizationUrl } = await startSso(app);
  const callback = await provider.signInAs(authorizationUrl.href, accountId, browser);
  const done = await agent.get(callback.pathname + callback.search);
  expect(done.status).toBe(303);
  return { agent, sessionId: sessionIdOf(done) };
}

async function signOut(agent: Agent) {
  const page = await agent.get('/account');
  expect(page.status).toBe(200);
  return agent.post('/logout').type('form').send({ _csrf: csrfFrom(page.text) });
}

describe('prompt sent to the provider', () => {
  test('when OIDC_PROMPT is unset, then the authorization URL asks for select_account; login and off are honoured', async () => {
    expect((await startSso(t.app)).authorizationUrl.searchParams.get('prompt')).toBe('select_account');
    const login = buildApp(loadConfig(ssoEnv(idp, { OIDC_PROMPT: 'login' })));
    expect((await startSso(login)).authorizationUrl.searchParams.get('prompt')).toBe('login');
    const off = buildApp(loadConfig(ssoEnv(idp, { OIDC_PROMPT: 'off' })));
    expect((await startSso(off)).authorizationUrl.searchParams.has('prompt')).toBe(false);
  });

  test('when the last person is still signed in at the provider, then without a prompt the next one becomes them; with select_account the provider asks', async () => {
    await createUser(district, { schools: [school], email: 'first.person@district.test' });
    idp.setAccounts({ 'p-1001': { email: 'first.person@district.test', email_verified: true } });
    const frontOfficePc = idp.browser();
    await ssoSignIn('p-1001', frontOfficePc);

    const off = buildApp(loadConfig(ssoEnv(idp, { OIDC_PROMPT: 'off' })));
    const silent = await idp.visit((await startSso(off)).authorizationUrl.href, frontOfficePc);
    expect(silent.callback?.origin).toBe(BASE_URL);

    const asked = await idp.visit((await startSso(t.app)).authorizationUrl.href, frontOfficePc);
    expect(asked.callback).toBeUndefined();
    expect(asked.screen).toBe('login');
  });
});

describe('content security policy', () => {
  test('when SSO is on, then form-action allows the provider (the sign-in and sign-out forms end in a 303 there); otherwise only self', async () => {
    const page = await request(t.app).get('/login');
    expect(page.headers['content-security-policy']).toContain(`form-action 'self' ${idp.issuer};`);
    const off = buildApp(loadConfig({ NODE_ENV: 'test' }));
    expect((await request(off).get('/login')).headers['content-security-policy']).toContain("form-action 'self';");
  });
});

describe('sign-out', () => {
  test('when the session was signed in via SSO, then it is destroyed and the browser goes to the end_session_endpoint with client_id, post_logout_redirect_uri and id_token_hint', async () => {
    const user = await createUser(district, { schools: [school], email: 'leaving@district.test' });
    idp.setAccounts({ 'p-2002': { email: 'leaving@district.test', email_verified: true } });
    const browser = idp.browser();
    const { agent, sessionId } = await ssoSignIn('p-2002', browser);
    const stored = await sessions().findOne({ _id: sessionId });
    const idTokenHint = (JSON.parse(stored!.session) as { ssoSignIn?: { idTokenHint?: string } }).ssoSignIn?.idTokenHint;
    expect(idTokenHint).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);

    const res = await signOut(agent);
    expect(res.status).toBe(303);
    const discovery = await request(idp.issuer).get('/.well-known/openid-configuration');
    const location = new URL(res.headers.location);
    expect(location.origin + location.pathname).toBe(discovery.body.end_session_endpoint);
    expect(location.searchParams.get('client_id')).toBe(idp.clientId);
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${BASE_URL}/login`);
    expect(location.searchParams.get('id_token_hint')).toBe(idTokenHint);
    expect(location.searchParams.get('state')).toBe('signed_out');
    const claims = JSON.parse(Buffer.from(idTokenHint!.split('.')[1], 'base64url').toString()) as { sub: string; aud: string };
    expect(claims).toMatchObject({ sub: 'p-2002', aud: idp.clientId });

    // Destroyed in the store before the redirect; no session anywhere keeps the ID token.
    expect(await sessions().countDocuments({ _id: sessionId })).toBe(0);
    expect(JSON.stringify(await sessions().find().toArray())).not.toContain(idTokenHint);
    expect((await agent.get('/account')).status).toBe(303);
    expect(JSON.stringify(await AuditEvent.find({ 'target.id': String(user._id) }).lean())).not.toContain(idTokenHint!.split('.')[1]);

    // The provider accepts the request, ends its session and sends the browser back to the sign-in page;
    // the next person at this computer is asked to sign in, even without a prompt.
    const back = await idp.signOut(location.href, browser);
    expect(back.origin + back.pathname).toBe(`${BASE_URL}/login`);
    expect(back.searchParams.get('state')).toBe('signed_out');
    const landing = await request(t.app).get(back.pathname + back.search);
    expect(landing.status).toBe(200);
    expect(landing.text).toContain('You have signed out.');
    const off = buildApp(loadConfig(ssoEnv(idp, { OIDC_PROMPT: 'off' })));
    expect(await idp.visit((await startSso(off)).authorizationUrl.href, browser)).toEqual({ screen: 'login' });
  });

  test('when a person signed in via SSO changes their password, then sign-out still goes to the provider', async () => {
    await createUser(district, { schools: [school], email: 'changes.password@district.test' });
    idp.setAccounts({ 'p-2102': { email: 'changes.password@district.test', email_verified: true } });
    const { agent } = await ssoSignIn('p-2102', idp.browser());
    const account = await agent.get('/account');
    const changed = await agent.post('/account/password').type('form').send({
      _csrf: csrfFrom(account.text), currentPassword: TEST_PASSWORD, newPassword: 'A-New-Password-2026!', confirmPassword: 'A-New-Password-2026!',
    });
    expect(changed.status).toBe(303);
    const res = await signOut(agent);
    expect(res.status).toBe(303);
    expect(new URL(res.headers.location).searchParams.get('client_id')).toBe(idp.clientId);
    expect(new URL(res.headers.location).searchParams.get('id_token_hint')).toMatch(/^eyJ/);
    expect((await agent.get('/account')).status).toBe(303);
  });

  test('when the session was signed in with a password, then sign-out is the ordinary one', async () => {
    const user = await createUser(district, { schools: [school], email: 'password.user@district.test' });
    const agent = await signIn(t.app, user.email);
    const signedIn = { session: { $regex: `"user":"${String(user._id)}` } };
    expect(await sessions().countDocuments(signedIn)).toBe(1);
    const page = await agent.get('/account');
    const res = await agent.post('/logout').type('form').send({ _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?signed_out=1');
    expect((await agent.get('/account')).status).toBe(303);
    expect(await sessions().countDocuments(signedIn)).toBe(0);
  });

  test('when sign-out is posted without a CSRF token, then 403 and the SSO session stays', async () => {
    await createUser(district, { schools: [school], email: 'csrf.check@district.test' });
    idp.setAccounts({ 'p-3003': { email: 'csrf.check@district.test', email_verified: true } });
    const { agent, sessionId } = await ssoSignIn('p-3003', idp.browser());
    const res = await agent.post('/logout').type('form').send({});
    expect(res.status).toBe(403);
    expect(res.headers.location).toBeUndefined();
    expect(await sessions().countDocuments({ _id: sessionId })).toBe(1);
    expect((await agent.get('/account')).status).toBe(200);
  });

  test('when the provider has no end_session_endpoint (Google), then no ID token is kept and sign-out is the ordinary one', async () => {
    await createUser(district, { schools: [school], email: 'google.user@district.test' });
    googleLike.setAccounts({ 'g-4004': { email: 'google.user@district.test', email_verified: true } });
    const { agent, sessionId } = await ssoSignIn('g-4004', googleLike.browser(), googleApp, googleLike);
    const stored = JSON.parse((await sessions().findOne({ _id: sessionId }))!.session) as Record<string, unknown>;
    expect(stored.ssoSignIn).toEqual({});
    expect(JSON.stringify(stored)).not.toMatch(/eyJ/);

    const res = await signOut(agent);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?signed_out=1');
    expect(await sessions().countDocuments({ _id: sessionId })).toBe(0);
    expect((await agent.get('/account')).status).toBe(303);
  });
});

describe('request log', () => {
  test('when a person signs in and out via SSO, then the log shows the sign-out redirect without the ID token', async () => {
    await createUser(district, { schools: [school], email: 'logged@district.test' });
    idp.setAccounts({ 'p-5005': { email: 'logged@district.test', email_verified: true } });
    const lines: string[] = [];
    const stream = (logger as unknown as Record<symbol, { write(line: string): boolean }>)[pino.symbols.streamSym];
    const write = jest.spyOn(stream, 'write').mockImplementation((line: string) => lines.push(line) > 0);
    logger.level = 'info';
    let location: URL;
    try {
      const { agent, sessionId } = await ssoSignIn('p-5005', idp.browser());
      const idTokenHint = (JSON.parse((await sessions().findOne({ _id: sessionId }))!.session) as { ssoSignIn: { idTokenHint: string } }).ssoSignIn.idTokenHint;
      const res = await signOut(agent);
      location = new URL(res.headers.location);
      expect(location.searchParams.get('id_token_hint')).toBe(idTokenHint);
      const entries = lines.map((l) => JSON.parse(l) as { req?: { method?: string; url?: string }; res?: { statusCode?: number; headers?: { location?: string } } });
      const logout = entries.find((e) => e.req?.method === 'POST' && e.req.url === '/logout' && e.res);
      expect(logout?.res?.statusCode).toBe(303);
      expect(logout?.res?.headers?.location).toContain('id_token_hint=[redacted]');
      expect(logout?.res?.headers?.location).toContain(`client_id=${idp.clientId}`);
      const all = lines.join('\n');
      expect(all).not.toContain(idTokenHint);
      expect(all).not.toContain(idTokenHint.split('.')[1]);
      expect(all).not.toContain(idTokenHint.split('.')[2]);
    } finally {
      logger.level = 'silent';
      write.mockRestore();
    }
  });
});
