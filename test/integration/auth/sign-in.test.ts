import request from 'supertest';
import { User } from '../../../src/components/users';
import { forgetSessionActors, hashPassword, LOCKOUT_MINUTES, MAX_FAILED_SIGN_INS, signIn as signInService } from '../../../src/components/auth';
import { rosterChanged } from '../../../src/shared/domain-events';
import { RateLimitCounter } from '../../../src/shared/rate-limit.model';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser, TEST_PASSWORD } from '../../helpers/factories';
import { csrfFrom, signIn } from '../../helpers/session';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;

beforeAll(async () => {
  t = await startTestApp();
  district = await createDistrict();
  school = await createSchool(district);
});
afterAll(async () => {
  await t.close();
});

/** An anonymous browser that has loaded the sign-in form. */
async function loginForm(path = '/login') {
  const agent = request.agent(t.app);
  const page = await agent.get(path);
  return { agent, page, csrf: csrfFrom(page.text) };
}

function sidOf(res: { headers: Record<string, unknown> }): string | undefined {
  const cookies = (res.headers['set-cookie'] as string[] | undefined) ?? [];
  return cookies.find((c) => c.startsWith('sst.sid='))?.split(';')[0];
}

async function stored(email: string) {
  return User.findOne({ email }).select('+failedSignIns +lockedUntil').lean().orFail();
}

describe('GET /login', () => {
  test('when anonymous, then the form has a CSRF token, email and password fields', async () => {
    const res = await request(t.app).get('/login');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/name="_csrf" value="[^"]+"/);
    expect(res.text).toContain('id="field-email"');
    expect(res.text).toContain('autocomplete="current-password"');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
  });

  test('when the browser prefers Spanish, then the form is in Spanish with <html lang="es">', async () => {
    const res = await request(t.app).get('/login').set('Accept-Language', 'es-MX,es;q=0.9');
    expect(res.text).toContain('<html lang="es"');
    expect(res.text).toContain('Iniciar sesión');
  });

  test('when already signed in, then it redirects to the start page', async () => {
    const user = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, user.email);
    const res = await agent.get('/login');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
  });
});

