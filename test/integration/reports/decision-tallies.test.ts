/**
 * Decision tallies (components/completions/decision-tallies.ts) against the reference: the scan of every finished
 * attempt the insights page did before them (decision-scan.helpers.ts). Attempts are played through the real player.
 */
import { Attempt, DecisionTally, DecisionTallyBuild, deleteDecisionTallies, readDecisionTallies, rebuildDecisionTallies } from '../../../src/components/completions';
import type { Actor } from '../../../src/shared/actor';
import { getDecisionInsights } from '../../../src/components/reports/decision-insights.service';
import { getDistrictContext } from '../../../src/components/settings';
import { prepareTrainingContent } from '../../../src/components/training';
import { getModuleVersion } from '../../../src/components/training/training.content';
import { createRenderer } from '../../../src/components/training/training.view';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFrom, signIn, type Agent } from '../../helpers/session';
import { FIXTURE_MODULES, getPlay, playToResults, postMove, startModule, type PlayPage } from '../training/player.helpers';
import { prepareUpdateModules } from '../training/update.helpers';
import { createAssignment } from '../modules/modules.helpers';
import { scanDecisions, type ScannedFigures } from './decision-scan.helpers';

const SLUG = 'fixture-basics';
let t: TestApp;
let cleanup: () => Promise<void>;
let district: Awaited<ReturnType<typeof createDistrict>>;
let schools: Awaited<ReturnType<typeof createSchool>>[];
let adminActor: Actor;

type Figures = ScannedFigures;
const scan = scanDecisions;

const scope = (moduleVersion: number) => ({ district: district._id, moduleSlug: SLUG, moduleVersion });

/**
 * The page's figures (the service the route renders) and the stored tallies equal the scan, for the district and
 * each school, in every version. Returns the district's scans so a test can also check they are not empty.
 */
async function expectTalliesEqualScan(versions: number[]): Promise<Map<number, Figures>> {
  const renderer = createRenderer((await getDistrictContext(String(district._id))).content.en, 'en');
  const whole = new Map<number, Figures>();
  for (const version of versions) {
    const content = getModuleVersion(SLUG, version).content;
    for (const school of [undefined, ...schools]) {
      const schoolId = school ? String(school._id) : undefined;
      const reference = await scan(school ? { school: school._id, moduleSlug: SLUG, moduleVersion: version } : { district: district._id, moduleSlug: SLUG, moduleVersion: version });
      if (!school) whole.set(version, reference);
      const page = await getDecisionInsights(adminActor, { module: SLUG, version, school: schoolId }, renderer);
      expect({ version, school: schoolId, attempts: page.attempts }).toEqual({ version, school: schoolId, attempts: reference.attempts });
      for (const d of page.decisions) {
        const scenarioId = content.scenarios[d.scenarioNumber - 1].id;
        for (const c of d.choices) {
          expect({ version, school: schoolId, at: `${scenarioId}/${d.nodeId}/${c.id}`, count: c.count }).toEqual({
            version,
            school: schoolId,
            at: `${scenarioId}/${d.nodeId}/${c.id}`,
            count: reference.counts.get(`${scenarioId}\u0000${d.nodeId}\u0000${c.id}`) ?? 0,
          });
        }
      }
      // Every stored count, not only those the page shows.
      expect(await readDecisionTallies(scope(version), schoolId === undefined ? undefined : [schoolId])).toEqual(reference);
    }
  }
  return whole;
}

/** A deterministic spread of answers: the n-th decision of a play takes choice (seed + n) mod the number of choices. */
const spread = (seed: number) => {
  let n = 0;
  return (choices: string[]) => choices[(seed + n++) % choices.length];
};
const best = (choices: string[]) => choices[0];
const worst = (choices: string[]) => choices[choices.length - 1];

async function learner(schoolsOf: Awaited<ReturnType<typeof createSchool>>[]): Promise<Agent> {
  const user = await createUser(district, { schools: schoolsOf });
  return signIn(t.app, user.email);
}

async function play(agent: Agent, pick: (choices: string[]) => string): Promise<void> {
  await startModule(agent, SLUG);
  const { page } = await playToResults(agent, SLUG, pick);
  expect(page.isResults).toBe(true);
}

/** Plays up to the `n`-th decision (1-based) and returns that page, unanswered. */
async function playToDecision(agent: Agent, n: number, pick: (choices: string[]) => string): Promise<PlayPage> {
  let seen = 0;
  for (let guard = 0; guard < 100; guard += 1) {
    const page = await getPlay(agent, SLUG);
    if (page.kind === 'decision' && ++seen === n) return page;
    expect(page.kind === 'decision' || page.kind === 'continue').toBe(true);
    expect((await postMove(agent, SLUG, page, page.kind === 'decision' ? pick(page.choices) : undefined)).status).toBe(303);
  }
  throw new Error('decision not reached');
}

