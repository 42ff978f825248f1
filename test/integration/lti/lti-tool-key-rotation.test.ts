import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { Attempt } from '../../../src/components/completions';
import { LtiAgsLink, LtiToolKey, configureLti, forgetAgsTokens, forgetToolKey, rewrapToolKeys, runLtiAgsDeliveries } from '../../../src/components/lti';
import { decryptSecret } from '../../../src/components/xapi';
import { createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { playToResults, startModule } from '../training/player.helpers';
import { launchFromLms, startAdvantageWorld, type AdvantageWorld } from './lti.helpers';

/**
 * The tool's signing key is replaced every LTI_TOOL_KEY_MAX_AGE_DAYS (docs/lti.md "The tool's key"): the next key
 * is published two days before it signs, the one it replaces stays published a week, then is deleted; the LMS
 * (the test platform, which checks our client assertions against /lti/jwks over HTTP) accepts scores throughout.
 * Time passes by moving the stored keys' dates back, as the days would.
 */
const DAY = 24 * 60 * 60 * 1000;
// The first test plays the module four times and makes RSA keys: under a loaded machine it needs more than 30 s.
jest.setTimeout(120_000);
let world: AdvantageWorld;
let admin: Agent;

beforeAll(async () => {
  world = await startAdvantageWorld();
  const adminUser = await createUser(world.district, { role: 'district_admin', email: 'keys-admin@district.example' });
  admin = await signIn(world.t.app, adminUser.email);
});
afterAll(() => world.close());
beforeEach(async () => {
  world.platform.reset();
  forgetAgsTokens();
  forgetToolKey();
  await Promise.all([LtiAgsLink.deleteMany({}), Attempt.deleteMany({}), LtiToolKey.deleteMany({})]);
});

async function servedKids(): Promise<string[]> {
  const res = await request(world.t.app).get('/lti/jwks');
  expect(res.status).toBe(200);
  return (res.body as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

/** Moves a stored key's start (and creation) `days` into the past, then lets the process read the keys again. */
async function age(kid: string, days: number): Promise<void> {
  const at = new Date(Date.now() - days * DAY);
  await LtiToolKey.updateOne({ kid }, { $set: { activeFrom: at, createdAt: at } });
  forgetToolKey();
}

/** A learner launched from the LMS finishes the module; the score runner sends the score. Returns the kid the LMS accepted. */
async function scoreSent(line: string): Promise<string> {
  const { agent } = await launchFromLms(world, world.platform.agsClaim(world.platform.lineitemUrl(line)));
  await startModule(agent, 'fixture-basics');
  await playToResults(agent, 'fixture-basics', (choices) => choices[0]);
  forgetAgsTokens();
  await runLtiAgsDeliveries();
  expect(world.platform.scores.map((s) => s.lineitem)).toContain(`/lineitems/${line}`);
  return world.platform.assertionKids.at(-1)!;
}

describe('the tool key is replaced on schedule', () => {
  test('when the key reaches its age, then the next is published two days ahead, signs from its date, the old one is served a week more and then deleted, and scores are accepted throughout', async () => {
    const [first] = await servedKids();
    expect(first).toBeDefined();
    expect(await scoreSent('li-1')).toBe(first);

    // 177 days on (the default age is 180): nothing is due yet.
    await age(first, 177);
    expect(await servedKids()).toEqual([first]);

    // 178.5 days + two days ahead reached: the next key is made and published, the first still signs.
    await age(first, 178.5);
    const kids = await servedKids();
    expect(kids).toHaveLength(2);
    const next = kids.find((kid) => kid !== first)!;
    const stored = await LtiToolKey.find({}).sort({ generation: 1 }).lean();
    expect(stored.map((k) => [k.kid, k.generation ?? 1])).toEqual([[first, 1], [next, 2]]);
    // It signs two days from now (the 180 days are up a day and a half from now: it is published two days ahead).
    expect(stored[1].activeFrom!.getTime() - Date.now()).toBeGreaterThan(2 * DAY - 60_000);
    expect(stored[1].activeFrom!.getTime() - Date.now()).toBeLessThanOrEqual(2 * DAY);
    expect(stored[1].privateJwk).toMatch(/^v1\./);
    expect(await scoreSent('li-2')).toBe(first);
    const page = await admin.get('/admin/lti');
    expect(page.status).toBe(200);
    expect(page.text).toContain(`data-kid="${first}" data-state="signing"`);
    expect(page.text).toContain(`data-kid="${next}" data-state="next"`);
    expect(page.text).toContain(`Published; signs from ${stored[1].activeFrom!.toISOString().slice(0, 10)} UTC.`);
    expect(page.text).toContain('Keys are replaced every 180 days (LTI_TOOL_KEY_MAX_AGE_DAYS).');
    expect((await admin.get('/admin/lti?lang=es')).text).toContain('Las claves se reemplazan cada 180 días');

    // The next key's date arrives: it signs, and the LMS (which reads our key set) accepts it.
    await age(next, 0.01);
    expect(await scoreSent('li-3')).toBe(next);
    expect(await servedKids()).toEqual([first, next]);
    expect((await admin.get('/admin/lti?lang=en')).text).toContain(`data-kid="${first}" data-state="retired"`);

    // A week after the switch the first key is withdrawn and deleted.
    await age(next, 7.01);
    expect(await servedKids()).toEqual([next]);
    expect(await LtiToolKey.countDocuments({ kid: first })).toBe(0);
    expect(await scoreSent('li-4')).toBe(next);
    expect(world.platform.requests.filter((r) => r.path === '/token' && r.status !== 200)).toEqual([]);
  });

  test('when several processes ask at once on the due day, then one next key is made', async () => {
    const [first] = await servedKids();
    await age(first, 179);
    await Promise.all(Array.from({ length: 5 }, () => request(world.t.app).get('/lti/jwks')));
    expect(await LtiToolKey.countDocuments({})).toBe(2);
    expect(await servedKids()).toHaveLength(2);
  });

  test('when LTI_TOOL_KEY_MAX_AGE_DAYS is 0, then the key is never replaced and the page says so', async () => {
    configureLti({ ...world.t.config, ltiToolKeyMaxAgeDays: 0 });
    try {
      const [first] = await servedKids();
      await age(first, 3000);
      expect(await servedKids()).toEqual([first]);
      expect((await admin.get('/admin/lti?lang=en')).text).toContain('Keys are never replaced (LTI_TOOL_KEY_MAX_AGE_DAYS=0).');
    } finally {
      configureLti(world.t.config);
    }
  });

  test('when a key stored before generations existed (slot "current") is due, then it is read as generation 1 and replaced', async () => {
    const [first] = await servedKids();
    await LtiToolKey.updateOne({ kid: first }, { $set: { slot: 'current' }, $unset: { generation: 1, activeFrom: 1 } });
    await LtiToolKey.updateOne({ kid: first }, { $set: { createdAt: new Date(Date.now() - 200 * DAY) } });
    forgetToolKey();
    const kids = await servedKids();
    expect(kids).toHaveLength(2);
    expect((await LtiToolKey.findOne({ kid: { $ne: first } }).lean())!).toMatchObject({ slot: 'g2', generation: 2 });
  });
});

describe('XAPI_SECRET_KEY rotation', () => {
  test('when the key changes and the old one is kept as previous, then the tool key still signs and is encrypted again with the new key; without it, it does not open', async () => {
    const [first] = await servedKids();
    const oldKey = world.t.config.xapiSecretKey!;
    const newKey = randomBytes(32);
    const stored = (await LtiToolKey.findOne({ kid: first }).lean())!;
    try {
      configureLti({ ...world.t.config, xapiSecretKey: newKey, previousXapiSecretKeys: [oldKey] });
      forgetToolKey();
      // Opened with the previous key on need, and stored again under the new one at once.
      expect(await scoreSent('li-r1')).toBe(first);
      const rewrapped = (await LtiToolKey.findOne({ kid: first }).lean())!.privateJwk;
      expect(rewrapped).not.toBe(stored.privateJwk);
      expect(decryptSecret(newKey, `lti-tool-key:${first}`, rewrapped)).toContain('"d"');
      expect(decryptSecret(oldKey, `lti-tool-key:${first}`, rewrapped)).toBeNull();
      // The start-up pass has nothing left to do.
      expect(await rewrapToolKeys()).toEqual({ rewrapped: 0, unreadable: 0 });

      // The start-up pass on a key still under the old one.
      await LtiToolKey.updateOne({ kid: first }, { $set: { privateJwk: stored.privateJwk } });
      expect(await rewrapToolKeys()).toEqual({ rewrapped: 1, unreadable: 0 });
      expect(decryptSecret(newKey, `lti-tool-key:${first}`, (await LtiToolKey.findOne({ kid: first }).lean())!.privateJwk)).toContain('"d"');

      // Without the previous key, a key under the old one does not open: counted, and left as it is.
      await LtiToolKey.updateOne({ kid: first }, { $set: { privateJwk: stored.privateJwk } });
      configureLti({ ...world.t.config, xapiSecretKey: newKey, previousXapiSecretKeys: [] });
      expect(await rewrapToolKeys()).toEqual({ rewrapped: 0, unreadable: 1 });
      expect((await LtiToolKey.findOne({ kid: first }).lean())!.privateJwk).toBe(stored.privateJwk);
    } finally {
      configureLti(world.t.config);
      forgetToolKey();
    }
  });
});
