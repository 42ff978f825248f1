import request from 'supertest';
import mongoose from 'mongoose';
import type { Express } from 'express';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createUser, TEST_PASSWORD } from '../../helpers/factories';
import { csrfFrom, signIn } from '../../helpers/session';
import { startSmtpCapture, type SmtpCapture, type Captured } from '../reminders/smtp-capture';
import { startTestIdp, type TestIdp } from '../../helpers/oidc-provider';
import { User } from '../../../src/components/users';
import { AuditEvent } from '../../../src/components/audit/audit.model';
import { ResetToken, hashToken, redactResetPath, settleResetMails } from '../../../src/components/password-reset';
import { buildApp } from '../../../src/app';
import { loadConfig } from '../../../src/config';
import { configureMailer } from '../../../src/shared/mailer';

const BASE_URL = 'https://training.d.example';
const NEW_PASSWORD = 'A-brand-new-sentence-2026';
const SENT = "If an account uses this address, we&#39;ve emailed it a link that works for 30 minutes.";
let smtp: SmtpCapture;
let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await startTestApp({ SMTP_URL: `smtp://mailer:pw@127.0.0.1:${smtp.port}`, MAIL_FROM: 'Training <training@d.example>', BASE_URL });
  district = await createDistrict({ name: 'Riverside Unified' });
});

afterAll(async () => {
  await t.close();
  await smtp.stop();
});

/** Asks for a link as an anonymous browser would (form, then post with its CSRF token); waits for the background work. */
async function requestLink(email: string, app: Express = t.app) {
  const agent = request.agent(app);
  const page = await agent.get('/login/reset');
  expect(page.status).toBe(200);
  const res = await agent.post('/login/reset').type('form').send({ _csrf: csrfFrom(page.text), email });
  await settleResetMails();
  return res;
}

const mailsTo = (email: string) => smtp.messages.filter((m) => m.to.includes(email));

function tokenIn(message: Captured): string {
  const found = new RegExp(`${BASE_URL.replace(/\./g, '\\.')}/login/reset/([A-Za-z0-9_-]{43})`).exec(message.text);
  if (!found) throw new Error('no link in the email');
  return found[1];
}

/** Opens the link's form and posts the passwords with its CSRF token. */
async function useLink(token: string, password = NEW_PASSWORD, confirm = password) {
  const agent = request.agent(t.app);
  const form = await agent.get(`/login/reset/${token}`);
  if (form.status !== 200) return form;
  return agent.post(`/login/reset/${token}`).type('form').send({ _csrf: csrfFrom(form.text), newPassword: password, confirmPassword: confirm });
}

async function signInStatus(email: string, password: string) {
  const agent = request.agent(t.app);
  const page = await agent.get('/login');
  return (await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email, password })).status;
}

