/**
 * The first real content update: modules/classroom/v2.yaml adds the scenario "Just outside the gate" and
 * declares an update path from version 1 that plays only it. Played here through the real player, as a
 * teacher of a district whose classroom assignment requires version 2 would play it.
 */
import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { Attempt, Completion } from '../../../src/components/completions';
import { AuditEvent } from '../../../src/components/audit';
import { syncComplianceForUsers } from '../../../src/components/assignments';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { getCatalog, prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFrom, signIn, type Agent } from '../../helpers/session';
import { createAssignment, rowWith } from '../modules/modules.helpers';
import { getPlay, postMove, type PlayPage } from './player.helpers';

const SLUG = 'classroom';
const SCENARIO = 'outside-the-gate';
const DAY = 24 * 60 * 60 * 1000;
const WORDS = {
  en: {
    offer: 'Updated: version 2',
    note: '<strong>New: enforcement just outside campus at arrival or dismissal.</strong>',
    title: 'Just outside the gate',
    start: 'Start the update',
    minutes: 'About 4 minutes',
    scenarios: '1 scenario',
    progress: 'Scenario 1 of 1',
    banner: 'Update from version 1 to version 2',
    firstText: 'on dismissal duty at the front gate',
    passed: 'You passed',
    score: 'Your score: 100%',
    completes: 'This update completes version 2 (update from version 1).',
    notPassed: 'Not passed yet',
  },
  es: {
    offer: 'Actualizado: versión 2',
    note: '<strong>Nuevo: operaciones justo afuera de la escuela a la hora de la entrada o la salida.</strong>',
    title: 'Justo afuera de la entrada',
    start: 'Comenzar la actualización',
    minutes: 'Aproximadamente 4 minutos',
    scenarios: '1 escenario',
    progress: 'Escenario 1 de 1',
    banner: 'Actualización de la versión 1 a la versión 2',
    firstText: 'de turno en la entrada principal',
    passed: 'Aprobó',
    score: 'Su calificación: 100 %',
    completes: 'Esta actualización completa la versión 2 (actualización de la versión 1).',
    notPassed: 'Todavía no aprobado',
  },
} as const;

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let principal: Agent;

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(); // the repository's modules/
  district = await createDistrict();
  school = await createSchool(district);
  // The district raised its classroom assignment to version 2 when it was published.
  await createAssignment(district, { moduleSlug: SLUG, minVersion: 2, jobTitles: ['teacher'] });
  principal = await signIn(t.app, (await createUser(district, { role: 'principal', schools: [school] })).email);
});
afterAll(async () => t.close());

/** A teacher who passed the whole of classroom version 1 a month ago, as the player records it. */
async function teacherHoldingV1(language: 'en' | 'es') {
  const user = await createUser(district, { schools: [school], jobTitle: 'teacher', preferredLanguage: language, name: `Teacher ${randomBytes(4).toString('hex')}` });
  const base = await Completion.create({
    user: user._id,
    district: district._id,
    school: school._id,
    moduleSlug: SLUG,
    moduleVersion: 1,
    method: 'played',
    attempt: new Types.ObjectId(),
    score: 91,
    completedAt: new Date(Date.now() - 30 * DAY),
    certificateCode: randomBytes(16).toString('hex').toUpperCase(),
  });
  await syncComplianceForUsers([user._id]);
  return { user, base, agent: await signIn(t.app, user.email) };
}

/** The choice with the wanted outcome at the learner's current decision, read from the module itself. */
async function choiceAt(userId: Types.ObjectId, outcome: 'best' | 'wrong'): Promise<string> {
  const attempt = await Attempt.findOne({ user: userId, moduleSlug: SLUG, status: 'in_progress' }).lean().orFail();
  const scenario = getCatalog().get(SLUG, attempt.moduleVersion)!.content.scenarios.find((s) => s.id === SCENARIO)!;
  const node = scenario.nodes[attempt.position!.nodeId];
  if (node.type !== 'decision') throw new Error(`not at a decision: ${attempt.position!.nodeId}`);
  return node.choices.find((choice) => choice.outcome === outcome)!.id;
}

async function playUpdate(agent: Agent, userId: Types.ObjectId, outcome: 'best' | 'wrong'): Promise<PlayPage[]> {
  const pages: PlayPage[] = [];
  for (let guard = 0; guard < 60; guard += 1) {
    const page = await getPlay(agent, SLUG);
    expect(page.status).toBe(200);
    // Every page fully rendered: placeholders filled, no raw Markdown or template leftovers.
    expect(page.html).not.toMatch(/\{\{|\}\}|\*\*|undefined|\[object Object\]/);
    pages.push(page);
    if (page.kind === 'results') return pages;
    const choice = page.kind === 'decision' ? await choiceAt(userId, outcome) : undefined;
    const moved = await postMove(agent, SLUG, page, choice);
    expect(moved.status).toBe(303);
    expect(moved.headers.location).toBe(`/training/${SLUG}/play`);
  }
  throw new Error('the update did not end');
}

