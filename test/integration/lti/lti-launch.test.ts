import { createHash } from 'node:crypto';
import request from 'supertest';
import { logger } from '../../../src/shared/logger';
import { buildApp } from '../../../src/app';
import { loadConfig } from '../../../src/config';
import { User } from '../../../src/components/users';
import { AuditEvent } from '../../../src/components/audit/audit.model';
import { LtiLaunchState, redactLtiRedirect, redactLtiRequest } from '../../../src/components/lti';
import { finishLaunch, ltiUrls } from '../../../src/components/lti/lti-launch.service';
import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { startLtiPlatform, type TestLtiPlatform } from '../../helpers/lti-platform';
import { BASE_URL, LAUNCH_URL, bindingCookieOf, initiateLogin, registerPlatform, sessionIdOf, sessions, signedInSessions } from './lti.helpers';
import { signIn } from '../../helpers/session';

let t: TestApp;
let platform: TestLtiPlatform;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let n = 0;

beforeAll(async () => {
  platform = await startLtiPlatform();
  t = await startTestApp({ BASE_URL });
  await prepareTrainingContent(); // the repository's modules/ (for /training/foundations)
  district = await createDistrict();
  school = await createSchool(district);
  await registerPlatform(platform, district);
});
afterAll(async () => {
  await t?.close();
  await platform?.close();
});

/** A rostered person who is also signed in to the LMS (login hint → LMS identity). */
async function rostered(overrides: Parameters<typeof createUser>[1] = {}, inDistrict = district) {
  n += 1;
  const user = await createUser(inDistrict, { email: `lti${n}@district.example`, schools: [school], ...overrides });
  const hint = `hint-${n}`;
  const person = { sub: `canvas-user-${n}`, email: user.email };
  platform.addPerson(hint, person);
  return { user, hint, person };
}

/** The whole launch as the browser does it: LMS → /lti/login → platform auth → auto-posted form → /lti/launch. */
async function launch(hint: string, target?: string) {
  const agent = request.agent(t.app);
  const { location, binding } = await initiateLogin(t.app, platform, hint, target, agent);
  const form = await platform.authorize(location);
  expect(form.status).toBe(200);
  expect(form.action).toBe(LAUNCH_URL);
  const res = await agent.post('/lti/launch').type('form').send(form.fields);
  return { agent, res, form, binding };
}

describe('login initiation', () => {
  test('when the LMS starts a login, then the browser goes to its auth endpoint with an OIDC implicit request, and state + nonce are kept once', async () => {
    const { user, hint } = await rostered();
    const { res, state, nonce } = await initiateLogin(t.app, platform, hint);

    const url = new URL(res.headers.location);
    expect(url.origin + url.pathname).toBe(platform.authUrl);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ scope: 'openid', response_type: 'id_token', response_mode: 'form_post', prompt: 'none', client_id: platform.clientId, redirect_uri: LAUNCH_URL, login_hint: hint });
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await LtiLaunchState.countDocuments({ state, nonce })).toBe(1);
    // Nothing about the person is stored at login.
    expect(JSON.stringify(await LtiLaunchState.findOne({ state }).lean())).not.toContain(user.email);
  });

  test('when the LMS starts the login with GET, then it is answered the same way', async () => {
    const { hint } = await rostered();
    const res = await request(t.app).get('/lti/login').query({ iss: platform.issuer, login_hint: hint, target_link_uri: LAUNCH_URL, client_id: platform.clientId });
    expect(res.status).toBe(303);
    expect(res.headers.location.startsWith(platform.authUrl)).toBe(true);
  });

  test('when the issuer is not registered, or the client id is not, then a clear 400 page and no state is kept', async () => {
    const before = await LtiLaunchState.countDocuments();
    for (const body of [
      { iss: 'https://unknown.example', login_hint: 'x', target_link_uri: LAUNCH_URL, client_id: platform.clientId },
      { iss: platform.issuer, login_hint: 'x', target_link_uri: LAUNCH_URL, client_id: 'another-client' },
    ]) {
      const res = await request(t.app).post('/lti/login').type('form').send(body);
      expect(res.status).toBe(400);
      expect(res.text).toContain('Your LMS is not registered with this training site.');
    }
    expect(await LtiLaunchState.countDocuments()).toBe(before);
  });

  test('when the login names an unregistered deployment, another site as target, or lacks parameters, then 400', async () => {
    const base = { iss: platform.issuer, login_hint: 'x', target_link_uri: LAUNCH_URL, client_id: platform.clientId };
    for (const body of [{ ...base, lti_deployment_id: 'not-ours' }, { ...base, target_link_uri: 'https://evil.example/lti/launch' }, { iss: platform.issuer }, { ...base, iss: ['a', 'b'] }]) {
      const res = await request(t.app).post('/lti/login').type('form').send(body);
      expect(res.status).toBe(400);
    }
  });
});