describe('asking for a link', () => {
  test('when the sign-in page loads, then it links to the request form, which has a labelled email field and a CSRF token', async () => {
    const login = await request(t.app).get('/login');
    expect(login.text).toContain('<a href="/login/reset">Forgot your password, or first time here?</a>');
    const page = await request(t.app).get('/login/reset');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<label for="field-email">');
    expect(csrfFrom(page.text)).toBeTruthy();
  });

  test('when a person uses the whole flow, then the email link lets them choose a password, they sign in with it, the old one fails, and it is audited', async () => {
    const user = await createUser(district, { email: 'flow@d.example', name: 'Flo <Reset>' });
    await User.updateOne({ _id: user._id }, { $set: { failedSignIns: 3 } });
    const res = await requestLink('  Flow@D.example ');
    expect(res.status).toBe(200);
    expect(res.text).toContain(SENT);
    const mails = mailsTo('flow@d.example');
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe('Choose your password for staff training');
    expect(mails[0].text).toContain('Hello Flo <Reset>,');
    expect(mails[0].text).toContain('Riverside Unified');
    expect(mails[0].html).toContain('Flo &lt;Reset&gt;');
    const token = tokenIn(mails[0]);
    expect(mails[0].html).toContain(`href="${BASE_URL}/login/reset/${token}"`);

    const form = await request(t.app).get(`/login/reset/${token}`);
    expect(form.status).toBe(200);
    expect(form.headers['referrer-policy']).toBe('no-referrer');
    expect(form.headers['cache-control']).toBe('no-store');
    expect(form.text).toContain('Choose a password');
    expect(form.text).toContain('<label for="field-newPassword">');

    const agent = request.agent(t.app);
    const page = await agent.get(`/login/reset/${token}`);
    const done = await agent.post(`/login/reset/${token}`).type('form').send({ _csrf: csrfFrom(page.text), newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/login');
    const login = await agent.get('/login');
    expect(login.text).toContain('Your password is set. Sign in with it.');
    // Not signed in by the link.
    expect((await agent.get('/account')).status).toBe(303);

    expect(await signInStatus('flow@d.example', TEST_PASSWORD)).toBe(401);
    expect(await signInStatus('flow@d.example', NEW_PASSWORD)).toBe(303);
    const stored = await User.findById(user._id).select('+passwordHash +failedSignIns +lockedUntil').lean().orFail();
    expect(stored.failedSignIns).toBe(0);
    expect(stored.sessionEpoch).toBe(1);
    const link = await ResetToken.findOne({ user: user._id }).lean().orFail();
    expect(link.usedAt).toBeInstanceOf(Date);
    const events = await AuditEvent.find({ action: 'user.password_reset_by_email' }).lean();
    expect(events).toHaveLength(1);
    expect(String(events[0].actor)).toBe(String(user._id));
    expect(events[0].target).toEqual({ kind: 'user', id: String(user._id) });
    expect(JSON.stringify(events[0])).not.toContain('flow@d.example');
  });

  test('when the email has no account, then the same page answers with the same status, and nothing is stored or sent', async () => {
    await createUser(district, { email: 'known@d.example' });
    const before = smtp.messages.length;
    const known = await requestLink('known@d.example');
    const unknown = await requestLink('nobody@d.example');
    expect(unknown.status).toBe(known.status);
    expect(unknown.text).toBe(known.text);
    expect(smtp.messages.length).toBe(before + 1);
    expect(mailsTo('nobody@d.example')).toHaveLength(0);
  });

  test('when the account is inactive, then no link is made or sent', async () => {
    const user = await createUser(district, { email: 'gone@d.example', active: false });
    const res = await requestLink('gone@d.example');
    expect(res.status).toBe(200);
    expect(res.text).toContain(SENT);
    expect(mailsTo('gone@d.example')).toHaveLength(0);
    expect(await ResetToken.countDocuments({ user: user._id })).toBe(0);
  });

  test('when the email is not valid, then 422 with the value kept and an error summary', async () => {
    const res = await requestLink('not-an-email<x>');
    expect(res.status).toBe(422);
    expect(res.text).toContain('value="not-an-email&lt;x&gt;"');
    expect(res.text).toContain('id="error-summary"');
    expect(res.text).toContain('aria-invalid="true"');
  });

  test('when a person asks more than 3 times in an hour, then only 3 links are made and sent; the page is the same each time', async () => {
    const user = await createUser(district, { email: 'many@d.example' });
    for (let i = 0; i < 4; i++) {
      const res = await requestLink('many@d.example');
      expect(res.status).toBe(200);
      expect(res.text).toContain(SENT);
    }
    expect(mailsTo('many@d.example')).toHaveLength(3);
    expect(await ResetToken.countDocuments({ user: user._id })).toBe(3);
  });

  test('when one address is asked for again and again, then past the per-address limit (5 in 15 minutes) nothing is done, with the same answer', async () => {
    const user = await createUser(district, { email: 'hammer@d.example' });
    for (let i = 0; i < 5; i++) expect((await requestLink('hammer@d.example')).text).toContain(SENT);
    expect(mailsTo('hammer@d.example')).toHaveLength(3);
    // With the account's hourly count cleared, only the per-address limit can stop the sixth request.
    await ResetToken.deleteMany({ user: user._id });
    const sixth = await requestLink('hammer@d.example');
    expect(sixth.status).toBe(200);
    expect(sixth.text).toContain(SENT);
    expect(mailsTo('hammer@d.example')).toHaveLength(3);
    expect(await ResetToken.countDocuments({ user: user._id })).toBe(0);
  });

  test('when a Spanish-preferring person asks, then the email is in Spanish', async () => {
    await createUser(district, { email: 'es@d.example', name: 'Carla', preferredLanguage: 'es' });
    await requestLink('es@d.example');
    const [mail] = mailsTo('es@d.example');
    expect(mail.subject).toBe('Elija su contraseña para la capacitación del personal');
    expect(mail.headers['content-language']).toBe('es');
    expect(mail.text).toContain('Hola, Carla:');
    expect(mail.text).toContain('durante 30 minutos');
  });

  test('when the request is posted without a CSRF token, then 403 and nothing is sent; also for the choose-password form', async () => {
    await createUser(district, { email: 'csrf@d.example' });
    const res = await request(t.app).post('/login/reset').type('form').send({ email: 'csrf@d.example' });
    expect(res.status).toBe(403);
    await settleResetMails();
    expect(mailsTo('csrf@d.example')).toHaveLength(0);
    await requestLink('csrf@d.example');
    const token = tokenIn(mailsTo('csrf@d.example')[0]);
    const post = await request(t.app).post(`/login/reset/${token}`).type('form').send({ newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
    expect(post.status).toBe(403);
    expect((await ResetToken.findOne({ tokenHash: hashToken(token) }).lean().orFail()).usedAt).toBeNull();
  });

  test('when a link was made, then the database holds only its SHA-256 hash, nowhere the token itself', async () => {
    const user = await createUser(district, { email: 'hash@d.example' });
    await requestLink('hash@d.example');
    const token = tokenIn(mailsTo('hash@d.example')[0]);
    const record = await ResetToken.findOne({ user: user._id }).lean().orFail();
    expect(Object.keys(record).sort()).toEqual(['__v', '_id', 'createdAt', 'district', 'expiresAt', 'tokenHash', 'usedAt', 'user']);
    expect(record.tokenHash).toBe(hashToken(token));
    expect(record.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(record.expiresAt.getTime() - record.createdAt.getTime()).toBe(30 * 60_000);
    for (const collection of await mongoose.connection.db!.collections()) {
      const docs = await collection.find({}).toArray();
      expect([collection.collectionName, JSON.stringify(docs).includes(token)]).toEqual([collection.collectionName, false]);
    }
    const indexes = await ResetToken.collection.indexes();
    expect(indexes.find((i) => i.key.expiresAt === 1)?.expireAfterSeconds).toBe(3600);
  });
});

describe('using a link', () => {
  async function linkFor(email: string, overrides: Parameters<typeof createUser>[1] = {}) {
    const user = await createUser(district, { email, ...overrides });
    await requestLink(email);
    return { user, token: tokenIn(mailsTo(email).at(-1)!) };
  }

  test('when a person imported without a password uses a link, then they set their first password and sign in with it', async () => {
    const { user, token } = await linkFor('roster@d.example');
    await User.updateOne({ _id: user._id }, { $unset: { passwordHash: 1 } });
    expect((await useLink(token)).status).toBe(303);
    expect(await signInStatus('roster@d.example', NEW_PASSWORD)).toBe(303);
  });

  test('when the passwords are too short or differ, then 422 with the errors, the passwords not echoed, and the link still open', async () => {
    const { token } = await linkFor('weak@d.example');
    const short = await useLink(token, 'short-pw-1');
    expect(short.status).toBe(422);
    expect(short.text).toContain('id="error-newPassword"');
    expect(short.text).not.toContain('short-pw-1');
    const differ = await useLink(token, NEW_PASSWORD, `${NEW_PASSWORD}x`);
    expect(differ.status).toBe(422);
    expect(differ.text).toContain('id="error-confirmPassword"');
    expect(differ.text).not.toContain(NEW_PASSWORD);
    expect((await ResetToken.findOne({ tokenHash: hashToken(token) }).lean().orFail()).usedAt).toBeNull();
    expect((await useLink(token)).status).toBe(303);
  });

  test('when a link has expired, then 410 with a way to ask for a new one, and the password does not change', async () => {
    const { token } = await linkFor('late@d.example');
    await ResetToken.updateOne({ tokenHash: hashToken(token) }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    const page = await request(t.app).get(`/login/reset/${token}`);
    expect(page.status).toBe(410);
    expect(page.text).toContain('This link has expired or was already used');
    expect(page.text).toContain('href="/login/reset"');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(await signInStatus('late@d.example', TEST_PASSWORD)).toBe(303);
  });

  test('when a link was used, then it is refused the second time (GET and POST), and the other open links of the person are closed too', async () => {
    const { user, token } = await linkFor('twice@d.example');
    await requestLink('twice@d.example');
    const second = tokenIn(mailsTo('twice@d.example')[1]);
    expect((await useLink(token)).status).toBe(303);
    expect((await request(t.app).get(`/login/reset/${token}`)).status).toBe(410);
    expect((await useLink(second, 'Yet-another-long-one-77')).status).toBe(410);
    expect(await ResetToken.countDocuments({ user: user._id, usedAt: null })).toBe(0);
    expect(await signInStatus('twice@d.example', NEW_PASSWORD)).toBe(303);
  });

  test('when a made-up or malformed token is used, then 410', async () => {
    expect((await request(t.app).get('/login/reset/abc')).status).toBe(410);
    expect((await request(t.app).get(`/login/reset/${'A'.repeat(43)}`)).status).toBe(410);
  });

  test('when two browsers post the same link at once, then exactly one sets its password', async () => {
    const { user, token } = await linkFor('race@d.example');
    const a = request.agent(t.app);
    const b = request.agent(t.app);
    const [pa, pb] = await Promise.all([a.get(`/login/reset/${token}`), b.get(`/login/reset/${token}`)]);
    const [ra, rb] = await Promise.all([
      a.post(`/login/reset/${token}`).type('form').send({ _csrf: csrfFrom(pa.text), newPassword: 'First-browser-password-1', confirmPassword: 'First-browser-password-1' }),
      b.post(`/login/reset/${token}`).type('form').send({ _csrf: csrfFrom(pb.text), newPassword: 'Second-browser-password-2', confirmPassword: 'Second-browser-password-2' }),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([303, 410]);
    const winner = ra.status === 303 ? 'First-browser-password-1' : 'Second-browser-password-2';
    const loser = ra.status === 303 ? 'Second-browser-password-2' : 'First-browser-password-1';
    expect(await signInStatus('race@d.example', loser)).toBe(401);
    expect(await signInStatus('race@d.example', winner)).toBe(303);
    expect(await AuditEvent.countDocuments({ action: 'user.password_reset_by_email', 'target.id': String(user._id) })).toBe(1);
    expect((await User.findById(user._id).lean().orFail()).sessionEpoch).toBe(1);
  });

  test('when the password is set through a link, then the person\'s other sessions end', async () => {
    const { token } = await linkFor('sessions@d.example');
    const open = await signIn(t.app, 'sessions@d.example');
    expect((await open.get('/account')).status).toBe(200);
    expect((await useLink(token)).status).toBe(303);
    const after = await open.get('/account');
    expect(after.status).toBe(303);
    expect(after.headers.location).toMatch(/^\/login/);
  });

  test('when the account is deactivated after the link was sent, then the link no longer works', async () => {
    const { user, token } = await linkFor('left@d.example');
    await User.updateOne({ _id: user._id }, { $set: { active: false } });
    expect((await request(t.app).get(`/login/reset/${token}`)).status).toBe(410);
    expect((await useLink(token)).status).toBe(410);
  });
});

describe('request logs', () => {
  test('when a link page is logged, then its path is logged without the token', () => {
    expect(redactResetPath({ url: '/login/reset/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ', method: 'GET' })).toEqual({ url: '/login/reset/[redacted]', method: 'GET' });
    expect(redactResetPath({ url: '/login/reset' })).toEqual({ url: '/login/reset' });
  });
});

describe('PASSWORD_SIGN_IN=off', () => {
  let idp: TestIdp;
  let app: Express;
  beforeAll(async () => {
    idp = await startTestIdp(`${BASE_URL}/auth/oidc/callback`);
    app = buildApp(
      loadConfig({ NODE_ENV: 'test', BASE_URL, SMTP_URL: `smtp://mailer:pw@127.0.0.1:${smtp.port}`, OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, PASSWORD_SIGN_IN: 'off' }),
    );
  });
  afterAll(async () => {
    await idp.close();
  });

  test('when staff ask for a link, then none is made or sent; a district admin gets one', async () => {
    const staff = await createUser(district, { email: 'sso-staff@d.example' });
    await createUser(district, { email: 'sso-admin@d.example', role: 'district_admin' });
    const res = await requestLink('sso-staff@d.example', app);
    expect(res.status).toBe(200);
    expect(res.text).toContain(SENT);
    expect(mailsTo('sso-staff@d.example')).toHaveLength(0);
    expect(await ResetToken.countDocuments({ user: staff._id })).toBe(0);
    await requestLink('sso-admin@d.example', app);
    expect(mailsTo('sso-admin@d.example')).toHaveLength(1);
  });

  test('when staff hold a link from before password sign-in was turned off, then it no longer works', async () => {
    await createUser(district, { email: 'before@d.example' });
    await requestLink('before@d.example');
    const token = tokenIn(mailsTo('before@d.example')[0]);
    expect((await request(app).get(`/login/reset/${token}`)).status).toBe(410);
  });
});

describe('email turned off (production without SMTP_URL)', () => {
  test('when the request form opens or is posted, then it says to ask the district administrator, and no link is made', async () => {
    const user = await createUser(district, { email: 'nomail@d.example' });
    configureMailer({ smtpUrl: undefined, mailFrom: 'x@d.example', dataDir: './data', isProduction: true, baseUrl: BASE_URL });
    const agent = request.agent(t.app);
    const page = await agent.get('/login/reset');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Ask your district administrator to set a password for you.');
    expect(page.text).not.toContain('name="email"');
    const login = await agent.get('/login');
    const res = await agent.post('/login/reset').type('form').send({ _csrf: csrfFrom(login.text), email: 'nomail@d.example' });
    await settleResetMails();
    expect(res.status).toBe(200);
    expect(res.text).toContain('Ask your district administrator');
    expect(await ResetToken.countDocuments({ user: user._id })).toBe(0);
  });
});
