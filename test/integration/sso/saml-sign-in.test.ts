import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import request from 'supertest';
import mongoose from 'mongoose';
import * as samlify from 'samlify';
import { User } from '../../../src/components/users';
import { logger } from '../../../src/shared/logger';
import { buildApp } from '../../../src/app';
import { loadConfig } from '../../../src/config';
import { AuditEvent } from '../../../src/components/audit/audit.model';
import { SamlRequest } from '../../../src/components/sso/saml-request.model';
import type { TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFrom, signIn, type Agent } from '../../helpers/session';
import { NAME_ID, startTestSamlIdp, type ResponseOptions, type SamlPerson, type TestSamlIdp } from '../../helpers/saml-idp';
import { closeSsoApp, expectInactiveRefused, expectSignedOut, samlEnv, sidOf, SSO_BASE_URL as BASE_URL, startSsoApp } from '../../helpers/sso';

const ACS = `${BASE_URL}/auth/saml/acs`;
const EMAIL_CLAIM = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';
let t: TestApp;
let idp: TestSamlIdp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;

beforeAll(async () => {
  idp = await startTestSamlIdp();
  ({ t, district, school } = await startSsoApp({ ...samlEnv(idp), SAML_LABEL: 'ADFS' }, idp));
});
afterAll(() => closeSsoApp(t, idp));

/** The binding cookie set by GET /auth/saml: its Set-Cookie line and the `name=value` pair to send back. */
function bindingOf(res: { headers: Record<string, unknown> }): { line: string; pair: string } {
  const line = ((res.headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith('sst.saml_binding='));
  if (!line) throw new Error('no binding cookie was set');
  return { line, pair: line.split(';')[0] };
}

/** A person at the IdP with the ADFS email claim. */
function person(nameId: string, email?: string, extra: Partial<SamlPerson> = {}): SamlPerson {
  return { nameId, attributes: email ? { [EMAIL_CLAIM]: email } : {}, ...extra };
}

/** The round trip as a browser: app → IdP (signed in as `who`) → the IdP's form posted to the ACS. */
async function samlSignIn(who: SamlPerson, options: ResponseOptions = {}, start = '/auth/saml', agent: Agent = request.agent(t.app)) {
  const startRes = await agent.get(start);
  expect(startRes.status).toBe(303);
  expect(startRes.headers.location.startsWith(idp.env.SAML_IDP_ENTRY_POINT)).toBe(true);
  const post = await idp.signInAs(startRes.headers.location, who, options);
  expect(post.action).toBe(ACS);
  const done = await agent.post('/auth/saml/acs').type('form').send({ SAMLResponse: post.SAMLResponse, ...(post.RelayState !== undefined ? { RelayState: post.RelayState } : {}) });
  return { agent, done, post, startRes };
}

describe('sign-in page and start', () => {
  test('when SAML is configured, then the sign-in page links "Sign in with ADFS" to /auth/saml, also in Spanish', async () => {
    const res = await request(t.app).get('/login?next=/training');
    expect(res.status).toBe(200);
    expect(res.text).toContain('href="/auth/saml?next=%2Ftraining"');
    expect(res.text).toContain('Sign in with ADFS');
    expect(res.text).toContain('id="field-password"');
    expect((await request(t.app).get('/login').set('Accept-Language', 'es')).text).toContain('Iniciar sesión con ADFS');
  });

  test('when the link is followed, then the browser goes to the IdP with an AuthnRequest that is remembered in MongoDB', async () => {
    const res = await request(t.app).get('/auth/saml?next=/training');
    expect(res.status).toBe(303);
    const url = new URL(res.headers.location);
    expect(url.origin + url.pathname).toBe(idp.env.SAML_IDP_ENTRY_POINT);
    expect(url.searchParams.get('RelayState')).toBe('/training');
    const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
    expect(xml).toContain(`AssertionConsumerServiceURL="${ACS}"`);
    expect(xml).toContain(`>${BASE_URL}/auth/saml/metadata</saml:Issuer>`);
    expect(xml).toContain(`Format="${NAME_ID.persistent}"`);
    const id = /ID="([^"]+)"/.exec(xml)![1];
    const stored = await SamlRequest.findById(id).lean().orFail();
    expect(stored.expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(stored.usedAt).toBeUndefined();
    // No session is needed (the answer comes back without our cookie): none is started.
    expect(sidOf(res)).toBeUndefined();
  });

  test('when the return path is an absolute URL, then RelayState is "/"', async () => {
    const res = await request(t.app).get('/auth/saml?next=https://evil.example/x');
    expect(new URL(res.headers.location).searchParams.get('RelayState')).toBe('/');
  });
});

