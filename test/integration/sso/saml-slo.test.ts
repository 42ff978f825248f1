import { inflateRawSync } from 'node:zlib';
import request from 'supertest';
import mongoose from 'mongoose';
import pino from 'pino';
import { SamlRequest } from '../../../src/components/sso/saml-request.model';
import { logger } from '../../../src/shared/logger';
import { SamlSession } from '../../../src/components/sso/saml-session.model';
import type { TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { makeKeyPair, startTestSamlIdp, type SamlPerson, type SloDelivery, type TestSamlIdp } from '../../helpers/saml-idp';
import { closeSsoApp, expectSignedOut, samlEnv, sidOf, SSO_BASE_URL as BASE_URL, startSsoApp } from '../../helpers/sso';

/*
 * SAML Single Logout (docs/sso.md, "Single Logout") against the real samlify IdP of test/helpers/saml-idp.ts: it
 * checks the app's signed LogoutRequest with the certificate from the app's metadata and answers with its own signed
 * LogoutResponse; it also sends IdP-initiated LogoutRequests. The app's SP key pair is made with openssl here.
 */

const EMAIL_CLAIM = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';
const SLO = `${BASE_URL}/auth/saml/slo`;
let t: TestApp;
let idp: TestSamlIdp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
const spKeys = makeKeyPair('Test SP');

beforeAll(async () => {
  idp = await startTestSamlIdp();
  ({ t, district, school } = await startSsoApp({ ...samlEnv(idp), SAML_IDP_SLO_URL: idp.sloUrl, SAML_SP_PRIVATE_KEY: spKeys.key, SAML_SP_CERT: spKeys.cert }, idp));
});
afterAll(() => closeSsoApp(t, idp));

const sessions = () => mongoose.connection.db!.collection('sessions');
/** The stored session of a cookie `sst.sid=s:<id>.<signature>`. */
const sessionIdOf = (cookie: string) => decodeURIComponent(cookie.split('=')[1]).replace(/^s:/, '').split('.')[0];

let counter = 0;
/** A rostered person, signed in through SAML in a browser of their own; their NameID and SessionIndex. */
async function samlSignedIn(nameId = `pid-${++counter}-${Date.now()}`, email = `slo${counter}.${Date.now()}@district.test`) {
  await createUser(district, { schools: [school], email }).catch(() => undefined);
  const person: SamlPerson = { nameId, attributes: { [EMAIL_CLAIM]: email } };
  const agent = request.agent(t.app);
  const start = await agent.get('/auth/saml');
  const post = await idp.signInAs(start.headers.location, person);
  const done = await agent.post('/auth/saml/acs').type('form').send({ SAMLResponse: post.SAMLResponse, RelayState: post.RelayState });
  expect(done.status).toBe(303);
  const sid = sidOf(done)!;
  return { agent, nameId, email, sessionIndex: post.sessionIndex!, sessionId: sessionIdOf(sid) };
}

/** Brings a message from the IdP to the app as the browser would (following the redirect, or posting the form). */
function bring(agent: Agent | ReturnType<typeof request>, delivery: SloDelivery) {
  if (delivery.binding === 'redirect') return (agent as Agent).get(delivery.path);
  return (agent as Agent).post(delivery.path).type('form').send(delivery.fields);
}

async function signOut(agent: Agent) {
  const csrf = await csrfFor(agent);
  return agent.post('/logout').type('form').send({ _csrf: csrf });
}

async function expectSignedIn(agent: Agent) {
  expect((await agent.get('/account')).status).toBe(200);
}

describe('metadata and sign-in', () => {
  test('when Single Logout is configured, then the metadata lists SingleLogoutService on both bindings and our signing certificate', async () => {
    const res = await request(t.app).get('/auth/saml/metadata');
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${SLO}"/>`);
    expect(res.text).toContain(`<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${SLO}"/>`);
    expect(res.text).toMatch(/<KeyDescriptor use="signing">/);
    expect(res.text.replace(/\s+/g, '')).toContain(spKeys.cert.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''));
    // Sign-in requests are still not signed: the metadata does not claim they are.
    expect(res.text).toContain('AuthnRequestsSigned="false"');
  });

  test('when someone signs in through SAML, then the new session holds only NameID, format and SessionIndex for logout, and a hashed index record points to it', async () => {
    const { sessionId, nameId, sessionIndex, email } = await samlSignedIn();
    const stored = await sessions().findOne({ _id: sessionId as never });
    const data = JSON.parse(String(stored!.session)) as { samlSignIn?: Record<string, unknown>; passport?: unknown };
    expect(data.samlSignIn).toEqual({ nameId, nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', sessionIndex });
    expect(String(stored!.session)).not.toContain(email);
    const record = await SamlSession.findById(sessionId).lean().orFail();
    expect(record.sessionIndex).toBe(sessionIndex);
    expect(record.subjectHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(record)).not.toContain(nameId);
  });

  test('when the page sends the sign-out form, then CSP form-action allows the IdP origin the 303 goes to', async () => {
    const res = await request(t.app).get('/login');
    expect(res.headers['content-security-policy']).toContain(`form-action 'self' ${new URL(idp.sloUrl).origin}`);
  });
});

describe('sign-out started here (SP-initiated)', () => {
  test('when a SAML session signs out, then it is gone from the store before the redirect, the IdP gets a valid signed LogoutRequest for that NameID and SessionIndex, and its answer lands on "You have signed out"', async () => {
    const { agent, sessionId, nameId, sessionIndex } = await samlSignedIn();
    const res = await signOut(agent);
    expect(res.status).toBe(303);
    expect(res.headers.location.startsWith(`${idp.sloUrl}?SAMLRequest=`)).toBe(true);
    // Our session ended first: nothing at the IdP can leave this browser signed in here.
    expect(await sessions().findOne({ _id: sessionId as never })).toBeNull();
    expect(await SamlSession.findById(sessionId).lean()).toBeNull();
    await expectSignedOut(agent);

    const { request: received, answer } = await idp.answerLogout(res.headers.location);
    expect(received).toMatchObject({ nameId, sessionIndex, issuer: `${BASE_URL}/auth/saml/metadata`, destination: idp.sloUrl, relayState: 'signed_out', sigAlg: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256' });
    expect(received.nameIdFormat).toBe('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
    const stored = await SamlRequest.findById(received.id).lean().orFail();
    expect(stored.kind).toBe('logout');

    const back = await bring(agent, answer);
    expect(back.status).toBe(303);
    expect(back.headers.location).toBe('/login?signed_out=1');
    const page = await agent.get(back.headers.location);
    expect(page.text).toContain('You have signed out');
    expect(page.text).not.toContain('may still be signed in');
    expect((await SamlRequest.findById(received.id).lean().orFail()).usedAt).toBeInstanceOf(Date);
  });

  test('when the IdP answers on the POST binding, then the answer is accepted the same way', async () => {
    const { agent } = await samlSignedIn();
    const res = await signOut(agent);
    const { answer } = await idp.answerLogout(res.headers.location, { binding: 'post' });
    expect(answer.binding).toBe('post');
    const back = await bring(agent, answer);
    expect(back.status).toBe(303);
    expect(back.headers.location).toBe('/login?signed_out=1');
  });

  test('when the IdP reports a partial or failed logout, then the sign-in page says the portal may still be signed in (English and Spanish)', async () => {
    for (const status of ['partial', 'failed'] as const) {
      const { agent } = await samlSignedIn();
      const res = await signOut(agent);
      const { answer } = await idp.answerLogout(res.headers.location, { status });
      const back = await bring(agent, answer);
      expect(back.status).toBe(303);
      expect(back.headers.location).toBe('/login?signed_out=partial');
      expect((await agent.get(back.headers.location)).text).toContain('the district portal may still be signed in — close the browser');
    }
    const es = await request(t.app).get('/login?signed_out=partial').set('Accept-Language', 'es');
    expect(es.text).toContain('es posible que su sesión en el portal del distrito siga abierta');
  });

  test.each([
    ['signed by another key (forged)', { sign: 'impostor' as const }, 'bad_signature'],
    ['unsigned', { sign: 'none' as const }, 'unsigned'],
    ['from another issuer', { issuer: 'https://evil.example/idp' }, 'wrong_issuer'],
    ['unsolicited (no InResponseTo)', { inResponseTo: null }, 'unsolicited'],
    ['answering a request we never sent', { inResponseTo: '_0123456789abcdef' }, 'unknown_request'],
    ['tampered after signing', { tamper: (xml: string) => xml.replace('status:Responder', 'status:Success') , status: 'failed' as const }, 'bad_signature'],
  ])('when the LogoutResponse is %s, then it is refused with a clear page (400), never a 500, and the browser is signed out here', async (_name, options, code) => {
    const { agent } = await samlSignedIn();
    const res = await signOut(agent);
    const { answer } = await idp.answerLogout(res.headers.location, options);
    const logged = jest.spyOn(logger, 'info');
    const back = await bring(agent, answer);
    expect(logged).toHaveBeenCalledWith({ code, message: 'response', requestId: expect.any(String) }, 'SAML logout message refused');
    logged.mockRestore();
    expect(back.status).toBe(400);
    expect(back.text).toContain('You are signed out here');
    expect(back.text).toContain('close the browser window');
    await expectSignedOut(agent);
  });

  test('when a valid LogoutResponse is replayed, then the second one is refused', async () => {
    const { agent } = await samlSignedIn();
    const res = await signOut(agent);
    const { answer } = await idp.answerLogout(res.headers.location);
    expect((await bring(agent, answer)).status).toBe(303);
    const logged = jest.spyOn(logger, 'info');
    const again = await bring(agent, answer);
    expect(logged).toHaveBeenCalledWith({ code: 'unknown_request', message: 'response', requestId: expect.any(String) }, 'SAML logout message refused');
    logged.mockRestore();
    expect(again.status).toBe(400);
    expect(again.text).toContain('You are signed out here');
  });

  test('when a forged LogoutResponse reaches a browser that is signed in, then that session still ends (signed out locally)', async () => {
    const victim = await samlSignedIn();
    const other = await samlSignedIn();
    const res = await signOut(other.agent);
    const { answer } = await idp.answerLogout(res.headers.location, { sign: 'impostor' });
    expect((await bring(victim.agent, answer)).status).toBe(400);
    await expectSignedOut(victim.agent);
    expect(await sessions().findOne({ _id: victim.sessionId as never })).toBeNull();
  });

  test('when a password session signs out, then the ordinary local sign-out happens (no IdP)', async () => {
    await createUser(district, { schools: [school], email: 'password.only@district.test' });
    const agent = await signIn(t.app, 'password.only@district.test');
    const res = await signOut(agent);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?signed_out=1');
    await expectSignedOut(agent);
  });
});

describe('sign-out started at the IdP (IdP-initiated)', () => {
  test('when the IdP sends a signed LogoutRequest for a person, then both of their sessions end, another person stays signed in, and the IdP gets a signed Success', async () => {
    const first = await samlSignedIn();
    const second = await samlSignedIn(first.nameId, first.email);
    const bystander = await samlSignedIn();
    const delivery = await idp.requestLogout({ nameId: first.nameId });

    const res = await bring(first.agent, delivery);
    expect(res.status).toBe(303);
    expect(res.headers.location.startsWith(`${idp.sloUrl}?SAMLResponse=`)).toBe(true);
    const answer = await idp.readLogoutResponse(res.headers.location);
    expect(answer).toMatchObject({ inResponseTo: delivery.id, status: 'urn:oasis:names:tc:SAML:2.0:status:Success', issuer: `${BASE_URL}/auth/saml/metadata` });

    for (const s of [first, second]) {
      expect(await sessions().findOne({ _id: s.sessionId as never })).toBeNull();
      expect(await SamlSession.findById(s.sessionId).lean()).toBeNull();
      await expectSignedOut(s.agent);
    }
    await expectSignedIn(bystander.agent);
    expect(await sessions().findOne({ _id: bystander.sessionId as never })).not.toBeNull();
  });

  test('when the request names a SessionIndex, then only that session of the person ends (POST binding, RelayState echoed)', async () => {
    const first = await samlSignedIn();
    const second = await samlSignedIn(first.nameId, first.email);
    const delivery = await idp.requestLogout({ nameId: first.nameId, sessionIndex: first.sessionIndex }, { binding: 'post', relayState: 'idp-state-1' });
    expect(delivery.binding).toBe('post');
    const res = await bring(request(t.app), delivery);
    expect(res.status).toBe(303);
    const answer = await idp.readLogoutResponse(res.headers.location);
    expect(answer.status).toBe('urn:oasis:names:tc:SAML:2.0:status:Success');
    expect(answer.relayState).toBe('idp-state-1');
    await expectSignedOut(first.agent);
    await expectSignedIn(second.agent);
  });

  test('when no session of ours matches, then the IdP gets a signed answer that the principal is unknown', async () => {
    const delivery = await idp.requestLogout({ nameId: 'nobody-we-know' });
    const res = await bring(request(t.app), delivery);
    expect(res.status).toBe(303);
    const answer = await idp.readLogoutResponse(res.headers.location);
    expect(answer).toMatchObject({ inResponseTo: delivery.id, status: 'urn:oasis:names:tc:SAML:2.0:status:Requester', subStatus: 'urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal' });
  });

  test.each([
    ['unsigned (redirect)', { sign: 'none' as const }, 'unsigned'],
    ['unsigned (POST)', { sign: 'none' as const, binding: 'post' as const }, 'bad_signature'],
    ['signed by another key', { sign: 'impostor' as const }, 'bad_signature'],
    ['signed by another key (POST)', { sign: 'impostor' as const, binding: 'post' as const }, 'bad_signature'],
    ['tampered after signing', { tamper: (xml: string) => xml.replace(/<samlp:SessionIndex>[^<]*<\/samlp:SessionIndex>/, '') }, 'bad_signature'],
    ['tampered after signing (POST)', { binding: 'post' as const, tamper: (xml: string) => xml.replace(/<samlp:SessionIndex>[^<]*<\/samlp:SessionIndex>/, '') }, 'bad_signature'],
    ['from another issuer', { issuer: 'https://evil.example/idp' }, 'wrong_issuer'],
    ['issued 20 minutes ago', { issuedMinutesAgo: 20 }, 'stale_request'],
  ])('when the LogoutRequest is %s, then it is refused (400) and no session ends', async (_name, options, code) => {
    const person = await samlSignedIn();
    // Without the SessionIndex (what the tampering removes) the request would end every session of the person.
    const delivery = await idp.requestLogout({ nameId: person.nameId, sessionIndex: 'other-index' }, options);
    const logged = jest.spyOn(logger, 'info');
    const res = await bring(request(t.app), delivery);
    expect(logged).toHaveBeenCalledWith({ code, message: 'request', requestId: expect.any(String) }, 'SAML logout message refused');
    logged.mockRestore();
    expect(res.status).toBe(400);
    expect(res.text).toContain('Sign-out request not accepted');
    await expectSignedIn(person.agent);
    expect(await SamlSession.findById(person.sessionId).lean()).not.toBeNull();
  });

  test('when a valid LogoutRequest is replayed, then the copy is refused (400)', async () => {
    const person = await samlSignedIn();
    const delivery = await idp.requestLogout({ nameId: person.nameId });
    expect((await bring(request(t.app), delivery)).status).toBe(303);
    await expectSignedOut(person.agent);
    const again = await samlSignedIn(person.nameId, person.email);
    expect((await bring(request(t.app), delivery)).status).toBe(400);
    await expectSignedIn(again.agent);
  });
});

describe('garbage at the SLO endpoint', () => {
  test('when the endpoint gets nothing, garbage, or both message kinds, then it answers 400 and changes no session', async () => {
    const person = await samlSignedIn();
    const attempts = [
      await person.agent.get('/auth/saml/slo'),
      await request(t.app).get('/auth/saml/slo?SAMLRequest=%%%&SigAlg=x&Signature=y'),
      await request(t.app).get('/auth/saml/slo?SAMLRequest=a&SAMLRequest=b'),
      await request(t.app).post('/auth/saml/slo').type('form').send({ SAMLRequest: 'bm90IHhtbA==' }),
      await request(t.app).post('/auth/saml/slo').type('form').send({ SAMLRequest: 'x', SAMLResponse: 'y' }),
      await request(t.app).post('/auth/saml/slo').type('form').send('SAMLRequest[$gt]=x'),
      await request(t.app).get(`/auth/saml/slo?SAMLRequest=${encodeURIComponent(Buffer.alloc(3000, 1).toString('base64'))}&SigAlg=${encodeURIComponent('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')}&Signature=AAAA`),
    ];
    expect(attempts.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 400, 400]);
    await expectSignedIn(person.agent);
  });

  test('when the LogoutRequest we send is read back, then it is deflated XML with our issuer and the IdP SLO URL as destination', async () => {
    const { agent } = await samlSignedIn();
    const res = await signOut(agent);
    const url = new URL(res.headers.location);
    const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
    expect(xml).toContain(`Destination="${idp.sloUrl}"`);
    expect(url.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(url.searchParams.get('Signature')).toBeTruthy();
  });
});

describe('request log', () => {
  test('when a person signs out through the IdP and the IdP logs them out, then the request log has neither message nor signature (they carry the NameID)', async () => {
    const lines: string[] = [];
    const stream = (logger as unknown as Record<symbol, { write(line: string): boolean }>)[pino.symbols.streamSym];
    const write = jest.spyOn(stream, 'write').mockImplementation((line: string) => lines.push(line) > 0);
    logger.level = 'info';
    try {
      const person = await samlSignedIn();
      const res = await signOut(person.agent);
      const { answer } = await idp.answerLogout(res.headers.location);
      expect((await bring(person.agent, answer)).status).toBe(303);
      const again = await samlSignedIn(person.nameId, person.email);
      const delivery = await idp.requestLogout({ nameId: person.nameId });
      const answered = await bring(again.agent, delivery);
      expect(answered.status).toBe(303);
      const entries = lines.map((l) => JSON.parse(l) as { req?: { method?: string; url?: string; query?: unknown }; res?: { headers?: { location?: string } } });
      const slo = entries.filter((e) => e.req?.url?.startsWith('/auth/saml/slo'));
      expect(slo).toHaveLength(2);
      for (const e of slo) {
        expect(e.req!.url).toMatch(/SAML(Request|Response)=\[redacted\]/);
        expect(e.req!.query).toBe('[redacted]');
      }
      const all = lines.join('\n');
      for (const secret of [new URL(res.headers.location).searchParams.get('SAMLRequest')!, new URL(answered.headers.location).searchParams.get('SAMLResponse')!, new URL(`http://x${(answer as { path: string }).path}`).searchParams.get('SAMLResponse')!]) {
        expect(all).not.toContain(secret.slice(0, 40));
        expect(all).not.toContain(encodeURIComponent(secret).slice(0, 40));
      }
      expect(all).not.toContain(person.nameId);
    } finally {
      logger.level = 'silent';
      write.mockRestore();
    }
  });
});