/** A learner at `school` who started the module and stands at its last (fourth) decision. */
async function atFinalDecision(school: Awaited<ReturnType<typeof createSchool>>, seed: number): Promise<{ agent: Agent; page: PlayPage }> {
  const agent = await learner([school]);
  await startModule(agent, SLUG);
  const page = await playToDecision(agent, 4, spread(seed));
  return { agent, page };
}

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(FIXTURE_MODULES);
  district = await createDistrict({ name: 'Tally Unified' });
  schools = [await createSchool(district, { name: 'Adams' }), await createSchool(district, { name: 'Baker' }), await createSchool(district, { name: 'Carver' })];
  const admin = await createUser(district, { role: 'district_admin', email: 'admin@tally.example' });
  adminActor = { userId: String(admin._id), districtId: String(district._id), role: 'district_admin', schoolIds: [], name: admin.name, email: admin.email, language: 'en', sessionEpoch: 0 };
  // Another district's play never counts here.
  const elsewhere = await createDistrict({ name: 'Elsewhere' });
  const other = await createUser(elsewhere, { schools: [await createSchool(elsewhere)] });
  await play(await signIn(t.app, other.email), best);
  // Built (empty) before anyone plays: from here on only the finishing transactions count, so the tests see them.
  await rebuildDecisionTallies(scope(1));
});

afterAll(async () => {
  await t.close();
  await cleanup?.();
});