describe('POST /login', () => {
  test('when the password is right, then a new session id is issued and the user lands on /', async () => {
    const user = await createUser(district, { schools: [school] });
    const { agent, page, csrf } = await loginForm();
    const before = sidOf(page);
    expect(before).toBeDefined();
    const res = await agent.post('/login').type('form').send({ _csrf: csrf, email: user.email.toUpperCase(), password: TEST_PASSWORD });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    const after = sidOf(res);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const record = await stored(user.email);
    expect(record.lastSignInAt).toBeInstanceOf(Date);
    expect(record.failedSignIns).toBe(0);
  });

  test('when the password is wrong, then 401 with a message and the failure is counted', async () => {
    const user = await createUser(district, { schools: [school] });
    const { agent, csrf } = await loginForm();
    const res = await agent.post('/login').type('form').send({ _csrf: csrf, email: user.email, password: 'not-the-password' });
    expect(res.status).toBe(401);
    expect(res.text).toContain('do not match an account');
    expect(res.text).toContain(`value="${user.email}"`);
    expect(res.headers['set-cookie']?.toString() ?? '').not.toMatch(/connect\.sid/);
    expect((await stored(user.email)).failedSignIns).toBe(1);
    expect((await agent.get('/account')).status).toBe(303);
  });

  test('when the email is unknown, then the same message as a wrong password', async () => {
    const { agent, csrf } = await loginForm();
    const res = await agent.post('/login').type('form').send({ _csrf: csrf, email: 'nobody@test.example', password: 'whatever-it-is' });
    expect(res.status).toBe(401);
    expect(res.text).toContain('do not match an account');
  });

  test(`when ${MAX_FAILED_SIGN_INS} passwords in a row are wrong, then the account is locked even for the right password`, async () => {
    const user = await createUser(district, { schools: [school] });
    const { agent, csrf } = await loginForm();
    const statuses: number[] = [];
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) {
      const res = await agent.post('/login').type('form').send({ _csrf: csrf, email: user.email, password: `wrong-${i}` });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const locked = await agent.post('/login').type('form').send({ _csrf: csrf, email: user.email, password: TEST_PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.text).toContain(`locked for ${LOCKOUT_MINUTES} minutes`);
    const record = await stored(user.email);
    expect(record.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + (LOCKOUT_MINUTES - 1) * 60_000);
  });

  test(`when ${MAX_FAILED_SIGN_INS} sign-ins in a row name an email without an account, then it answers "locked" as an account would, and stores no email`, async () => {
    const email = 'Nobody.Locks@Unknown.example';
    const agent = async (password: string) => {
      const { agent: a, csrf } = await loginForm();
      return a.post('/login').type('form').send({ _csrf: csrf, email, password });
    };
    const statuses: number[] = [];
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) statuses.push((await agent(`wrong-${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const after = await agent('another-guess');
    expect(after.status).toBe(429);
    expect(after.text).toContain(`locked for ${LOCKOUT_MINUTES} minutes`);
    // The same email in another case is the same email; a different one is not locked.
    const other = await (async () => {
      const { agent: a, csrf } = await loginForm();
      return a.post('/login').type('form').send({ _csrf: csrf, email: 'someone.else@unknown.example', password: 'x-wrong' });
    })();
    expect(other.status).toBe(401);
    // The counter is in the shared store under a keyed hash: no email, no part of it.
    const counters = await RateLimitCounter.find({ key: /^sign-in-unknown-email:/ }).lean();
    expect(counters.length).toBeGreaterThanOrEqual(1);
    for (const counter of counters) expect(counter.key.toLowerCase()).not.toMatch(/nobody|unknown\.example|someone/);
    expect(counters.some((counter) => counter.points > MAX_FAILED_SIGN_INS)).toBe(true);
  });

  test('when the lockout time has passed, then the right password signs in again and the counter resets', async () => {
    const user = await createUser(district, { schools: [school] });
    const { agent, csrf } = await loginForm();
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) {
      await agent.post('/login').type('form').send({ _csrf: csrf, email: user.email, password: `wrong-${i}` });
    }
    const stillLocked = await signInService(user.email, TEST_PASSWORD, new Date(Date.now() + (LOCKOUT_MINUTES - 1) * 60_000));
    expect(stillLocked).toMatchObject({ ok: false, reason: 'locked' });

    const later = new Date(Date.now() + (LOCKOUT_MINUTES + 1) * 60_000);
    const result = await signInService(user.email, TEST_PASSWORD, later);
    expect(result.ok).toBe(true);
    const record = await stored(user.email);
    expect(record.failedSignIns).toBe(0);
    expect(record.lockedUntil ?? null).toBeNull();
    const res = await agent.post('/login').type('form').send({ _csrf: csrf, email: user.email, password: TEST_PASSWORD });
    expect(res.status).toBe(303);
  });

  test('when a wrong password follows an expired lockout, then counting starts again from one', async () => {
    const user = await createUser(district, { schools: [school] });
    await User.updateOne({ _id: user._id }, { $set: { failedSignIns: MAX_FAILED_SIGN_INS, lockedUntil: new Date(Date.now() - 1000) } });
    const result = await signInService(user.email, 'wrong-again');
    expect(result).toEqual({ ok: false, reason: 'invalid' });
    expect((await stored(user.email)).failedSignIns).toBe(1);
  });

  test('when the account is inactive, then the right password does not sign in and says so', async () => {
    const user = await createUser(district, { schools: [school], active: false });
    const { agent, csrf } = await loginForm();
    const res = await agent.post('/login').type('form').send({ _csrf: csrf, email: user.email, password: TEST_PASSWORD });
    expect(res.status).toBe(401);
    expect(res.text).toContain('not active');
    expect((await agent.get('/account')).status).toBe(303);
  });

  test('when a signed-in account is deactivated and the roster change is announced in this process, then its next request is treated as signed out', async () => {
    const user = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, user.email);
    expect((await agent.get('/account')).status).toBe(200);
    await User.updateOne({ _id: user._id }, { $set: { active: false } });
    await rosterChanged([user._id.toString()]);
    const res = await agent.get('/account');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Faccount');
  });

  test('when an account is deactivated by another app instance, then the first request after its memoised session user expires is signed out', async () => {
    const user = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, user.email);
    expect((await agent.get('/account')).status).toBe(200);
    // Another instance wrote the change: nothing was announced here.
    await User.updateOne({ _id: user._id }, { $set: { active: false } });
    // What expiry does (within SESSION_ACTOR_MS), without waiting for the clock.
    forgetSessionActors([user._id.toString()]);
    const res = await agent.get('/account');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Faccount');
  });

  test.each([
    ['email[$ne]=x', (csrf: string) => `_csrf=${encodeURIComponent(csrf)}&email%5B%24ne%5D=x&password=anything-at-all`],
    ['email[]=a', (csrf: string) => `_csrf=${encodeURIComponent(csrf)}&email%5B%5D=a&password=anything-at-all`],
    ['repeated email keys', (csrf: string) => `_csrf=${encodeURIComponent(csrf)}&email=a%40b.example&email=c%40d.example&password=anything-at-all`],
  ])('when the form sends %s, then it is a validation error (422), never a query', async (_label, body) => {
    await createUser(district, { schools: [school] });
    const { agent, csrf } = await loginForm();
    const res = await agent.post('/login').type('form').send(body(csrf));
    expect(res.status).toBe(422);
    expect(res.text).toContain('Enter your email address');
    expect((await agent.get('/account')).status).toBe(303);
  });

  test('when JSON sends an operator object for the email, then 422 and no sign-in', async () => {
    await createUser(district, { schools: [school] });
    const { agent, csrf } = await loginForm();
    const res = await agent
      .post('/login')
      .set('X-CSRF-Token', csrf)
      .set('Accept', 'text/html')
      .send({ email: { $gt: '' }, password: { $gt: '' } });
    expect(res.status).toBe(422);
    expect((await agent.get('/account')).status).toBe(303);
  });

  test('when the CSRF token is missing, then 403 and nothing is checked', async () => {
    const user = await createUser(district, { schools: [school] });
    const { agent } = await loginForm();
    const res = await agent.post('/login').type('form').send({ email: user.email, password: 'wrong-password' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('The form expired');
    expect((await stored(user.email)).failedSignIns).toBe(0);
  });

  test('when the CSRF token is wrong, then 403', async () => {
    const user = await createUser(district, { schools: [school] });
    const { agent } = await loginForm();
    const res = await agent.post('/login').type('form').send({ _csrf: 'forged-token', email: user.email, password: TEST_PASSWORD });
    expect(res.status).toBe(403);
    expect((await agent.get('/account')).status).toBe(303);
  });

  test('when a token from another session is used, then 403', async () => {
    const user = await createUser(district, { schools: [school] });
    const other = await loginForm();
    const { agent } = await loginForm();
    const res = await agent.post('/login').type('form').send({ _csrf: other.csrf, email: user.email, password: TEST_PASSWORD });
    expect(res.status).toBe(403);
  });

  test.each(['//evil.example', 'https://evil.example', '/\\evil', '/\\/evil.example', 'javascript:alert(1)', '/\r\nSet-Cookie: x=1', ' /account', '/login?next=//evil.example'])(
    'when next=%s, then the redirect ignores it and goes to /',
    async (next) => {
      const user = await createUser(district, { schools: [school] });
      const { agent, csrf } = await loginForm(`/login?next=${encodeURIComponent(next)}`);
      const res = await agent.post('/login').type('form').send({ _csrf: csrf, email: user.email, password: TEST_PASSWORD, next });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/');
    },
  );

  test('when next is a relative path, then sign-in returns there', async () => {
    const user = await createUser(district, { schools: [school] });
    const { agent, page, csrf } = await loginForm('/login?next=%2Faccount%3Ftab%3D1');
    expect(page.text).toContain('name="next" value="/account?tab=1"');
    const res = await agent.post('/login').type('form').send({ _csrf: csrf, email: user.email, password: TEST_PASSWORD, next: '/account?tab=1' });
    expect(res.headers.location).toBe('/account?tab=1');
  });

  test('when a page needing sign-in is opened anonymously, then sign-in keeps it as next', async () => {
    const res = await request(t.app).get('/admin/users?q=ana');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fadmin%2Fusers%3Fq%3Dana');
  });

  test('when Spanish was chosen on the sign-in page, then it becomes the person\'s preferred language', async () => {
    const user = await createUser(district, { schools: [school], preferredLanguage: 'en' });
    const { agent, csrf } = await loginForm('/login?lang=es');
    const res = await agent.post('/login').type('form').send({ _csrf: csrf, email: user.email, password: TEST_PASSWORD });
    expect(res.status).toBe(303);
    const account = await agent.get('/account');
    expect(account.text).toContain('<html lang="es"');
    expect((await User.findById(user._id).lean())!.preferredLanguage).toBe('es');
  });
});

describe('one email in two districts (a substitute working for both)', () => {
  const email = () => `sub${Math.random().toString(36).slice(2)}@personal.example`;

  async function twoAccounts(address: string, passwords: [string, string]) {
    const other = await createDistrict();
    const otherSchool = await createSchool(other);
    const here = await createUser(district, { email: address, schools: [school], jobTitle: 'substitute_teacher' });
    const there = await createUser(other, { email: address, schools: [otherSchool], jobTitle: 'substitute_teacher' });
    await User.updateOne({ _id: here._id }, { $set: { passwordHash: await hashPassword(passwords[0]) } });
    await User.updateOne({ _id: there._id }, { $set: { passwordHash: await hashPassword(passwords[1]) } });
    return { here, there };
  }

  test('when each account has its own password, then each password opens its own district\'s account, whatever order the database keeps', async () => {
    const address = email();
    const { here, there } = await twoAccounts(address, ['Here-Password-2026!', 'There-Password-2026!']);
    // Over HTTP: the second district's password lands in the second district's account.
    const { agent, csrf } = await loginForm();
    expect((await agent.post('/login').type('form').send({ _csrf: csrf, email: address, password: 'There-Password-2026!' })).status).toBe(303);
    expect((await User.findById(here._id).lean())!.lastSignInAt).toBeUndefined();
    expect((await User.findById(there._id).lean())!.lastSignInAt).toBeInstanceOf(Date);
    expect((await agent.get('/account')).text).toContain(there.name);
    const a = await signInService(address, 'Here-Password-2026!');
    const b = await signInService(address, 'There-Password-2026!');
    expect(a).toMatchObject({ ok: true, actor: { userId: here._id.toString(), districtId: district._id.toString() } });
    expect(b).toMatchObject({ ok: true, actor: { userId: there._id.toString(), districtId: there.district.toString() } });
  });

  test('when the password is wrong, then it counts against both accounts, and locks only when both are locked', async () => {
    const address = email();
    const { here, there } = await twoAccounts(address, ['Here-Password-2026!', 'There-Password-2026!']);
    await User.updateOne({ _id: here._id }, { $set: { failedSignIns: MAX_FAILED_SIGN_INS - 1 } });
    expect(await signInService(address, 'wrong-one')).toEqual({ ok: false, reason: 'invalid' });
    const [h, th] = await Promise.all([User.findById(here._id).select('+failedSignIns +lockedUntil').lean(), User.findById(there._id).select('+failedSignIns +lockedUntil').lean()]);
    expect(h!.lockedUntil).toBeInstanceOf(Date);
    expect(th!.failedSignIns).toBe(1);
    // The locked account is not tried; the other one still opens with its own password.
    expect(await signInService(address, 'There-Password-2026!')).toMatchObject({ ok: true, actor: { userId: there._id.toString() } });
    expect(await signInService(address, 'Here-Password-2026!')).toMatchObject({ ok: false, reason: 'invalid' });
  });

  test('when the same password fits both, then the active account used last is opened; an inactive one never', async () => {
    const address = email();
    const { here, there } = await twoAccounts(address, ['Same-Password-2026!', 'Same-Password-2026!']);
    await User.updateOne({ _id: here._id }, { $set: { lastSignInAt: new Date('2026-01-01') } });
    await User.updateOne({ _id: there._id }, { $set: { lastSignInAt: new Date('2026-06-01') } });
    expect(await signInService(address, 'Same-Password-2026!')).toMatchObject({ ok: true, actor: { userId: there._id.toString() } });
    await User.updateOne({ _id: there._id }, { $set: { active: false } });
    expect(await signInService(address, 'Same-Password-2026!')).toMatchObject({ ok: true, actor: { userId: here._id.toString() } });
    await User.updateOne({ _id: here._id }, { $set: { active: false } });
    expect(await signInService(address, 'Same-Password-2026!')).toEqual({ ok: false, reason: 'inactive' });
  });
});

describe('POST /logout', () => {
  test('when signed in, then the session ends and the user goes to the sign-in page, which says they signed out', async () => {
    const user = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, user.email);
    const page = await agent.get('/account');
    const res = await agent.post('/logout').type('form').send({ _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?signed_out=1');
    expect((await agent.get('/account')).status).toBe(303);
    const landing = await agent.get(res.headers.location);
    expect(landing.status).toBe(200);
    expect(landing.text).toContain('<p class="notice" role="status">You have signed out. On a shared computer, close the browser window when you are done.</p>');
    const spanish = await agent.get('/login?signed_out=1&lang=es');
    expect(spanish.text).toContain('Ha cerrado la sesión.');
    // An ordinary visit to the sign-in page says nothing of the kind.
    expect((await request(t.app).get('/login')).text).not.toContain('You have signed out');
    expect((await request(t.app).get('/login?signed_out=%3Cb%3E')).text).not.toContain('You have signed out');
  });

  test('when the CSRF token is missing, then 403 and the session stays', async () => {
    const user = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, user.email);
    const res = await agent.post('/logout').type('form').send({});
    expect(res.status).toBe(403);
    expect((await agent.get('/account')).status).toBe(200);
  });
});
