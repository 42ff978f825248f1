import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Types } from 'mongoose';
import { Attempt, type AttemptRecord } from '../../../src/components/completions';
import { AuditEvent } from '../../../src/components/audit/audit.model';
import { AGS_LEASE_MS, LtiAgsLink, LtiPlatform, configureLti, forgetToolKey, LtiAgsScan, LtiToolKey, forgetAgsTokens, runLtiAgsDeliveries } from '../../../src/components/lti';
import type { TestApp } from '../../helpers/app';
import { createDistrict, createUser } from '../../helpers/factories';
import { startLtiPlatform, type TestLtiPlatform } from '../../helpers/lti-platform';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { playToResults, startModule } from '../training/player.helpers';
import { BASE_URL, launchFromLms as launchLearner, registerPlatform, startAdvantageWorld, type AdvantageWorld } from './lti.helpers';

const SLUG = 'fixture-basics';
let t: TestApp;
let platform: TestLtiPlatform;
let district: Awaited<ReturnType<typeof createDistrict>>;
let registration: Awaited<ReturnType<typeof registerPlatform>>;
let admin: Agent;
let world: AdvantageWorld;

beforeAll(async () => {
  world = await startAdvantageWorld();
  ({ platform, t, district, registration } = world);
  const adminUser = await createUser(district, { role: 'district_admin', email: 'ags-admin@district.example' });
  admin = await signIn(t.app, adminUser.email);
});
afterAll(() => world.close());
beforeEach(async () => {
  platform.reset();
  forgetAgsTokens();
  await Promise.all([LtiAgsLink.deleteMany({}), Attempt.deleteMany({})]);
});

const launchFromLms = (claims: Record<string, unknown> | undefined) => launchLearner(world, claims);

const best = (choices: string[]) => choices[0];
const worst = (choices: string[]) => choices[choices.length - 1];

async function play(agent: Agent, pick: (choices: string[]) => string) {
  await startModule(agent, SLUG);
  await playToResults(agent, SLUG, pick);
}

async function finished(userId: Types.ObjectId) {
  return Attempt.find({ user: userId, status: { $ne: 'in_progress' } }).sort({ finishedAt: 1 }).lean<AttemptRecord[]>();
}

const makeDue = () => LtiAgsLink.updateMany({}, { $set: { requestedAt: new Date(Date.now() - 1) } });

describe('the tool key and /lti/jwks', () => {
  test('when the LMS fetches /lti/jwks, then it gets a cacheable JSON key set with only public members, and the private key is stored encrypted', async () => {
    const res = await request(t.app).get('/lti/jwks');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.headers['set-cookie']).toBeUndefined();
    const { keys } = res.body as { keys: Record<string, unknown>[] };
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0]).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) expect(keys[0]).not.toHaveProperty(member);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });

    const stored = await LtiToolKey.find({}).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0].kid).toBe(keys[0].kid);
    expect(stored[0].privateJwk).toMatch(/^v1\./);
    expect(stored[0].privateJwk).not.toContain('"d"');
    // Asked again: the same key (made once per deployment).
    expect((await request(t.app).get('/lti/jwks')).body).toEqual(res.body);
  });

  test('when an admin opens /admin/lti, then the JWKS URL is shown for Canvas ("Public JWK URL") and Schoology ("Keyset URL")', async () => {
    const page = await admin.get('/admin/lti');
    expect(page.status).toBe(200);
    expect(page.text).toContain(`value="${BASE_URL}/lti/jwks"`);
    expect(page.text).toContain('Public JWK URL');
    expect(page.text).toContain('Keyset URL');
    expect(page.text).not.toContain('XAPI_SECRET_KEY, which protects');
  });
});

describe('launch with the AGS claim', () => {
  test('when the launch carries a line item and the score scope, then only the line item and sub are recorded for the person, module, registration and deployment', async () => {
    const lineitem = platform.lineitemUrl('li-record');
    const { user, sub } = await launchFromLms(platform.agsClaim(lineitem));
    const links = await LtiAgsLink.find({}).lean();
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ moduleSlug: SLUG, deploymentId: platform.deploymentId, lineitem, sub, due: true, state: 'idle', sentCount: 0 });
    expect(String(links[0].user)).toBe(user._id.toString());
    expect(String(links[0].district)).toBe(district._id.toString());
    expect(String(links[0].platform)).toBe(registration._id.toString());
    expect(JSON.stringify(links[0])).not.toContain(user.email);
    expect(await LtiAgsScan.countDocuments({ district: district._id })).toBe(1);
  });

  test('when the claim has no score scope, an http line item elsewhere, or no AGS claim at all, then nothing is recorded and nothing is ever sent', async () => {
    const noScope = await launchFromLms(platform.agsClaim(platform.lineitemUrl('li-a'), ['https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly']));
    const plainHttp = await launchFromLms(platform.agsClaim('http://gradebook.example/lineitems/1'));
    const none = await launchFromLms(undefined);
    expect(await LtiAgsLink.countDocuments()).toBe(0);
    for (const { agent } of [noScope, plainHttp, none]) await play(agent, best);
    await runLtiAgsDeliveries();
    expect(platform.scores).toEqual([]);
    expect(platform.requests).toEqual([]);
    expect(await LtiAgsLink.countDocuments()).toBe(0);
  });
});