describe('decision tallies', () => {
  test('when varied attempts finish through the player (schools, versions, passes, fails, retakes, an update, someone at two schools), then the page figures equal the scan of the attempts', async () => {
    const [adams, baker, carver] = schools;
    // Version 1: passes and fails at two schools; a retake after a fail; someone working at Baker and Adams (counts at Baker, their first).
    const a1 = await learner([adams]);
    await play(a1, worst);
    await play(a1, best);
    await play(await learner([adams]), spread(1));
    const twoSchools = await learner([baker, adams]);
    await play(twoSchools, spread(2));
    const b1 = await learner([baker]);
    await play(b1, best);
    // Version 2 published: the whole of it, an update from version 1, a fail and a retake at Carver.
    cleanup = await prepareUpdateModules();
    // Staff must hold version 2: someone holding version 1 is offered the update.
    await createAssignment(district, { minVersion: 2 });
    await rebuildDecisionTallies(scope(2));
    const overview = await b1.get(`/training/${SLUG}`);
    expect((await b1.post(`/training/${SLUG}/update`).type('form').send({ _csrf: csrfFrom(overview.text) })).status).toBe(303);
    const { page } = await playToResults(b1, SLUG, spread(3));
    expect(page.isResults).toBe(true);
    expect(await Attempt.exists({ moduleSlug: SLUG, moduleVersion: 2, updateFrom: 1, status: { $in: ['passed', 'failed'] } })).not.toBeNull();
    const c1 = await learner([carver]);
    await play(c1, worst);
    await play(c1, spread(4));
    await play(twoSchools, best);

    // Counted as they finished: the builds above found no attempts.
    expect(await DecisionTallyBuild.countDocuments({ district: district._id })).toBe(2);
    const whole = await expectTalliesEqualScan([1, 2]);
    expect(whole.get(1)?.attempts).toBe(5);
    expect(whole.get(2)?.attempts).toBe(4);
    // One document per school and version: the one at two schools is counted at Baker only.
    const docs = await DecisionTally.find({ district: district._id }).lean();
    expect(docs.map((d) => `${d.moduleVersion}:${String(d.school)}:${d.attempts}`).sort()).toEqual(
      [`1:${String(adams._id)}:3`, `1:${String(baker._id)}:2`, `2:${String(baker._id)}:2`, `2:${String(carver._id)}:2`].sort(),
    );
    // The page as people see it.
    const admin = await signIn(t.app, 'admin@tally.example');
    const res = await admin.get(`/reports/decisions?module=${SLUG}&version=1`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Based on 5 finished attempts. Figures are kept current as each attempt finishes');
    // Thirteen plays through HTTP: on a loaded machine this takes longer than jest's default 30 s.
  }, 120_000);

  test('when the same final decision is posted twice at once, then the attempt is counted once', async () => {
    const before = await scan({ district: district._id, moduleSlug: SLUG, moduleVersion: 2 });
    const tallyBefore = await DecisionTally.findOne({ ...scope(2), school: schools[0]._id }).lean();
    const { agent, page } = await atFinalDecision(schools[0], 5);
    const answers = await Promise.all([postMove(agent, SLUG, page, page.choices[0]), postMove(agent, SLUG, page, page.choices[0])]);
    expect(answers.map((r) => r.status)).toEqual([303, 303]);
    const after = await scan({ district: district._id, moduleSlug: SLUG, moduleVersion: 2 });
    expect(after.attempts).toBe(before.attempts + 1);
    const tally = await DecisionTally.findOne({ ...scope(2), school: schools[0]._id }).lean();
    expect(tally?.attempts).toBe((tallyBefore?.attempts ?? 0) + 1);
    expect(tally?.seq).toBe((tallyBefore?.seq ?? 0) + 1);
    await expectTalliesEqualScan([2]);
  });

  test('when the rebuild runs again, then nothing changes (idempotent) and the build is marked once', async () => {
    const stored = async () => (await DecisionTally.find({ district: district._id }, { _id: 0, school: 1, moduleVersion: 1, attempts: 1, counts: 1, seq: 1 }).sort({ moduleVersion: 1, school: 1 }).lean()).map((d) => JSON.stringify(d));
    const before = await stored();
    const first = await rebuildDecisionTallies(scope(1));
    await rebuildDecisionTallies(scope(1));
    await rebuildDecisionTallies(scope(2));
    expect(first).toEqual({ attempts: 5, schools: 2, recountedInTransaction: 0 });
    expect(await stored()).toEqual(before);
    expect(await DecisionTallyBuild.countDocuments({ district: district._id, moduleSlug: SLUG, moduleVersion: 1 })).toBe(1);
    await expectTalliesEqualScan([1, 2]);
  });

  test('when an attempt finishes between the rebuild’s scan and its write, then that school is recounted in a transaction and the attempt counted once', async () => {
    const [adams] = schools;
    const { agent, page } = await atFinalDecision(adams, 6);
    const before = await scan({ school: adams._id, moduleSlug: SLUG, moduleVersion: 2 });
    const result = await rebuildDecisionTallies(scope(2), {
      afterScan: async () => {
        expect((await postMove(agent, SLUG, page, page.choices[1])).status).toBe(303);
      },
    });
    expect(result.recountedInTransaction).toBe(1);
    expect((await scan({ school: adams._id, moduleSlug: SLUG, moduleVersion: 2 })).attempts).toBe(before.attempts + 1);
    await expectTalliesEqualScan([2]);
  });

  test('when attempts finish while rebuilds run, then each is counted exactly once', async () => {
    const waiting = [];
    for (let i = 0; i < 4; i += 1) waiting.push(await atFinalDecision(schools[i % 3], 7 + i));
    const before = await scan({ district: district._id, moduleSlug: SLUG, moduleVersion: 2 });
    const answers = await Promise.all([
      rebuildDecisionTallies(scope(2)),
      ...waiting.map(({ agent, page }) => postMove(agent, SLUG, page, page.choices[0])),
      rebuildDecisionTallies(scope(2)),
    ]);
    expect(answers.slice(1, -1).map((r) => (r as { status: number }).status)).toEqual([303, 303, 303, 303]);
    const whole = await expectTalliesEqualScan([2]);
    expect(whole.get(2)?.attempts).toBe(before.attempts + 4);
  }, 60_000);

  test('when a district’s tallies were never built (attempts written before them, or by a seed), then the first view counts them from the attempts', async () => {
    // Attempts written directly, as a seed or import does: the finishing transaction never counted them.
    const [, baker] = schools;
    const user = await createUser(district, { schools: [baker] });
    const at = new Date('2026-10-01T16:00:00Z');
    await Attempt.create({
      user: user._id,
      district: district._id,
      school: baker._id,
      moduleSlug: SLUG,
      moduleVersion: 1,
      status: 'failed',
      position: { scenarioIndex: 1, nodeId: 'wrap-up', step: 9, phase: 'results' },
      decisions: [{ scenarioId: 'front-desk', nodeId: 'first', choiceId: 'call-student', outcome: 'wrong', points: 0, at }],
      startedAt: at,
      finishedAt: at,
      score: 0,
    });
    await deleteDecisionTallies(district._id);
    expect(await DecisionTally.countDocuments({ district: district._id })).toBe(0);
    const admin = await signIn(t.app, 'admin@tally.example');
    const res = await admin.get(`/reports/decisions?module=${SLUG}&version=1&school=${String(baker._id)}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Based on 3 finished attempts.');
    expect(await DecisionTallyBuild.exists({ district: district._id, moduleSlug: SLUG, moduleVersion: 1 })).not.toBeNull();
    await expectTalliesEqualScan([1, 2]);
  });

  test('when stored counts carry keys that are not content ids, then the page ignores them and nothing is polluted', async () => {
    const [adams] = schools;
    await DecisionTally.collection.updateOne(
      { ...scope(1), school: adams._id },
      { $set: { 'counts.constructor': { prototype: { polluted: 5 } }, 'counts.front-desk.first.Bad_Id': 7, 'counts.front-desk.first.notify': 'many' } },
    );
    const figures = await readDecisionTallies(scope(1), [String(adams._id)]);
    expect([...figures.counts.keys()].every((k) => /^[a-z0-9-]+\u0000[a-z0-9-]+\u0000[a-z0-9-]+$/.test(k))).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await rebuildDecisionTallies(scope(1));
    await expectTalliesEqualScan([1]);
  });
});