describe('SAML sign-in', () => {
  test('when a rostered person signs in the first time, then they are linked by email, the session is new and signed in, and the request is used', async () => {
    const user = await createUser(district, { schools: [school], email: 'ana.ruiz@district.test' });
    const { agent, done, post } = await samlSignIn(person('pid-1001', 'Ana.Ruiz@District.test'));
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/');
    const sid = sidOf(done);
    expect(sid).toBeDefined();
    const account = await agent.get('/account');
    expect(account.status).toBe(200);
    expect(account.text).toContain(user.name);

    const stored = await User.findById(user._id).lean().orFail();
    expect(stored.ssoSubject).toBe(`${idp.env.SAML_IDP_ISSUER} pid-1001`);
    expect(stored.ssoLinkedAt).toBeInstanceOf(Date);
    expect(stored.lastSignInAt).toBeInstanceOf(Date);
    const audit = await AuditEvent.findOne({ action: 'sso.linked', 'target.id': String(user._id) }).lean().orFail();
    expect(audit.details).toEqual({ issuer: idp.env.SAML_IDP_ISSUER });
    // The session in MongoDB holds the user, and nothing from the assertion.
    const sessionId = decodeURIComponent(sid!.split('=')[1]).replace(/^s:/, '').split('.')[0];
    const session = await mongoose.connection.db!.collection('sessions').findOne({ _id: sessionId as never });
    expect(String(session?.session)).toContain(String(user._id));
    expect(String(session?.session)).not.toContain('pid-1001');
    expect((await SamlRequest.findById(post.requestId).lean().orFail()).usedAt).toBeInstanceOf(Date);
  });

  test('when a linked person signs in again after their email changed at the IdP, then they are matched by NameID', async () => {
    const user = await createUser(district, { schools: [school], email: 'jo.lee@district.test' });
    expect((await samlSignIn(person('pid-2002', 'jo.lee@district.test'))).done.status).toBe(303);
    const { agent, done } = await samlSignIn(person('pid-2002', 'jo.park@district.test'));
    expect(done.status).toBe(303);
    expect((await agent.get('/account')).text).toContain(user.name);
    expect(await AuditEvent.countDocuments({ action: 'sso.linked', 'target.id': String(user._id) })).toBe(1);
  });

  test('when another IdP identity later carries a linked person\'s email, then it cannot take the account over', async () => {
    const user = await createUser(district, { schools: [school], email: 'kim.ng@district.test' });
    expect((await samlSignIn(person('pid-2102', 'kim.ng@district.test'))).done.status).toBe(303);
    const { agent, done } = await samlSignIn(person('pid-2199', 'kim.ng@district.test'));
    expect(done.status).toBe(403);
    expect(done.text).toContain('already linked');
    await expectSignedOut(agent);
    expect((await User.findById(user._id).lean().orFail()).ssoSubject).toBe(`${idp.env.SAML_IDP_ISSUER} pid-2102`);
  });

  test('when the IdP signs the assertion instead of the response, then the sign-in works too', async () => {
    await createUser(district, { schools: [school], email: 'signed.assertion@district.test' });
    const { done, post } = await samlSignIn(person('pid-2202', 'signed.assertion@district.test'), { sign: 'assertion' });
    expect(post.xml.indexOf('<ds:Signature')).toBeGreaterThan(post.xml.indexOf('<saml:Assertion'));
    expect(done.status).toBe(303);
  });

  test('when the NameID is an email address and no email attribute comes, then the NameID is the email', async () => {
    const user = await createUser(district, { schools: [school], email: 'nameid.email@district.test' });
    const { done } = await samlSignIn({ nameId: 'nameid.email@district.test', nameIdFormat: NAME_ID.email });
    expect(done.status).toBe(303);
    expect((await User.findById(user._id).lean().orFail()).ssoSubject).toBe(`${idp.env.SAML_IDP_ISSUER} nameid.email@district.test`);
  });

  test('when the person was signed in (as someone else) in this browser, then the session id changes and the old one is gone', async () => {
    await createUser(district, { schools: [school], email: 'first.person@district.test' });
    const second = await createUser(district, { schools: [school], email: 'second.person@district.test' });
    const agent = await signIn(t.app, 'first.person@district.test');
    const before = (await agent.get('/account')).request.getHeader?.('Cookie');
    const { done } = await samlSignIn(person('pid-2302', 'second.person@district.test'), {}, '/auth/saml', request.agent(t.app));
    const after = sidOf(done);
    expect(after).toBeDefined();
    expect(String(before)).not.toContain(after!);
    const fresh = await request(t.app).get('/account').set('Cookie', after!);
    expect(fresh.text).toContain(second.name);
  });

  test('when signing out, then the local session ends (no single logout at the IdP)', async () => {
    await createUser(district, { schools: [school], email: 'sign.out@district.test' });
    const { agent, done } = await samlSignIn(person('pid-2402', 'sign.out@district.test'));
    expect(done.status).toBe(303);
    const account = await agent.get('/account');
    const out = await agent.post('/logout').type('form').send({ _csrf: csrfFrom(account.text) });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/login?signed_out=1');
    await expectSignedOut(agent);
  });
});