describe('score delivery', () => {
  test('when the person plays the module to completion, then exactly one score reaches the platform with their LMS id and the attempt\'s values', async () => {
    const lineitem = platform.lineitemUrl('li-complete');
    const { user, agent, sub } = await launchFromLms(platform.agsClaim(lineitem));
    // Nothing finished yet: the first pass sends nothing.
    await runLtiAgsDeliveries();
    expect(platform.scores).toEqual([]);

    await play(agent, best);
    expect(platform.scores).toEqual([]); // never in the learner's request
    await runLtiAgsDeliveries();
    const [attempt] = await finished(user._id);
    expect(attempt.status).toBe('passed');
    expect(platform.scores).toEqual([
      {
        lineitem: '/lineitems/li-complete',
        body: { userId: sub, scoreGiven: attempt.score, scoreMaximum: 100, activityProgress: 'Completed', gradingProgress: 'FullyGraded', timestamp: attempt.finishedAt!.toISOString() },
      },
    ]);
    expect(platform.requests.map((r) => `${r.path} ${r.status}`)).toEqual(['/token 200', '/lineitems/li-complete/scores?course=1 200']);
    const link = (await LtiAgsLink.findOne({ lineitem }).lean())!;
    expect(link).toMatchObject({ state: 'idle', due: false, sentScore: attempt.score, sentCount: 1, owner: null });

    // Later passes (and the collector reading the same attempt again) send nothing more.
    await makeDue();
    await runLtiAgsDeliveries();
    await runLtiAgsDeliveries();
    expect(platform.scores).toHaveLength(1);

    const page = await admin.get('/admin/lti');
    expect(page.text).toMatch(/<td>1<\/td><td>0<\/td><td>0<\/td>/);
  });

  test('when the person fails, then passes, then retakes with a lower score, then the failing score and the best score are sent and the lower retake is not', async () => {
    const lineitem = platform.lineitemUrl('li-best');
    const { user, agent } = await launchFromLms(platform.agsClaim(lineitem));
    await play(agent, worst);
    await runLtiAgsDeliveries();
    await play(agent, best);
    await runLtiAgsDeliveries();
    await play(agent, worst);
    await runLtiAgsDeliveries();
    const attempts = await finished(user._id);
    expect(attempts.map((a) => a.status)).toEqual(['failed', 'passed', 'failed']);
    expect(attempts[0].score!).toBeLessThan(attempts[1].score!);
    expect(platform.scores.map((s) => s.body.scoreGiven)).toEqual([attempts[0].score, attempts[1].score]);
    expect(platform.results.get(`/lineitems/li-best ${platform.scores[0].body.userId as string}`)).toEqual({ scoreGiven: attempts[1].score, timestamp: attempts[1].finishedAt!.toISOString() });
    expect((await LtiAgsLink.findOne({ lineitem }).lean())!).toMatchObject({ sentScore: attempts[1].score, sentCount: 2 });
  });

  test('when the score service answers 500, then the score waits with a backoff and the error, and is sent once on the next pass', async () => {
    const { agent } = await launchFromLms(platform.agsClaim(platform.lineitemUrl('li-500')));
    await play(agent, best);
    platform.failNext('scores', { status: 500 });
    const before = Date.now();
    await runLtiAgsDeliveries();
    expect(platform.scores).toEqual([]);
    let link = (await LtiAgsLink.findOne({}).lean())!;
    expect(link).toMatchObject({ state: 'idle', due: true, retries: 1, sentCount: 0 });
    expect(link.lastError).toMatchObject({ status: 500 });
    expect(link.requestedAt.getTime()).toBeGreaterThanOrEqual(before + 30_000);
    // Not due yet: a pass now sends nothing.
    await runLtiAgsDeliveries();
    expect(platform.scores).toEqual([]);

    await makeDue();
    await runLtiAgsDeliveries();
    expect(platform.scores).toHaveLength(1);
    link = (await LtiAgsLink.findOne({}).lean())!;
    expect(link).toMatchObject({ state: 'idle', due: false, retries: 0, sentCount: 1, lastError: null });
  });

  test('when the token endpoint answers 429 with Retry-After, then the score waits that long, then is sent', async () => {
    const { agent } = await launchFromLms(platform.agsClaim(platform.lineitemUrl('li-429')));
    await play(agent, best);
    platform.failNext('token', { status: 429, retryAfter: '600' });
    const before = Date.now();
    await runLtiAgsDeliveries();
    let link = (await LtiAgsLink.findOne({}).lean())!;
    expect(link.lastError).toMatchObject({ status: 429 });
    expect(link.requestedAt.getTime()).toBeGreaterThanOrEqual(before + 600_000);
    expect(platform.scores).toEqual([]);
    await makeDue();
    await runLtiAgsDeliveries();
    expect(platform.scores).toHaveLength(1);
    link = (await LtiAgsLink.findOne({}).lean())!;
    expect(link.sentCount).toBe(1);
  });

  test('when the score service answers 401, then sending stops with the error shown (escaped) on /admin/lti until the admin tries again', async () => {
    const { agent } = await launchFromLms(platform.agsClaim(platform.lineitemUrl('li-401')));
    await play(agent, best);
    platform.failNext('scores', { status: 401, body: '<b>token revoked</b>' });
    await runLtiAgsDeliveries();
    let link = (await LtiAgsLink.findOne({}).lean())!;
    expect(link).toMatchObject({ state: 'stopped', error: 'refused', due: true });
    expect(link.lastError).toMatchObject({ status: 401, message: '<b>token revoked</b>' });
    // Stopped: later passes send nothing.
    await makeDue();
    await runLtiAgsDeliveries();
    expect(platform.scores).toEqual([]);

    const page = await admin.get('/admin/lti');
    expect(page.text).toContain('401: &lt;b&gt;token revoked&lt;/b&gt;');
    expect(page.text).not.toContain('<b>token revoked</b>');
    expect(page.text).toMatch(/<td>0<\/td><td>0<\/td><td>1<\/td>/);
    expect(page.text).toContain(`action="/admin/lti/${registration._id}/resume"`);

    const resumed = await admin.post(`/admin/lti/${registration._id}/resume`).type('form').send({ _csrf: await csrfFor(admin, '/admin/lti') });
    expect(resumed.status).toBe(303);
    expect(await AuditEvent.countDocuments({ action: 'lti.scores_resumed', 'target.id': registration._id.toString(), 'details.links': 1 })).toBe(1);
    await runLtiAgsDeliveries();
    expect(platform.scores).toHaveLength(1);
    link = (await LtiAgsLink.findOne({}).lean())!;
    expect(link).toMatchObject({ state: 'idle', sentCount: 1 });
  });

  test('when a process dies after the LMS accepted the score and before recording it, then the next runner sends the same score again and the gradebook keeps one result', async () => {
    const lineitem = platform.lineitemUrl('li-crash');
    const { agent, sub } = await launchFromLms(platform.agsClaim(lineitem));
    await play(agent, best);
    await runLtiAgsDeliveries();
    expect(platform.scores).toHaveLength(1);
    // As the dead process left it: held, heartbeat lapsed, the acceptance never written.
    await LtiAgsLink.updateOne({ lineitem }, { $set: { state: 'running', owner: 'dead-host:1:x', heartbeatAt: new Date(Date.now() - AGS_LEASE_MS - 1_000), attempts: 1, sentScore: null, sentCount: 0, due: false } });
    await runLtiAgsDeliveries();
    expect(platform.scores).toHaveLength(2);
    expect(platform.scores[1]).toEqual(platform.scores[0]);
    expect([...platform.results.keys()]).toEqual([`/lineitems/li-crash ${sub}`]);
    expect((await LtiAgsLink.findOne({ lineitem }).lean())!).toMatchObject({ state: 'idle', owner: null, sentCount: 1 });
    // And nothing more after that.
    await makeDue();
    await runLtiAgsDeliveries();
    expect(platform.scores).toHaveLength(2);
  });

  test('when the registration has no token endpoint, then the score stops with that reason, and saving the endpoint sends it', async () => {
    const other = await startLtiPlatform();
    other.trustTool(world.jwksUrl);
    try {
      const reg = await registerPlatform(other, district, { name: 'Schoology' });
      const { agent, sub } = await launchLearner(world, other.agsClaim(other.lineitemUrl('li-nt')), { platform: other });
      await play(agent, best);
      await runLtiAgsDeliveries();
      expect((await LtiAgsLink.findOne({ platform: reg._id }).lean())!).toMatchObject({ state: 'stopped', error: 'no_token_endpoint' });
      expect((await admin.get('/admin/lti')).text).toContain('No token endpoint: scores cannot be sent.');

      const saved = await admin.post(`/admin/lti/${reg._id}`).type('form').send({
        _csrf: await csrfFor(admin, '/admin/lti'), name: 'Schoology', issuer: other.issuer, clientId: other.clientId, authLoginUrl: other.authUrl, jwksUrl: other.jwksUrl, tokenUrl: other.tokenUrl, deploymentIds: other.deploymentId, linkByEmail: 'yes',
      });
      expect(saved.status).toBe(303);
      await runLtiAgsDeliveries();
      expect(other.scores.map((s) => s.body.userId)).toEqual([sub]);
    } finally {
      await other.close();
    }
  });
});