async function schoolRowOf(name: string): Promise<string> {
  const res = await principal.get(`/school/${String(school._id)}?lang=en`);
  expect(res.status).toBe(200);
  return rowWith(res.text, name);
}

describe.each(['en', 'es'] as const)('the classroom v2 update, played in %s', (lang) => {
  const w = WORDS[lang];

  test('when a teacher holding classroom v1 opens /training, is offered the update, plays it with the best answers, then one v2 update completion is stored and nobody sees them as outdated any more', async () => {
    const { user, base, agent } = await teacherHoldingV1(lang);
    expect(await schoolRowOf(user.name)).toContain('status-outdated');

    // The offer, in the learner's language: what changed, how long, which scenario.
    const list = await agent.get('/training');
    expect(list.status).toBe(200);
    for (const text of [w.offer, w.note, w.title, w.start, w.minutes, w.scenarios]) expect(list.text).toContain(text);
    expect(list.text).toContain(`action="/training/${SLUG}/update"`);

    const overview = await agent.get(`/training/${SLUG}`);
    const start = await agent.post(`/training/${SLUG}/update`).type('form').send({ _csrf: csrfFrom(overview.text) });
    expect(start.status).toBe(303);
    expect(start.headers.location).toBe(`/training/${SLUG}/play`);

    const pages = await playUpdate(agent, user._id, 'best');
    for (const text of [w.progress, w.banner, w.firstText]) expect(pages[0]!.html).toContain(text);
    const results = pages.at(-1)!;
    for (const text of [w.passed, w.score, w.completes]) expect(results.html).toContain(text);

    // Only the new scenario was played: its three decisions, all best.
    const attempt = await Attempt.findOne({ user: user._id, moduleSlug: SLUG }).lean().orFail();
    expect(attempt).toMatchObject({ moduleVersion: 2, updateFrom: 1, status: 'passed', score: 100, points: 6, maxPoints: 6 });
    expect(attempt.decisions.map((d) => [d.scenarioId, d.nodeId, d.choiceId])).toEqual([
      [SCENARIO, 'gate-decision', 'call-and-hold'],
      [SCENARIO, 'question-decision', 'cant-share'],
      [SCENARIO, 'after-decision', 'care-and-report'],
    ]);
    const v2 = await Completion.find({ user: user._id, moduleSlug: SLUG, moduleVersion: 2 }).lean();
    expect(v2).toHaveLength(1);
    expect(v2[0]).toMatchObject({ method: 'update', updatedFrom: 1, score: 100 });
    expect(String(v2[0]!.attempt)).toBe(String(attempt._id));
    expect(v2[0]!.recertifiedAt).toEqual(base.completedAt);
    expect(await Completion.countDocuments({ user: user._id, moduleSlug: SLUG, moduleVersion: 1 })).toBe(1);
    const audit = await AuditEvent.find({ action: 'completion.recorded', 'target.id': String(v2[0]!._id) }).lean();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ moduleSlug: SLUG, moduleVersion: 2, method: 'update', updatedFrom: 1 });

    // No longer outdated: their compliance row, their /training page and the principal's school page.
    expect(await ComplianceRow.findOne({ user: user._id, moduleSlug: SLUG }).lean()).toMatchObject({
      isOutdated: false,
      hasSatisfying: true,
      completion: { moduleVersion: 2, method: 'update', updatedFrom: 1 },
    });
    const after = await agent.get('/training');
    expect(after.text).not.toContain(w.start);
    expect(after.text).not.toContain(w.offer);
    const row = await schoolRowOf(user.name);
    expect(row).toContain('status-completed');
    expect(row).toContain('100% (update from v1)');
  });

  test('when the teacher answers the update badly, then it is not passed, nothing is completed and they stay outdated with the update still offered', async () => {
    const { user, agent } = await teacherHoldingV1(lang);
    const overview = await agent.get(`/training/${SLUG}`);
    await agent.post(`/training/${SLUG}/update`).type('form').send({ _csrf: csrfFrom(overview.text) });

    const pages = await playUpdate(agent, user._id, 'wrong');
    expect(pages.at(-1)!.html).toContain(w.notPassed);

    expect(await Attempt.findOne({ user: user._id, moduleSlug: SLUG }).lean()).toMatchObject({ moduleVersion: 2, updateFrom: 1, status: 'failed', score: 0 });
    expect(await Completion.countDocuments({ user: user._id, moduleSlug: SLUG, moduleVersion: 2 })).toBe(0);
    expect(await ComplianceRow.findOne({ user: user._id, moduleSlug: SLUG }).lean()).toMatchObject({ isOutdated: true, hasSatisfying: false });
    expect((await agent.get('/training')).text).toContain(w.start);
    expect(await schoolRowOf(user.name)).toContain('status-outdated');
  });
});
