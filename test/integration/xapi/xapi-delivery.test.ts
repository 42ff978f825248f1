import { Types } from 'mongoose';
import { Attempt } from '../../../src/components/completions';
import { XapiFeed, XapiMark, XapiOutbox, claimXapiFeed, configureXapi, runXapiDeliveries, statementSchema, uuidV5, XAPI_LEASE_MS } from '../../../src/components/xapi';
import type { TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import type { StoredStatement, TestLrs } from '../../helpers/lrs-server';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { makeFeedsDue, resetDelivery, saveLrsSettings, startXapiWorld, type XapiWorld } from './xapi.helpers';
import { getPlay, playToResults, postMove, startModule } from '../training/player.helpers';

const SLUG = 'fixture-basics';
let t: TestApp;
let lrs: TestLrs;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;

let world: XapiWorld;

beforeAll(async () => {
  world = await startXapiWorld('admin@delivery.example', { play: true });
  ({ t, lrs, district, school, admin } = world);
});
afterAll(() => world.close());
beforeEach(() => resetDelivery(world));

const saveSettings = (fields: Record<string, string> = {}) => saveLrsSettings(world, fields);

async function newLearner(overrides: Parameters<typeof createUser>[1] = {}) {
  const user = await createUser(district, { schools: [school], ...overrides });
  return { user, agent: await signIn(t.app, user.email) };
}

const best = (choices: string[]) => choices[0];

async function playBest(agent: Agent) {
  await startModule(agent, SLUG);
  return playToResults(agent, SLUG, best);
}

/** The next pass is due now (what the backoff or the pass interval would reach later). */
const makeDue = makeFeedsDue;

/** A learner plays the module, then a pass starts whose first batch the LRS holds; resolves once it is held there. */
async function passHeldAtTheLrs() {
  await saveSettings();
  const { agent } = await newLearner();
  await playBest(agent);
  const held = lrs.holdNextPost();
  const pass = runXapiDeliveries();
  await held.arrived;
  return { pass, release: held.release };
}

const feed = async () => (await XapiFeed.findOne({ district: district._id }).lean())!;
const verbs = (statements: StoredStatement[]) => statements.map((s) => (s.verb as { id: string }).id.split('/').pop());
const ids = (statements: StoredStatement[]) => statements.map((s) => s.id);

describe('statements of a full module play', () => {
  test('when a learner plays the module, then the LRS receives answered ×4, completed and passed, in order, with the actor, objects, results and context', async () => {
    await saveSettings();
    const { user, agent } = await newLearner({ name: 'Rosa Privada', email: 'rosa.privada@delivery.example' });
    const { picked } = await playBest(agent);
    expect(picked).toEqual(['notify', 'decline', 'refuse', 'log']);

    expect(await runXapiDeliveries()).toBe(1);

    expect(verbs(lrs.statements)).toEqual(['answered', 'answered', 'answered', 'answered', 'completed', 'passed']);
    const attempt = (await Attempt.findOne({ user: user._id }).lean())!;
    const attemptId = attempt._id.toString();
    expect(ids(lrs.statements)).toEqual([0, 1, 2, 3].map((i) => uuidV5(`attempt/${attemptId}/decision/${i}`)).concat(uuidV5(`attempt/${attemptId}/completed`), uuidV5(`attempt/${attemptId}/passed`)));

    const home = `${t.config.baseUrl}/districts/${district.slug}`;
    const moduleIri = `${home}/modules/${SLUG}/v1`;
    for (const statement of lrs.statements) {
      expect(statement.actor).toEqual({ objectType: 'Agent', account: { homePage: home, name: user._id.toString() } });
      const { stored: _stored, authority: _authority, ...sent } = statement;
      expect(statementSchema.safeParse(sent).success).toBe(true);
      const context = statement.context as { registration: string; contextActivities: { parent: { id: string }[] } };
      expect(context.registration).toBe(uuidV5(`attempt/${attemptId}`));
      expect(context.contextActivities.parent.map((p) => p.id)).toEqual([moduleIri]);
    }
    expect(lrs.requests.every((r) => r.version === '1.0.3')).toBe(true);

    const first = lrs.statements[0] as StoredStatement & { object: { id: string; definition: Record<string, unknown> }; result: Record<string, unknown>; timestamp: string };
    expect(first.object.id).toBe(`${moduleIri}/scenarios/front-desk/nodes/first`);
    expect(first.object.definition).toMatchObject({
      type: 'http://adlnet.gov/expapi/activities/cmi.interaction',
      interactionType: 'choice',
      name: { en: 'What do you do first?', es: '¿Qué hace primero?' },
      correctResponsesPattern: ['notify'],
    });
    expect((first.object.definition.choices as { id: string }[]).map((c) => c.id)).toEqual(['notify', 'stall', 'call-student']);
    expect(first.result).toEqual({ response: 'notify', success: true, extensions: { [`${t.config.baseUrl}/xapi/extensions/outcome`]: 'best', [`${t.config.baseUrl}/xapi/extensions/points`]: 2 } });
    expect(first.timestamp).toBe(attempt.decisions[0].at.toISOString());
    expect((lrs.statements[2] as unknown as { object: { id: string } }).object.id).toBe(`${moduleIri}/scenarios/by-phone/nodes/q1`);

    const passed = lrs.statements[5] as StoredStatement & { object: { id: string }; result: { score: unknown; success: boolean; completion: boolean; duration: string } };
    expect(passed.object.id).toBe(moduleIri);
    expect(passed.result).toMatchObject({ success: true, completion: true, score: { scaled: 1, raw: 8, min: 0, max: 8 } });
    expect(passed.result.duration).toMatch(/^PT\d+(\.\d+)?S$/);

    // Privacy: the person's name and email never leave; no free text either (only the module's own text).
    const everything = JSON.stringify(lrs.statements);
    expect(everything).not.toContain('Rosa');
    expect(everything).not.toContain('rosa.privada');
    expect(everything).not.toContain(user.employeeId!);

    expect(await XapiOutbox.countDocuments()).toBe(0);
    expect(await feed()).toMatchObject({ sentCount: 6, state: 'idle', retries: 0, attempts: 0, owner: null });
    expect((await feed()).lastSuccessAt).toBeInstanceOf(Date);

    const page = await admin.get('/admin/xapi');
    expect(page.text).toMatch(/<dt>Statements sent<\/dt><dd>6<\/dd>/);
    expect(page.text).toMatch(/<dt>Statements waiting to be sent<\/dt><dd>0<\/dd>/);
  });

  test('when a learner fails, then completed and failed are sent with the score', async () => {
    await saveSettings();
    const { agent } = await newLearner();
    await startModule(agent, SLUG);
    await playToResults(agent, SLUG, (choices) => choices[choices.length - 1]);
    await runXapiDeliveries();
    const last = lrs.statements[lrs.statements.length - 1] as StoredStatement & { result: { success: boolean; score: { raw: number; max: number } } };
    expect(verbs(lrs.statements).slice(-2)).toEqual(['completed', 'failed']);
    expect(last.result.success).toBe(false);
    expect(last.result.score.raw).toBeLessThan(last.result.score.max);
    expect(lrs.statements.filter((s) => (s.result as { success?: boolean }).success === false).length).toBeGreaterThan(1);
  });

  test('when the district chose employee ids, then the actor is the employee id', async () => {
    await saveSettings({ actorId: 'employee_id' });
    const { user, agent } = await newLearner({ employeeId: 'EMP-7731' });
    await playBest(agent);
    await runXapiDeliveries();
    expect(lrs.statements).toHaveLength(6);
    expect(new Set(lrs.statements.map((s) => (s.actor as { account: { name: string } }).account.name))).toEqual(new Set(['EMP-7731']));
    expect(JSON.stringify(lrs.statements)).not.toContain(user._id.toString());
  });

  test('when the app later moves to another address (BASE_URL), then the IRIs stay those of the first save, also after a new save and in the test statement', async () => {
    await saveSettings();
    expect((await feed()).iriBase).toBe(t.config.baseUrl);
    const moved = 'https://training.moved.example';
    configureXapi({ ...t.config, baseUrl: moved });
    try {
      await saveSettings({ actorId: 'employee_id' });
      expect((await feed()).iriBase).toBe(t.config.baseUrl);
      const { agent } = await newLearner({ employeeId: 'EMP-1200' });
      await playBest(agent);
      await runXapiDeliveries();
      expect(lrs.statements).toHaveLength(6);
      const text = JSON.stringify(lrs.statements);
      expect(text).not.toContain(moved);
      expect(lrs.statements.map((s) => (s.actor as { account: { homePage: string } }).account.homePage)).toEqual(Array(6).fill(`${t.config.baseUrl}/districts/${district.slug}`));
      expect((lrs.statements[0].object as { id: string }).id.startsWith(`${t.config.baseUrl}/districts/${district.slug}/modules/${SLUG}/v`)).toBe(true);
      lrs.reset();
      const test = await admin.post('/admin/xapi/test').type('form').send({ _csrf: await csrfFor(admin, '/admin/xapi') });
      expect(test.status).toBe(303);
      expect(lrs.statements).toHaveLength(1);
      expect((lrs.statements[0].actor as { account: { homePage: string } }).account.homePage).toBe(`${t.config.baseUrl}/districts/${district.slug}`);
      const page = await admin.get('/admin/xapi');
      expect(page.text).toContain('stay the same if this server later moves');
      expect(page.text).toContain(`${t.config.baseUrl}/districts/${district.slug}/modules/foundations/v1`);
    } finally {
      configureXapi(t.config);
    }
  });

  test('when a feed was saved before the base was kept, then BASE_URL is used until its next save fixes it', async () => {
    await saveSettings();
    await XapiFeed.updateOne({ district: district._id }, { $unset: { iriBase: 1 } });
    expect((await admin.get('/admin/xapi')).text).not.toContain('stay the same if this server later moves');
    await saveSettings();
    expect((await feed()).iriBase).toBe(t.config.baseUrl);
  });

  test('when decisions were made before sending was turned on, then only the later ones are sent', async () => {
    const { agent } = await newLearner();
    await startModule(agent, SLUG);
    const page = await getPlay(agent, SLUG);
    await postMove(agent, SLUG, page); // the narrative
    const decision = await getPlay(agent, SLUG);
    expect(decision.kind).toBe('decision');
    await postMove(agent, SLUG, decision, 'notify');
    await saveSettings();
    await playToResults(agent, SLUG, best);
    await runXapiDeliveries();
    expect(verbs(lrs.statements)).toEqual(['answered', 'answered', 'answered', 'completed', 'passed']);
    expect((lrs.statements[0].result as { response: string }).response).toBe('decline');
  });

  test('when the administrator asks for a backfill, then earlier decisions and results are sent too, and nothing twice', async () => {
    const { agent: early } = await newLearner();
    await playBest(early); // finished before sending was turned on
    const { agent } = await newLearner();
    await startModule(agent, SLUG);
    await postMove(agent, SLUG, await getPlay(agent, SLUG));
    await postMove(agent, SLUG, await getPlay(agent, SLUG), 'stall'); // one decision before
    await saveSettings();
    await playToResults(agent, SLUG, best);
    await runXapiDeliveries();
    expect(lrs.statements).toHaveLength(5);
    const page = await admin.get('/admin/xapi');
    expect(page.text).toContain('Also send earlier decisions and results');

    const res = await admin.post('/admin/xapi/backfill').type('form').send({ _csrf: await csrfFor(admin, '/admin/xapi') });
    expect(res.status).toBe(303);
    await runXapiDeliveries();
    expect(lrs.statements).toHaveLength(12);
    expect(new Set(ids(lrs.statements)).size).toBe(12);
    expect(verbs(lrs.statements.slice(5))).toEqual(['answered', 'answered', 'answered', 'answered', 'completed', 'passed', 'answered']);
    expect((await admin.get('/admin/xapi')).text).toContain('On, for every decision and result (earlier ones included)');
    // A second request changes nothing.
    await admin.post('/admin/xapi/backfill').type('form').send({ _csrf: await csrfFor(admin, '/admin/xapi') });
    await makeDue();
    await runXapiDeliveries();
    expect(lrs.statements).toHaveLength(12);
  });

  test('when a district has no LRS, or sending is off, then nothing is collected or sent for it', async () => {
    await saveSettings({ enabled: '' });
    const { agent } = await newLearner();
    await playBest(agent);
    expect(await runXapiDeliveries()).toBe(0);
    const elsewhere = await createDistrict();
    const otherSchool = await createSchool(elsewhere);
    const other = await createUser(elsewhere, { schools: [otherSchool] });
    await playBest(await signIn(t.app, other.email));
    expect(await runXapiDeliveries()).toBe(0);
    expect(lrs.requests).toHaveLength(0);
    expect(await XapiOutbox.countDocuments()).toBe(0);
    expect(await XapiMark.countDocuments()).toBe(0);
  });

  test('when more than 100 statements wait, then they are sent in batches of at most 100, in order', async () => {
    await saveSettings();
    const sendFrom = (await feed()).sendFrom!;
    const users = await Promise.all([0, 1, 2].map(() => createUser(district, { schools: [school] })));
    await Attempt.insertMany(
      users.map((user, u) => ({
        user: user._id,
        district: district._id,
        school: school._id,
        moduleSlug: SLUG,
        moduleVersion: 1,
        status: 'in_progress',
        position: { scenarioIndex: 0, nodeId: 'first', step: 50, phase: 'node' },
        decisions: Array.from({ length: 50 }, (_, i) => ({ scenarioId: 'front-desk', nodeId: 'first', choiceId: 'stall', outcome: 'acceptable', points: 1, at: new Date(sendFrom.getTime() + 1000 + u * 100 + i) })),
        startedAt: new Date(sendFrom.getTime() + 1000),
      })),
    );
    await runXapiDeliveries();
    expect(lrs.requests.map((r) => r.ids.length)).toEqual([100, 50]);
    expect(lrs.statements).toHaveLength(150);
    expect(new Set(ids(lrs.statements)).size).toBe(150);
    expect((await feed()).sentCount).toBe(150);
  });
});

describe('delivery when the LRS fails', () => {
  test('when the LRS answers 500, then nothing is lost: the statements wait, the page shows the error and counts, and a later pass sends them', async () => {
    await saveSettings();
    lrs.failNext({ status: 500, body: 'database on fire' });
    const { agent } = await newLearner();
    await playBest(agent);

    await runXapiDeliveries();
    expect(lrs.statements).toHaveLength(0);
    expect(await XapiOutbox.countDocuments()).toBe(6);
    const waiting = await feed();
    expect(waiting).toMatchObject({ state: 'idle', retries: 1, sentCount: 0, lastError: { status: 500, message: 'database on fire' } });
    expect(waiting.requestedAt.getTime()).toBeGreaterThan(waiting.lastError!.at!.getTime());
    // Not due yet: the backoff holds it.
    expect(await runXapiDeliveries()).toBe(0);
    const page = await admin.get('/admin/xapi');
    expect(page.text).toMatch(/<dt>Statements waiting to be sent<\/dt><dd>6<\/dd>/);
    expect(page.text).toContain('HTTP 500');
    expect(page.text).toContain('database on fire');
    expect(page.text).toContain('Next attempt');

    await makeDue();
    await runXapiDeliveries();
    expect(verbs(lrs.statements)).toEqual(['answered', 'answered', 'answered', 'answered', 'completed', 'passed']);
    expect(await feed()).toMatchObject({ retries: 0, sentCount: 6 });
    expect(await XapiOutbox.countDocuments()).toBe(0);
  });

  test('when the LRS answers 429 with Retry-After, then the next pass waits that long, then sends', async () => {
    await saveSettings();
    lrs.failNext({ status: 429, retryAfter: '120' });
    const { agent } = await newLearner();
    await playBest(agent);
    await runXapiDeliveries();
    const waiting = await feed();
    expect(waiting.lastError?.status).toBe(429);
    const wait = waiting.requestedAt.getTime() - waiting.finishedAt!.getTime();
    expect(wait).toBe(120_000);
    await makeDue();
    await runXapiDeliveries();
    expect(lrs.statements).toHaveLength(6);
  });

  test('when the LRS refuses the credentials (401), then sending stops with its message until new settings are saved', async () => {
    await saveSettings({ secret: 'not-the-secret' });
    const { agent } = await newLearner();
    await playBest(agent);
    await runXapiDeliveries();
    expect(await feed()).toMatchObject({ state: 'stopped', error: 'refused', lastError: { status: 401, message: 'unauthorized: bad key or secret' } });
    await makeDue();
    expect(await runXapiDeliveries()).toBe(0);
    expect(lrs.requests).toHaveLength(1);
    const page = await admin.get('/admin/xapi');
    expect(page.text).toContain('Sending stopped');
    expect(page.text).toContain('unauthorized: bad key or secret');
    expect(page.text).not.toContain('not-the-secret');

    await saveSettings();
    expect((await feed()).state).toBe('idle');
    await runXapiDeliveries();
    expect(lrs.statements).toHaveLength(6);
  });

  test('when the LRS refuses a statement (400), then sending stops; "Try again now" resumes once it is fixed', async () => {
    await saveSettings();
    lrs.failNext({ status: 400, body: 'x'.repeat(1000) });
    const { agent } = await newLearner();
    await playBest(agent);
    await runXapiDeliveries();
    const stopped = await feed();
    expect(stopped.state).toBe('stopped');
    expect(stopped.lastError!.message!.length).toBeLessThanOrEqual(300);
    const res = await admin.post('/admin/xapi/resume').type('form').send({ _csrf: await csrfFor(admin, '/admin/xapi') });
    expect(res.status).toBe(303);
    await runXapiDeliveries();
    expect(lrs.statements).toHaveLength(6);
  });
});

describe('at least once, never twice', () => {
  test('when the LRS stored a batch but the answer was lost, then the resend has the same ids and the LRS holds each once', async () => {
    await saveSettings();
    lrs.dropNextAfterStoring();
    const { agent } = await newLearner();
    await playBest(agent);
    await runXapiDeliveries();
    expect(lrs.statements).toHaveLength(6);
    expect(await XapiOutbox.countDocuments()).toBe(6);
    expect((await feed()).lastError?.status).toBeNull();

    await makeDue();
    await runXapiDeliveries();
    expect(lrs.requests.filter((r) => r.method === 'POST').map((r) => r.ids)).toEqual([ids(lrs.statements), ids(lrs.statements)]);
    expect(lrs.statements).toHaveLength(6);
    expect(await XapiOutbox.countDocuments()).toBe(0);
    expect((await feed()).sentCount).toBe(6);
  });

  test('when the rows of a batch the LRS accepted are not removed (the process died in between), then the resend is not counted again', async () => {
    const { pass, release } = await passHeldAtTheLrs();
    // While the batch is at the LRS its rows are taken away, and put back once the pass is over: to the runner
    // the removal of the accepted rows takes no effect, which leaves what a process dying between its
    // acceptance and their removal leaves — the statements at the LRS and still waiting here.
    const rows = await XapiOutbox.find({}).lean();
    expect(rows).toHaveLength(6);
    await XapiOutbox.deleteMany({});
    release();
    await pass;
    await XapiOutbox.insertMany(rows);
    expect(lrs.statements).toHaveLength(6);
    expect((await feed()).sentCount).toBe(0);

    await makeDue();
    await runXapiDeliveries();
    expect(lrs.requests.filter((r) => r.method === 'POST').map((r) => r.ids)).toEqual([ids(lrs.statements), ids(lrs.statements)]);
    expect(lrs.statements).toHaveLength(6);
    expect(await XapiOutbox.countDocuments()).toBe(0);
    expect(await feed()).toMatchObject({ sentCount: 6, state: 'idle', retries: 0 });
  });

  test('when the feed is taken over while a batch is at the LRS, then the old runner removes and counts nothing and the new one counts each statement once', async () => {
    const { pass: old, release } = await passHeldAtTheLrs();
    // The old runner looks dead (its heartbeat lapsed): another takes the feed over and sends the same rows.
    await XapiFeed.updateOne({ district: district._id }, { $set: { heartbeatAt: new Date(Date.now() - XAPI_LEASE_MS - 1_000) } });
    expect(await runXapiDeliveries()).toBe(1);
    expect(await feed()).toMatchObject({ sentCount: 6, state: 'idle', owner: null });
    release();
    await old;
    expect(lrs.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
    expect(lrs.statements).toHaveLength(6);
    expect(await XapiOutbox.countDocuments()).toBe(0);
    expect(await feed()).toMatchObject({ sentCount: 6, state: 'idle', owner: null });
  });

  test('when an LRS refuses a whole batch with 409 for an id it holds, then each statement is put by id and none is lost', async () => {
    await saveSettings();
    lrs.dropNextAfterStoring();
    const { agent: first } = await newLearner();
    await playBest(first);
    await runXapiDeliveries(); // stored by the LRS, answer lost: 6 waiting
    lrs.refuseBatchesWithKnownIds(true);
    const { agent: second } = await newLearner();
    await playBest(second);
    await makeDue();
    await runXapiDeliveries();
    expect(lrs.statements).toHaveLength(12);
    expect(new Set(ids(lrs.statements)).size).toBe(12);
    expect(lrs.requests.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([-1, 409]);
    expect(lrs.requests.filter((r) => r.method === 'PUT')).toHaveLength(12);
    expect(await XapiOutbox.countDocuments()).toBe(0);
  });

  test('when the process running a pass dies (its lease lapses), then the next runner takes it over and sends everything once', async () => {
    await saveSettings();
    const { agent } = await newLearner();
    await playBest(agent);
    const dead = await claimXapiFeed('dead-host:1:abcd');
    expect(dead?.state).toBe('running');
    // Still held: nobody else may run it.
    expect(await runXapiDeliveries()).toBe(0);
    await XapiFeed.updateOne({ _id: dead!._id }, { $set: { heartbeatAt: new Date(Date.now() - XAPI_LEASE_MS - 1_000) } });
    expect(await runXapiDeliveries()).toBe(1);
    expect(lrs.statements).toHaveLength(6);
    expect(await feed()).toMatchObject({ state: 'idle', owner: null, attempts: 0, sentCount: 6 });
  });

  test('when a pass died after queuing but before its marks were written, then the next collects the same ids again and the LRS holds each once', async () => {
    await saveSettings();
    lrs.failNext({ status: 503 });
    const { agent } = await newLearner();
    await playBest(agent);
    await runXapiDeliveries();
    expect(await XapiOutbox.countDocuments()).toBe(6);
    // What a process dying between the outbox insert and the marks looks like: no marks, the cursor not moved.
    await XapiMark.deleteMany({});
    await XapiFeed.updateOne({ district: district._id }, { $set: { cursor: (await feed()).sendFrom } });
    await makeDue();
    await runXapiDeliveries();
    expect(lrs.statements).toHaveLength(6);
    expect(await XapiOutbox.countDocuments()).toBe(0);
    // And once everything is sent, a later pass over the same attempts queues nothing.
    await XapiMark.deleteMany({});
    await XapiMark.insertMany((await Attempt.find({}).lean()).map((a) => ({ district: district._id, attempt: a._id, decisions: a.decisions.length, finished: true })));
    await makeDue();
    await runXapiDeliveries();
    expect(lrs.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  test('when the same attempt is collected in several passes as the learner goes on, then each decision is sent once', async () => {
    await saveSettings();
    const { agent } = await newLearner();
    await startModule(agent, SLUG);
    for (let i = 0; i < 3; i++) {
      const page = await getPlay(agent, SLUG);
      await postMove(agent, SLUG, page, page.kind === 'decision' ? page.choices[0] : undefined);
      await makeDue();
      await runXapiDeliveries();
    }
    await playToResults(agent, SLUG, best);
    await makeDue();
    await runXapiDeliveries();
    expect(verbs(lrs.statements)).toEqual(['answered', 'answered', 'answered', 'answered', 'completed', 'passed']);
    expect(new Set(ids(lrs.statements)).size).toBe(6);
    expect(await XapiMark.countDocuments({ attempt: { $exists: true }, district: new Types.ObjectId(district._id.toString()) })).toBe(1);
  });
});