describe('the registration form and other districts', () => {
  test('when the token endpoint is not an https address, then 422 with the entered values; a valid one is stored', async () => {
    const body = { name: 'Canvas', issuer: 'https://canvas.instructure.com', clientId: 'token-form-1', authLoginUrl: 'https://sso.canvaslms.com/api/lti/authorize_redirect', jwksUrl: 'https://sso.canvaslms.com/api/lti/security/jwks', deploymentIds: '1:a' };
    const bad = await admin.post('/admin/lti').type('form').send({ _csrf: await csrfFor(admin, '/admin/lti'), ...body, tokenUrl: 'http://sso.canvaslms.com/login/oauth2/token' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('value="http://sso.canvaslms.com/login/oauth2/token"');
    expect(bad.text).toContain('<a href="#field-tokenUrl">Enter an https:// address.</a>');
    const es = await admin.get('/admin/lti/new?lang=es');
    expect(es.text).toContain('Punto de acceso de tokens OAuth2');
    await admin.get('/admin/lti?lang=en');
    const ok = await admin.post('/admin/lti').type('form').send({ _csrf: await csrfFor(admin, '/admin/lti'), ...body, tokenUrl: 'https://sso.canvaslms.com/login/oauth2/token' });
    expect(ok.status).toBe(303);
    expect(await LtiPlatform.findOne({ clientId: 'token-form-1' }).lean()).toMatchObject({ tokenUrl: 'https://sso.canvaslms.com/login/oauth2/token' });
  });

  test("when another district's admin looks, then they see none of this district's scores or errors, and cannot restart them (404)", async () => {
    const { agent } = await launchFromLms(platform.agsClaim(platform.lineitemUrl('li-other')));
    await play(agent, best);
    platform.failNext('scores', { status: 403, body: 'forbidden-for-district-one' });
    await runLtiAgsDeliveries();
    expect((await admin.get('/admin/lti')).text).toContain('forbidden-for-district-one');

    const otherDistrict = await createDistrict();
    const otherAdminUser = await createUser(otherDistrict, { role: 'district_admin', email: 'ags-other-admin@other.example' });
    const otherAdmin = await signIn(t.app, otherAdminUser.email);
    const page = await otherAdmin.get('/admin/lti');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('forbidden-for-district-one');
    expect(page.text).not.toContain(registration._id.toString());
    const res = await otherAdmin.post(`/admin/lti/${registration._id}/resume`).type('form').send({ _csrf: await csrfFor(otherAdmin, '/admin/lti') });
    expect(res.status).toBe(404);
    expect((await LtiAgsLink.findOne({}).lean())!.state).toBe('stopped');
    expect(await AuditEvent.countDocuments({ action: 'lti.scores_resumed', actor: otherAdminUser._id.toString() })).toBe(0);
  });
});

describe('a changed XAPI_SECRET_KEY', () => {
  test('when the stored tool key no longer opens, then /lti/jwks still serves its public half and the score waits with the error', async () => {
    const { agent } = await launchFromLms(platform.agsClaim(platform.lineitemUrl('li-key')));
    await play(agent, best);
    const served = (await request(t.app).get('/lti/jwks')).body as { keys: { kid: string }[] };
    configureLti({ ...t.config, xapiSecretKey: randomBytes(32) });
    forgetToolKey();
    try {
      const res = await request(t.app).get('/lti/jwks');
      expect(res.status).toBe(200);
      expect(res.body).toEqual(served);
      await runLtiAgsDeliveries();
      expect(platform.scores).toEqual([]);
      expect(platform.requests).toEqual([]);
      const link = (await LtiAgsLink.findOne({}).lean())!;
      expect(link).toMatchObject({ state: 'idle', due: true, sentCount: 0, retries: 1 });
      expect(link.lastError?.message).toContain('does not open with this XAPI_SECRET_KEY');
    } finally {
      configureLti(t.config);
      forgetToolKey();
    }
  });
});