describe('request log', () => {
  test('when a login initiation is logged, then its login hint, state and nonce are not', async () => {
    const { hint } = await rostered();
    const { res } = await initiateLogin(t.app, platform, hint);
    const logged = redactLtiRedirect({ statusCode: 303, headers: { location: res.headers.location } });
    expect(logged.headers!.location).toBe(`${platform.authUrl}?[redacted]`);
    expect(redactLtiRequest({ url: `/lti/login?iss=x&login_hint=${hint}`, method: 'GET' })).toEqual({ url: '/lti/login?[redacted]', query: '[redacted]', method: 'GET' });
    expect(redactLtiRequest({ url: '/lti/launch' })).toEqual({ url: '/lti/launch' });
  });
});

describe('launch', () => {
  test('when a rostered person launches a module link the first time, then they are signed in with a new session, linked by email, and sent to the module', async () => {
    const { user, hint, person } = await rostered();
    const { agent, res } = await launch(hint);

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/training/foundations');
    const sid = sessionIdOf(res);
    expect(sid).toBeDefined();
    const stored = await sessions().findOne({ _id: sid! });
    expect(JSON.parse(stored!.session).passport.user).toBe(`${user._id.toString()}.0`);
    const linked = await User.findById(user._id).select('ltiSubject ltiLinkedAt ssoSubject').lean();
    expect(linked!.ltiSubject).toBe(`${platform.issuer} ${person.sub}`);
    expect(linked!.ltiLinkedAt).toBeInstanceOf(Date);
    expect(linked!.ssoSubject).toBeUndefined();
    expect(await AuditEvent.countDocuments({ action: 'lti.linked', 'target.id': user._id.toString() })).toBe(1);
    const page = await agent.get('/training/foundations');
    expect(page.status).toBe(200);
  });

  test('when the same person launches again, then they are matched by their LMS identity even after their email changed there', async () => {
    const { user, hint, person } = await rostered();
    await launch(hint);
    platform.addPerson(hint, { ...person, email: 'changed@elsewhere.example' });

    const { res } = await launch(hint, `${LAUNCH_URL}?module=no-such-module`);

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/training');
    expect(await signedInSessions(user._id.toString())).toBe(2);
    expect(await AuditEvent.countDocuments({ action: 'lti.linked', 'target.id': user._id.toString() })).toBe(1);
  });

  test('when the state is posted a second time (replay), then it is refused and no second session is made', async () => {
    const { user, hint } = await rostered();
    const { res, form, binding } = await launch(hint);
    expect(res.status).toBe(303);

    // Even with the cookie of the browser that launched (someone who copied both).
    const replay = await request(t.app).post('/lti/launch').set('Cookie', `sst.lti_binding=${binding}`).type('form').send(form.fields);
    const elsewhere = await request(t.app).post('/lti/launch').type('form').send(form.fields);

    expect(replay.status).toBe(400);
    expect(replay.text).toContain('This launch was already used or has expired.');
    expect(sessionIdOf(replay)).toBeUndefined();
    expect(elsewhere.status).toBe(400);
    expect(sessionIdOf(elsewhere)).toBeUndefined();
    expect(await signedInSessions(user._id.toString())).toBe(1);
  });

  /** A launch whose id_token is signed by the test (not the auth endpoint), with a real state and nonce from a login. */
  async function forgedLaunch(hint: string, person: { sub: string; email?: string; locale?: string }, options: Parameters<TestLtiPlatform['signIdToken']>[3] = {}, useNonce?: string) {
    const { state, nonce, cookie } = await initiateLogin(t.app, platform, hint);
    const idToken = await platform.signIdToken(person, useNonce ?? nonce, `${LAUNCH_URL}?module=foundations`, options);
    return request(t.app).post('/lti/launch').set('Cookie', cookie).type('form').send({ id_token: idToken, state });
  }

  test.each([
    ['signed with another key', { key: 'other' as const }, 'The launch from your LMS could not be verified.'],
    ['for another audience', { claims: { aud: 'someone-else' } }, 'The launch from your LMS could not be verified.'],
    ['for several audiences without us as authorized party', { claims: { aud: ['someone-else', 'CLIENT'], azp: 'someone-else' } }, 'The launch from your LMS could not be verified.'],
    ['from another issuer', { claims: { iss: 'https://other.example' } }, 'The launch from your LMS could not be verified.'],
    ['expired', { claims: { iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 1800 } }, 'This launch was already used or has expired.'],
    ['of an unregistered deployment', { claims: { 'https://purl.imsglobal.org/spec/lti/claim/deployment_id': 'not-registered' } }, 'This installation of the training in your LMS is not registered'],
    ['of another message type', { claims: { 'https://purl.imsglobal.org/spec/lti/claim/message_type': 'LtiSubmissionReviewRequest' } }, 'Your LMS sent a kind of launch this training site does not accept.'],
    ['a deep-linking request without its settings', { claims: { 'https://purl.imsglobal.org/spec/lti/claim/message_type': 'LtiDeepLinkingRequest' } }, 'could not be verified'],
    ['of another LTI version', { claims: { 'https://purl.imsglobal.org/spec/lti/claim/version': '1.1' } }, 'Your LMS sent a kind of launch'],
    ['for another site as target', { claims: { 'https://purl.imsglobal.org/spec/lti/claim/target_link_uri': 'https://evil.example/lti/launch' } }, 'could not be verified'],
    ['without a resource link', { drop: ['https://purl.imsglobal.org/spec/lti/claim/resource_link'] }, 'could not be verified'],
  ])('when the id_token is %s, then the launch is refused with a clear page and no session', async (_label, options, message) => {
    const { user, hint, person } = await rostered();
    const opts = JSON.parse(JSON.stringify(options).replace('"CLIENT"', JSON.stringify(platform.clientId)));
    const res = await forgedLaunch(hint, person, opts);

    expect(res.status).toBe(400);
    expect(res.text).toContain(message);
    expect(sessionIdOf(res)).toBeUndefined();
    expect(await signedInSessions(user._id.toString())).toBe(0);
    expect((await User.findById(user._id).select('ltiSubject').lean())!.ltiSubject).toBeUndefined();
  });

  test('when the id_token carries a nonce other than the one of its state, then refused', async () => {
    const { user, hint, person } = await rostered();
    const res = await forgedLaunch(hint, person, {}, 'a-nonce-we-never-issued');
    expect(res.status).toBe(400);
    expect(await signedInSessions(user._id.toString())).toBe(0);
  });

  test('when a valid id_token is posted with a state we never issued, then refused', async () => {
    const { user, person } = await rostered();
    const idToken = await platform.signIdToken(person, 'n', LAUNCH_URL);
    const res = await request(t.app).post('/lti/launch').type('form').send({ id_token: idToken, state: 'never-issued' });
    expect(res.status).toBe(400);
    expect(await signedInSessions(user._id.toString())).toBe(0);
  });

  test('when the LMS person is not in the roster, then refused (403) and no account is created', async () => {
    const hint = 'hint-stranger';
    platform.addPerson(hint, { sub: 'canvas-stranger', email: 'stranger@district.example' });
    const usersBefore = await User.countDocuments();
    const { res } = await launch(hint);
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your LMS account does not match an account in the staff roster.');
    expect(sessionIdOf(res)).toBeUndefined();
    expect(await User.countDocuments()).toBe(usersBefore);
  });

  test('when the person is inactive in the roster, then refused and not linked', async () => {
    const { user, hint } = await rostered({ active: false });
    const { res } = await launch(hint);
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your account is not active.');
    expect(await signedInSessions(user._id.toString())).toBe(0);
    expect((await User.findById(user._id).select('ltiSubject').lean())!.ltiSubject).toBeUndefined();
  });

  test("when the email belongs to a person of another district, then the launch is refused (the registration's district only)", async () => {
    const otherDistrict = await createDistrict();
    const { user, hint } = await rostered({}, otherDistrict);
    const { res } = await launch(hint);
    expect(res.status).toBe(403);
    expect(await signedInSessions(user._id.toString())).toBe(0);
    expect((await User.findById(user._id).select('ltiSubject').lean())!.ltiSubject).toBeUndefined();
  });

  test('when the registration does not allow linking by email, then a first launch is refused, in Spanish for a Spanish LMS locale', async () => {
    const other = await startLtiPlatform();
    try {
      await registerPlatform(other, district, { linkByEmail: false });
      const user = await createUser(district, { email: 'noemail-link@district.example', schools: [school] });
      other.addPerson('h', { sub: 'schoology-1', email: user.email, locale: 'es-MX' });
      const { location, cookie } = await initiateLogin(t.app, other, 'h');
      const form = await other.authorize(location);
      const res = await request(t.app).post('/lti/launch').set('Cookie', cookie).type('form').send(form.fields);
      expect(res.status).toBe(403);
      expect(res.text).toContain('<html lang="es"');
      expect(res.text).toContain('No se pudo abrir la capacitación desde su LMS');
      expect(await signedInSessions(user._id.toString())).toBe(0);
    } finally {
      await other.close();
    }
  });

  test('when a linked person is deactivated in the roster afterwards, then their next launch is refused', async () => {
    const { user, hint } = await rostered();
    expect((await launch(hint)).res.status).toBe(303);
    await User.updateOne({ _id: user._id }, { $set: { active: false } });

    const { res } = await launch(hint);

    expect(res.status).toBe(403);
    expect(sessionIdOf(res)).toBeUndefined();
    expect(await signedInSessions(user._id.toString())).toBe(1);
    expect(await AuditEvent.countDocuments({ action: 'lti.refused', 'target.id': user._id.toString() })).toBe(1);
  });

  test("when the platform's keys cannot be fetched, then a 503 page and no session (never a 500)", async () => {
    const gone = await startLtiPlatform();
    await registerPlatform(gone, district);
    const user = await createUser(district, { email: 'keys-gone@district.example', schools: [school] });
    const { state, nonce, cookie } = await initiateLogin(t.app, gone, 'h');
    const idToken = await gone.signIdToken({ sub: 'p-1', email: user.email }, nonce, LAUNCH_URL);
    await gone.close();

    const res = await request(t.app).post('/lti/launch').set('Cookie', cookie).type('form').send({ id_token: idToken, state });

    expect(res.status).toBe(503);
    expect(res.text).toContain('Your LMS could not be reached to verify the launch.');
    expect(await signedInSessions(user._id.toString())).toBe(0);
  });

  test("when private networks are refused (production default) and the platform's key set is on one, then its keys are never fetched and the launch is refused", async () => {
    const internal = await startLtiPlatform(); // on 127.0.0.1, like a platform registered with an internal address
    await registerPlatform(internal, district);
    const user = await createUser(district, { email: 'keys-internal@district.example', schools: [school] });
    const { state, nonce, binding } = await initiateLogin(t.app, internal, 'h');
    const idToken = await internal.signIdToken({ sub: 'p-2', email: user.email }, nonce, LAUNCH_URL);
    try {
      const result = await finishLaunch({ idToken, state, binding }, ltiUrls(BASE_URL), {}, { allowPrivateNetwork: false });
      expect(result).toMatchObject({ ok: false, reason: 'unavailable' });
      expect(internal.jwksRequests()).toBe(0);
      expect(await signedInSessions(user._id.toString())).toBe(0);
    } finally {
      await internal.close();
    }
  });

  test('when the launch post is malformed or empty, then 400, never a 500', async () => {
    for (const body of [{}, { id_token: 'not.a.jwt', state: 'x' }, { id_token: ['a', 'b'], state: { $ne: null } }]) {
      const res = await request(t.app).post('/lti/launch').type('form').send(body);
      expect(res.status).toBe(400);
    }
    const json = await request(t.app).post('/lti/launch').set('Content-Type', 'application/json').send('{"id_token": {"$gt": ""}, "state": {"$ne": null}}');
    expect(json.status).toBe(400);
  });
});