describe('RelayState', () => {
  test('when the person started from a page, then they land on it after sign-in', async () => {
    await createUser(district, { schools: [school], email: 'relay.ok@district.test' });
    const { done } = await samlSignIn(person('pid-3001', 'relay.ok@district.test'), {}, '/auth/saml?next=/training');
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/training');
  });

  test('when RelayState coming back is an absolute or protocol-relative URL, then it is ignored and the person lands on /', async () => {
    await createUser(district, { schools: [school], email: 'relay.evil@district.test' });
    for (const relayState of ['https://evil.example/phish', '//evil.example', '/\\evil.example']) {
      const { done } = await samlSignIn(person('pid-3100', 'relay.evil@district.test'), { relayState });
      expect([relayState, done.status, done.headers.location]).toEqual([relayState, 303, '/']);
    }
  });
});

/** XML signature wrapping: a copy of the signed assertion, unsigned and naming someone else, put first. */
function wrapForged(xml: string): string {
  const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)![0];
  const forged = signed.replace(/ ID="[^"]+"/, ' ID="_forged1"').replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '').replace('victim@', 'attacker@');
  return xml.replace(signed, forged + signed);
}

describe('refused responses: nothing signed in, nothing linked, a clear page, never a 500', () => {
  // [case, how the response differs, status, page text, the code logged]
  const refusals: Array<[string, ResponseOptions, number, string, string]> = [
    ['unsigned', { sign: 'none' }, 400, 'could not be verified', 'bad_signature'],
    ['signed with a key the app does not trust', { sign: 'impostor' }, 400, 'could not be verified', 'bad_signature'],
    ['changed after signing (another email)', { tamper: (xml) => xml.replace('victim@district.test', 'attacker@district.test') }, 400, 'could not be verified', 'bad_signature'],
    ['carrying a forged unsigned assertion next to the signed one (signature wrapping)', { sign: 'assertion', tamper: wrapForged }, 400, 'could not be verified', 'bad_signature'],
    ['for another service provider (audience)', { audience: 'https://other-app.example/sp' }, 400, 'could not be verified', 'wrong_audience'],
    ['from another issuer', { issuer: 'https://other-idp.example/' }, 400, 'could not be verified', 'wrong_issuer'],
    ['addressed to another recipient', { recipient: 'https://other-app.example/acs' }, 400, 'could not be verified', 'wrong_recipient'],
    ['with another Destination', { destination: 'https://other-app.example/acs' }, 400, 'could not be verified', 'wrong_destination'],
    ['expired', { validForMinutes: -3 }, 400, 'already used or has expired', 'expired_assertion'],
    ['unsolicited (no InResponseTo)', { inResponseTo: null }, 400, 'already used or has expired', 'unknown_request'],
    ['answering a request the app never sent', { inResponseTo: '_0123456789abcdef0123456789abcdef01234567' }, 400, 'already used or has expired', 'unknown_request'],
  ];

  test.each(refusals)('when the response is %s, then it is refused', async (_label, options, status, text, code) => {
    const logged = jest.spyOn(logger, 'info');
    const user = await createUser(district, { schools: [school], email: `victim.${Math.random().toString(36).slice(2)}@district.test` });
    // The tamper case swaps this address after signing.
    await User.updateOne({ _id: user._id }, { $set: { email: 'victim@district.test' } });
    const { agent, done } = await samlSignIn(person(`pid-bad-${Math.random().toString(36).slice(2)}`, 'victim@district.test'), options);
    await User.updateOne({ _id: user._id }, { $set: { email: `done.${user._id}@district.test` } });
    expect(done.status).toBe(status);
    expect(done.text).toContain(text);
    expect(done.text).toContain('href="/login"');
    expect(sidOf(done)).toBeUndefined();
    await expectSignedOut(agent);
    const stored = await User.findById(user._id).lean().orFail();
    expect(stored.ssoSubject).toBeUndefined();
    expect(stored.lastSignInAt ?? null).toBeNull();
    // Refused for this reason, and the log line names no person (code and request id only).
    const line = logged.mock.calls.find((call) => call[1] === 'SAML response refused');
    logged.mockRestore();
    expect(line?.[0]).toEqual({ code, requestId: expect.any(String) });
  });

  test('when the IdP answers with an error status (e.g. AuthnFailed), then "cancelled" (403), and its message is not logged', async () => {
    const logged = jest.spyOn(logger, 'info');
    const { agent, done } = await samlSignIn(person('pid-3901'), { failure: { status: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed', message: 'Password expired for maria.lopez@district.test' } });
    const lines = JSON.stringify(logged.mock.calls.filter((call) => typeof call[1] === 'string' && call[1].startsWith('SAML')));
    logged.mockRestore();
    expect(done.status).toBe(403);
    expect(done.text).toContain('did not sign you in');
    expect(lines).toContain('idp_status');
    expect(lines).not.toContain('maria.lopez');
    await expectSignedOut(agent);
  });

  test('when the same response is posted a second time (replay), then it is refused and signs no one in', async () => {
    await createUser(district, { schools: [school], email: 'replay@district.test' });
    const { done, post, startRes } = await samlSignIn(person('pid-4001', 'replay@district.test'));
    expect(done.status).toBe(303);
    // Even with the binding cookie of the browser that signed in (someone who copied both).
    const again = await request(t.app).post('/auth/saml/acs').set('Cookie', bindingOf(startRes).pair).type('form').send({ SAMLResponse: post.SAMLResponse, RelayState: post.RelayState });
    expect(again.status).toBe(400);
    expect(again.text).toContain('already used or has expired');
    expect(sidOf(again)).toBeUndefined();
    const elsewhere = await request(t.app).post('/auth/saml/acs').type('form').send({ SAMLResponse: post.SAMLResponse, RelayState: post.RelayState });
    expect(elsewhere.status).toBe(400);
    expect(sidOf(elsewhere)).toBeUndefined();
  });

  test('when two copies of one response arrive at the same moment, then exactly one signs in', async () => {
    await createUser(district, { schools: [school], email: 'race@district.test' });
    const startRes = await request(t.app).get('/auth/saml');
    const post = await idp.signInAs(startRes.headers.location, person('pid-4101', 'race@district.test'));
    const both = await Promise.all([1, 2].map(() => request(t.app).post('/auth/saml/acs').set('Cookie', bindingOf(startRes).pair).type('form').send({ SAMLResponse: post.SAMLResponse })));
    expect(both.map((r) => r.status).sort()).toEqual([303, 400]);
    expect(await SamlRequest.countDocuments({ _id: post.requestId, usedAt: { $exists: true } })).toBe(1);
  });

  test('when the email is not in the roster, then 403 asks them to contact the office and no account is created', async () => {
    const before = await User.countDocuments();
    const { agent, done } = await samlSignIn(person('pid-5001', 'stranger@district.test'));
    expect(done.status).toBe(403);
    expect(done.text).toContain('not in the staff roster');
    expect(done.text).toContain('ask your principal or the district office');
    expect(await User.countDocuments()).toBe(before);
    await expectSignedOut(agent);
  });

  test('when the assertion carries no email and a persistent NameID nobody is linked to, then it is refused as unknown', async () => {
    const { done } = await samlSignIn(person('pid-5101'));
    expect(done.status).toBe(403);
    expect(done.text).toContain('not in the staff roster');
  });

  test('when the account is inactive, then the sign-in is refused and the refusal is audited in their district', async () => {
    const user = await createUser(district, { schools: [school], email: 'left.saml@district.test', active: false });
    const { done } = await samlSignIn(person('pid-6001', 'left.saml@district.test'));
    await expectInactiveRefused(done, user, district._id);
  });

  test('when the NameID is transient, then it is not linked and the page says what the district must change', async () => {
    const user = await createUser(district, { schools: [school], email: 'transient@district.test' });
    const { done } = await samlSignIn(person('_tmp8f3a9', 'transient@district.test', { nameIdFormat: NAME_ID.transient }));
    expect(done.status).toBe(400);
    expect(done.text).toContain('NameID format to persistent');
    expect((await User.findById(user._id).lean().orFail()).ssoSubject).toBeUndefined();
  });

  test('when the ACS gets no response, garbage, or operator objects, then 400 and never a 500', async () => {
    for (const body of [{}, { SAMLResponse: '' }, { SAMLResponse: 'not base64 at all <<<' }, { SAMLResponse: Buffer.from('<x>').toString('base64') }, { SAMLResponse: Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&a;</samlp:Response>').toString('base64') }]) {
      const res = await request(t.app).post('/auth/saml/acs').type('form').send(body);
      expect([JSON.stringify(body).slice(0, 40), res.status]).toEqual([JSON.stringify(body).slice(0, 40), 400]);
    }
    const json = await request(t.app).post('/auth/saml/acs').set('Content-Type', 'application/json').send('{"SAMLResponse": {"$gt": ""}, "RelayState": ["/x"]}');
    expect(json.status).toBe(400);
  });
});

describe('browser binding (login CSRF)', () => {
  /** Someone with their own rostered account starts a sign-in in their own browser and captures the IdP's form. */
  async function capturedBy(email: string, nameId: string, start = '/auth/saml?next=/training') {
    const attacker = await createUser(district, { schools: [school], email });
    const browser = request.agent(t.app);
    const startRes = await browser.get(start);
    const post = await idp.signInAs(startRes.headers.location, person(nameId, email));
    return { attacker, browser, startRes, post };
  }

  async function expectNothingStoredFor(userId: unknown) {
    const stored = await User.findById(userId).lean().orFail();
    expect(stored.ssoSubject).toBeUndefined();
    expect(stored.lastSignInAt ?? null).toBeNull();
    expect(await AuditEvent.countDocuments({ 'target.id': String(userId) })).toBe(0);
  }

  test('when the sign-in starts, then an HttpOnly binding cookie scoped to the ACS for 10 minutes is set, and only its hash is kept with the request', async () => {
    const res = await request(t.app).get('/auth/saml');
    const { line, pair } = bindingOf(res);
    const value = pair.split('=')[1];
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(line).toContain('; Path=/auth/saml/acs');
    expect(line).toContain('; HttpOnly');
    expect(line).toContain('; Max-Age=600');
    // This app's BASE_URL is plain http on a host that is not localhost: no Secure cookie possible, so Lax.
    expect(line).toContain('; SameSite=Lax');
    expect(line).not.toContain('Secure');
    const xml = inflateRawSync(Buffer.from(new URL(res.headers.location).searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
    const stored = await SamlRequest.findById(/ID="([^"]+)"/.exec(xml)![1]).lean().orFail();
    expect(stored.bindingHash).toBe(createHash('sha256').update(value).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(value);
  });

  test('when the app runs with its production configuration, then the cookie is SameSite=None; Secure (a cross-site POST carries it)', async () => {
    const prod = buildApp(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), MONGODB_URI: t.db.uri, BASE_URL: 'https://training.example', ...idp.env, SAML_IDP_ENTRY_POINT: 'https://idp.example/sso' }));
    const res = await request(prod).get('/auth/saml');
    expect(res.status).toBe(303);
    const { line } = bindingOf(res);
    expect(line).toMatch(/; Path=\/auth\/saml\/acs(;|$)/);
    expect(line).toContain('; HttpOnly');
    expect(line).toContain('; Secure');
    expect(line).toContain('; SameSite=None');
    // buildApp sets module-wide settings (log level, mailer): back to this file's app.
    buildApp(t.config);
  });

  test('when the browser that started the sign-in posts the response, then it signs in and the binding cookie is cleared', async () => {
    await createUser(district, { schools: [school], email: 'bound.ok@district.test' });
    const { agent, done } = await samlSignIn(person('pid-b001', 'bound.ok@district.test'));
    expect(done.status).toBe(303);
    const cleared = ((done.headers['set-cookie'] as unknown as string[]) ?? []).find((c) => c.startsWith('sst.saml_binding='));
    expect(cleared).toMatch(/^sst\.saml_binding=; Path=\/auth\/saml\/acs; Expires=Thu, 01 Jan 1970/);
    expect((await agent.get('/account')).status).toBe(200);
  });

  test("when someone's captured response is posted from a victim's browser without the cookie, then refused (400, start-again page), the victim stays themselves, nothing is stored, and the request is not used up", async () => {
    const logged = jest.spyOn(logger, 'info');
    const { attacker, browser, startRes, post } = await capturedBy('attacker.one@district.test', 'pid-b101');
    const victimUser = await createUser(district, { schools: [school], email: 'victim.one@district.test' });
    const victim = await signIn(t.app, victimUser.email);

    const forced = await victim.post('/auth/saml/acs').type('form').send({ SAMLResponse: post.SAMLResponse, RelayState: post.RelayState });
    const line = logged.mock.calls.find((call) => call[1] === 'SAML response refused');
    logged.mockRestore();

    expect(forced.status).toBe(400);
    expect(forced.text).toContain('This sign-in was started in another browser or has expired');
    expect(forced.text).toContain('href="/auth/saml?next=%2Ftraining"');
    // No new session (the victim's own session cookie may be refreshed, same id) and the cookie is not touched.
    expect(((forced.headers['set-cookie'] as unknown as string[] | undefined) ?? []).filter((c) => !c.startsWith('sst.sid='))).toEqual([]);
    expect(line?.[0]).toEqual({ code: 'no_binding_cookie', requestId: expect.any(String) });
    expect(JSON.stringify(line)).not.toContain(bindingOf(startRes).pair.split('=')[1]);
    // The victim is still signed in as themselves.
    expect((await victim.get('/account')).text).toContain(victimUser.name);
    await expectNothingStoredFor(attacker._id);
    const request_ = await SamlRequest.findById(post.requestId).lean().orFail();
    expect(request_.checkedAt).toBeUndefined();
    expect(request_.usedAt).toBeUndefined();
    // The browser that started it can still finish it.
    const own = await browser.post('/auth/saml/acs').type('form').send({ SAMLResponse: post.SAMLResponse, RelayState: post.RelayState });
    expect(own.status).toBe(303);
    expect(own.headers.location).toBe('/training');
  });

  test('when the refusal is shown to a Spanish reader, then it is in Spanish with the same restart link', async () => {
    const { post } = await capturedBy('attacker.es@district.test', 'pid-b151', '/auth/saml');
    const forced = await request(t.app).post('/auth/saml/acs').set('Accept-Language', 'es').type('form').send({ SAMLResponse: post.SAMLResponse, RelayState: post.RelayState });
    expect(forced.status).toBe(400);
    expect(forced.text).toContain('<html lang="es"');
    expect(forced.text).toContain('Este inicio de sesión se comenzó en otro navegador o caducó');
    expect(forced.text).toContain('href="/auth/saml?next=%2F"');
    expect(forced.text).toContain('Comenzar de nuevo el inicio de sesión');
  });

  test("when it is posted from a browser that started its own sign-in (another browser's cookie), then refused, nothing stored, and that browser's own sign-in still works", async () => {
    const logged = jest.spyOn(logger, 'info');
    const { attacker, post } = await capturedBy('attacker.two@district.test', 'pid-b201');
    const victimUser = await createUser(district, { schools: [school], email: 'victim.two@district.test' });
    const victim = request.agent(t.app);
    const victimStart = await victim.get('/auth/saml');

    const forced = await victim.post('/auth/saml/acs').type('form').send({ SAMLResponse: post.SAMLResponse, RelayState: post.RelayState });
    const line = logged.mock.calls.find((call) => call[1] === 'SAML response refused');
    logged.mockRestore();

    expect(forced.status).toBe(400);
    expect(forced.text).toContain('started in another browser or has expired');
    expect(sidOf(forced)).toBeUndefined();
    expect(line?.[0]).toEqual({ code: 'other_browser', requestId: expect.any(String) });
    await expectSignedOut(victim);
    await expectNothingStoredFor(attacker._id);
    expect((await SamlRequest.findById(post.requestId).lean().orFail()).usedAt).toBeUndefined();
    // The victim's own round trip is untouched.
    const own = await idp.signInAs(victimStart.headers.location, person('pid-b202', victimUser.email));
    const ownDone = await victim.post('/auth/saml/acs').type('form').send({ SAMLResponse: own.SAMLResponse });
    expect(ownDone.status).toBe(303);
    expect((await victim.get('/account')).text).toContain(victimUser.name);
  });

  test('when the binding outlived its request (the request record expired and was removed), then refused as started elsewhere or expired, and nothing is stored', async () => {
    const { attacker, browser, post } = await capturedBy('late.one@district.test', 'pid-b301');
    await SamlRequest.deleteOne({ _id: post.requestId });
    const late = await browser.post('/auth/saml/acs').type('form').send({ SAMLResponse: post.SAMLResponse });
    expect(late.status).toBe(400);
    expect(late.text).toContain('started in another browser or has expired');
    expect(sidOf(late)).toBeUndefined();
    await expectNothingStoredFor(attacker._id);
  });

  test('when the request expired while its cookie is still there, then refused as expired, and nothing is stored', async () => {
    const { attacker, browser, post } = await capturedBy('late.two@district.test', 'pid-b401');
    await SamlRequest.updateOne({ _id: post.requestId }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    const late = await browser.post('/auth/saml/acs').type('form').send({ SAMLResponse: post.SAMLResponse });
    expect(late.status).toBe(400);
    // The record has expired; the database's expiry sweep may also have removed it before the post arrives
    // (under load), and then the binding knows no request: either page tells the person it expired.
    expect(late.text).toMatch(/already used or has expired|was started in another browser or has expired/);
    expect(sidOf(late)).toBeUndefined();
    await expectNothingStoredFor(attacker._id);
  });
});

describe('metadata', () => {
  test('when the IdP administrator opens the metadata URL, then it is SP metadata XML with our entity ID, the ACS URL (HTTP-POST) and the NameID format', async () => {
    const res = await request(t.app).get('/auth/saml/metadata');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/xml/);
    // Parsed as an IdP parses it.
    const meta = samlify.SPMetadata(res.text);
    expect(meta.getEntityID()).toBe(`${BASE_URL}/auth/saml/metadata`);
    expect(meta.getAssertionConsumerService('post')).toBe(ACS);
    expect(res.text).toContain(`<NameIDFormat>${NAME_ID.persistent}</NameIDFormat>`);
    expect(res.text).not.toContain('PRIVATE KEY');
  });
});
