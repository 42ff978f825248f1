import { createHash } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';
import { buildApp } from '../../../src/app';
import { RateLimitCounter } from '../../../src/shared/rate-limit.model';
import { FAILED_TOKEN_LIMIT } from '../../../src/components/scim/scim.routes';
import { ResetToken, settleResetMails } from '../../../src/components/password-reset';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createUser } from '../../helpers/factories';
import { csrfFrom } from '../../helpers/session';
import { startSmtpCapture, type SmtpCapture } from '../reminders/smtp-capture';
import { expectScimError, scimDistrict } from '../scim/scim.helpers';

/**
 * Several app instances behind a load balancer: here, apps built from one config on one database (what the
 * instances of a deployment share). Every limit counts once across them, and survives a rebuild ("restart").
 */
let smtp: SmtpCapture;
let t: TestApp;
let instanceA: Express;
let instanceB: Express;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await startTestApp({ SMTP_URL: `smtp://mailer:pw@127.0.0.1:${smtp.port}`, MAIL_FROM: 'Training <training@d.example>' });
  instanceA = t.app;
  instanceB = buildApp(t.config);
});
afterAll(async () => {
  await t.close();
  await smtp.stop();
});
beforeEach(async () => {
  await RateLimitCounter.deleteMany({});
});

/** A stored counter's key: the limit's name and a keyed hash (43 base64url characters), nothing else. */
const HASHED_KEY = /^[a-z-]+:[A-Za-z0-9_-]{43}$/;

async function counters(name: string) {
  return RateLimitCounter.find({ key: { $regex: `^${name}:` } }).lean();
}

/** A sign-in form post that fails validation (422): counted, and cheap (no password hashing). */
async function failSignIn(app: Express, agent = request.agent(app)) {
  const csrf = csrfFrom((await agent.get('/login')).text);
  return agent.post('/login').type('form').send({ _csrf: csrf, email: 'not-an-email', password: 'x' });
}

describe('sign-in (100 failed attempts per address in 15 minutes)', () => {
  test('when the limit is reached half through instance A and half through B, then the next attempt is refused on either, and after a restart', async () => {
    const agentA = request.agent(instanceA);
    const agentB = request.agent(instanceB);
    const csrfA = csrfFrom((await agentA.get('/login')).text);
    const csrfB = csrfFrom((await agentB.get('/login')).text);
    const fail = (agent: typeof agentA, csrf: string) => agent.post('/login').type('form').send({ _csrf: csrf, email: 'not-an-email', password: 'x' });

    for (let i = 0; i < 50; i++) expect((await fail(agentA, csrfA)).status).toBe(422);
    for (let i = 0; i < 50; i++) expect((await fail(agentB, csrfB)).status).toBe(422);

    const refusedA = await fail(agentA, csrfA);
    const refusedB = await fail(agentB, csrfB);
    expect(refusedA.status).toBe(429);
    expect(refusedA.text).toContain('Too many sign-in attempts from this network');
    expect(refusedA.headers['retry-after']).toMatch(/^\d+$/);
    expect(refusedA.headers['ratelimit-policy']).toContain('q=100; w=900');
    expect(refusedB.status).toBe(429);

    const stored = await counters('sign-in');
    expect(stored).toHaveLength(1);
    expect(stored[0].points).toBe(102);
    expect(stored[0].key).toMatch(HASHED_KEY);
    expect(stored[0].key).not.toContain('127.0.0.1');
    expect(stored[0].expire!.getTime()).toBeGreaterThan(Date.now());

    // A restart: a new app on the same database still refuses; only removing the stored counter frees the address.
    const restarted = buildApp(t.config);
    expect((await failSignIn(restarted)).status).toBe(429);
    await RateLimitCounter.deleteMany({});
    expect((await failSignIn(restarted)).status).toBe(422);
    expect((await counters('sign-in'))[0].points).toBe(1);
  });
});

describe('password links (5 requests per email address in 15 minutes)', () => {
  async function requestLink(app: Express, email: string) {
    const agent = request.agent(app);
    const page = await agent.get('/login/reset');
    const res = await agent.post('/login/reset').type('form').send({ _csrf: csrfFrom(page.text), email });
    await settleResetMails();
    return res;
  }

  test('when one email is asked for through both instances, then the sixth request does nothing, and the address is stored only as a keyed hash', async () => {
    const district = await createDistrict();
    const user = await createUser(district, { email: 'Shared.Limit@D.example' });
    for (const app of [instanceA, instanceB, instanceA, instanceB, instanceA]) expect((await requestLink(app, 'shared.limit@d.example')).status).toBe(200);
    // Three links were made (the per-account hourly limit); with them cleared only the per-address limit can stop the sixth.
    expect(smtp.messages.filter((m) => m.to.includes('shared.limit@d.example'))).toHaveLength(3);
    await ResetToken.deleteMany({ user: user._id });

    const sixth = await requestLink(instanceB, 'shared.limit@d.example');
    expect(sixth.status).toBe(200);
    expect(await ResetToken.countDocuments({ user: user._id })).toBe(0);
    expect(smtp.messages.filter((m) => m.to.includes('shared.limit@d.example'))).toHaveLength(3);

    const perAddress = await counters('reset-address');
    expect(perAddress).toHaveLength(1);
    expect(perAddress[0].points).toBe(6);
    const all = await RateLimitCounter.find().lean();
    const plainHashes = ['sha256', 'sha1', 'md5'].flatMap((algorithm) =>
      ['hex', 'base64', 'base64url'].map((encoding) => createHash(algorithm).update('email:shared.limit@d.example').digest(encoding as 'hex')),
    );
    for (const counter of all) {
      expect(counter.key).toMatch(HASHED_KEY);
      expect(counter.key.toLowerCase()).not.toContain('shared.limit');
      for (const plain of plainHashes) expect(counter.key).not.toContain(plain);
    }
    // The per-network limit counted all six requests as well, across both instances.
    expect((await counters('reset-network'))[0].points).toBe(6);
  });
});

describe('SCIM failed bearer tokens (20 per address in 15 minutes)', () => {
  test('when wrong tokens are split between two instances, then the address is refused on both once the shared count is reached', async () => {
    const { token } = await scimDistrict(instanceA);
    const wrong = (app: Express) => request(app).get('/scim/v2/Users').set('Authorization', 'Bearer wrong');
    for (let i = 0; i < FAILED_TOKEN_LIMIT / 2; i++) expect((await wrong(instanceA)).status).toBe(401);
    for (let i = 0; i < FAILED_TOKEN_LIMIT / 2; i++) expect((await wrong(instanceB)).status).toBe(401);

    expectScimError(await wrong(instanceB), 429);
    expectScimError(await request(instanceA).get('/scim/v2/Users').set('Authorization', `Bearer ${token}`), 429);
    const stored = await counters('scim-token');
    expect(stored).toHaveLength(1);
    expect(stored[0].key).toMatch(HASHED_KEY);
    expect(stored[0].key).not.toContain(token);
  });
});

describe('certificate verification (60 per address a minute)', () => {
  test('when the pages are asked for through both instances, then the 61st answer is 429 with Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await request(instanceA).get('/verify/AAAAAAAAAAAAAAAAAAAAAAAAAA')).status);
    for (let i = 0; i < 30; i++) statuses.push((await request(instanceB).get('/verify/AAAAAAAAAAAAAAAAAAAAAAAAAA')).status);
    const refused = await request(instanceA).get('/verify');

    expect(statuses.every((s) => s === 404)).toBe(true);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect((await counters('verify'))[0].points).toBe(61);
  });
});