describe('browser binding (login CSRF)', () => {
  /** Someone rostered starts a launch in their own browser and captures the LMS's auto-posting form. */
  async function captured() {
    const { user, hint } = await rostered();
    const browser = request.agent(t.app);
    const { location, state, binding } = await initiateLogin(t.app, platform, hint, undefined, browser);
    const form = await platform.authorize(location);
    return { attacker: user, browser, form, state, binding };
  }

  async function expectNothingStoredFor(userId: string) {
    const stored = await User.findById(userId).select('ltiSubject lastSignInAt').lean();
    expect(stored!.ltiSubject).toBeUndefined();
    expect(stored!.lastSignInAt ?? null).toBeNull();
    expect(await signedInSessions(userId)).toBe(0);
    expect(await AuditEvent.countDocuments({ 'target.id': userId })).toBe(0);
  }

  test('when the LMS starts a login, then an HttpOnly binding cookie scoped to the launch URL for 10 minutes is set, and only its hash is kept with the state', async () => {
    const { hint } = await rostered();
    const { res, state, binding } = await initiateLogin(t.app, platform, hint);
    const { line } = bindingCookieOf(res);
    expect(binding).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(line).toContain('; Path=/lti/launch');
    expect(line).toContain('; HttpOnly');
    expect(line).toContain('; Max-Age=600');
    // This app's BASE_URL is plain http on a host that is not localhost: no Secure cookie possible, so Lax.
    expect(line).toContain('; SameSite=Lax');
    const stored = await LtiLaunchState.findOne({ state }).lean();
    expect(stored!.bindingHash).toBe(createHash('sha256').update(binding).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(binding);
  });

  test('when the app runs with its production configuration, then the cookie is SameSite=None; Secure (the launch is a cross-site POST)', async () => {
    const prod = buildApp(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), MONGODB_URI: t.db.uri, BASE_URL: 'https://training.example' }));
    const { hint } = await rostered();
    const res = await request(prod).post('/lti/login').type('form').send({ iss: platform.issuer, login_hint: hint, target_link_uri: 'https://training.example/lti/launch', client_id: platform.clientId });
    expect(res.status).toBe(303);
    const { line } = bindingCookieOf(res);
    expect(line).toMatch(/; Path=\/lti\/launch(;|$)/);
    expect(line).toContain('; HttpOnly');
    expect(line).toContain('; Secure');
    expect(line).toContain('; SameSite=None');
    // buildApp sets module-wide settings (log level, mailer): back to this file's app.
    buildApp(t.config);
  });

  test('when the browser the LMS sent launches, then it is signed in and the binding cookie is cleared', async () => {
    const { hint } = await rostered();
    const { res } = await launch(hint);
    expect(res.status).toBe(303);
    expect(bindingCookieOf(res).line).toMatch(/^sst\.lti_binding=; Path=\/lti\/launch; Expires=Thu, 01 Jan 1970/);
  });

  test("when someone's captured launch form is posted from a victim's browser without the cookie, then refused (400, start-again page), the victim stays themselves, nothing is stored, and the state is not used up", async () => {
    const logged = jest.spyOn(logger, 'info');
    const { attacker, browser, form, state, binding } = await captured();
    const victimUser = await createUser(district, { email: 'lti-victim-1@district.example', schools: [school] });
    const victim = await signIn(t.app, victimUser.email);

    const forced = await victim.post('/lti/launch').type('form').send(form.fields);
    const line = logged.mock.calls.find((call) => call[1] === 'LTI launch refused');
    logged.mockRestore();

    expect(forced.status).toBe(400);
    expect(forced.text).toContain('This launch was started in another browser or window, or has expired.');
    expect(forced.text).toContain('open the training link in your course once more');
    expect(((forced.headers['set-cookie'] as unknown as string[] | undefined) ?? []).filter((c) => !c.startsWith('sst.sid='))).toEqual([]);
    expect(line?.[0]).toEqual({ reason: 'unbound', issuer: platform.issuer, why: 'no_binding_cookie', requestId: expect.any(String) });
    expect(JSON.stringify(line)).not.toContain(binding);
    expect(JSON.stringify(line)).not.toContain(state);
    expect((await victim.get('/account')).text).toContain(victimUser.name);
    await expectNothingStoredFor(attacker._id.toString());
    expect(await LtiLaunchState.countDocuments({ state })).toBe(1);
    // The browser the LMS sent can still finish it.
    const own = await browser.post('/lti/launch').type('form').send(form.fields);
    expect(own.status).toBe(303);
    expect(await LtiLaunchState.countDocuments({ state })).toBe(0);
  });

  test("when it is posted from a browser with another launch's cookie, then refused, nothing stored, and that browser's own launch still works", async () => {
    const { attacker, form, state } = await captured();
    const { user: victimUser, hint: victimHint } = await rostered();
    const victim = request.agent(t.app);
    const { location } = await initiateLogin(t.app, platform, victimHint, undefined, victim);

    const forced = await victim.post('/lti/launch').type('form').send(form.fields);

    expect(forced.status).toBe(400);
    expect(forced.text).toContain('started in another browser or window');
    expect(sessionIdOf(forced)).toBeUndefined();
    await expectNothingStoredFor(attacker._id.toString());
    expect(await LtiLaunchState.countDocuments({ state })).toBe(1);
    const ownForm = await platform.authorize(location);
    const own = await victim.post('/lti/launch').type('form').send(ownForm.fields);
    expect(own.status).toBe(303);
    expect(await signedInSessions(victimUser._id.toString())).toBe(1);
  });

  test('when the launch comes after its state expired, even from the right browser, then refused as expired and nothing is stored', async () => {
    const { attacker, browser, form, state } = await captured();
    await LtiLaunchState.updateOne({ state }, { $set: { createdAt: new Date(Date.now() - 11 * 60 * 1000) } });
    const late = await browser.post('/lti/launch').type('form').send(form.fields);
    expect(late.status).toBe(400);
    expect(late.text).toContain('This launch was already used or has expired.');
    await expectNothingStoredFor(attacker._id.toString());
  });

  test('when the refusal is for a Spanish LMS locale, then the page is in Spanish', async () => {
    const hint = `hint-es-${n}`;
    const user = await createUser(district, { email: 'lti-es-binding@district.example', schools: [school] });
    platform.addPerson(hint, { sub: 'canvas-es-binding', email: user.email, locale: 'es' });
    const { location } = await initiateLogin(t.app, platform, hint);
    const form = await platform.authorize(location);
    const forced = await request(t.app).post('/lti/launch').type('form').send(form.fields);
    expect(forced.status).toBe(400);
    expect(forced.text).toContain('<html lang="es"');
    expect(forced.text).toContain('Este inicio se comenzó en otro navegador o ventana, o caducó.');
  });

  test('when a registration does not require the browser check (LMS frames), then a launch without the cookie signs in and is logged, but another browser\'s cookie is still refused', async () => {
    const framed = await startLtiPlatform();
    try {
      await registerPlatform(framed, district, { requireBrowserBinding: false });
      const user = await createUser(district, { email: 'framed-1@district.example', schools: [school] });
      framed.addPerson('f1', { sub: 'framed-1', email: user.email });
      const other = await createUser(district, { email: 'framed-2@district.example', schools: [school] });
      framed.addPerson('f2', { sub: 'framed-2', email: other.email });

      const logged = jest.spyOn(logger, 'info');
      const first = await framed.authorize((await initiateLogin(t.app, framed, 'f1')).location);
      const unbound = await request(t.app).post('/lti/launch').type('form').send(first.fields);
      const line = logged.mock.calls.find((call) => call[1] === 'LTI launch without browser binding (allowed by its registration)');
      logged.mockRestore();
      expect(unbound.status).toBe(303);
      expect(line?.[0]).toEqual({ issuer: framed.issuer, requestId: expect.any(String) });
      expect(await signedInSessions(user._id.toString())).toBe(1);

      const second = await framed.authorize((await initiateLogin(t.app, framed, 'f2')).location);
      const { cookie: anotherBrowsers } = await initiateLogin(t.app, framed, 'f1');
      const mismatched = await request(t.app).post('/lti/launch').set('Cookie', anotherBrowsers).type('form').send(second.fields);
      expect(mismatched.status).toBe(400);
      expect(await signedInSessions(other._id.toString())).toBe(0);
    } finally {
      await framed.close();
    }
  });
});
