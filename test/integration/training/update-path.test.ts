import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { Types } from 'mongoose';
import { Attempt, Completion } from '../../../src/components/completions';
import { AuditEvent } from '../../../src/components/audit';
import { syncComplianceForUsers } from '../../../src/components/assignments';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { validUntilFor } from '../../../src/components/assignments/compliance-status';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { pdfText } from '../../helpers/pdf';
import { csrfFrom, signIn, type Agent } from '../../helpers/session';
import { createAssignment } from '../modules/modules.helpers';
import { getPlay, playToResults, postMove, startModule, type PlayPage } from './player.helpers';
import { prepareUpdateModules, V2_NOTE, V3_NOTE } from './update.helpers';

const SLUG = 'fixture-basics';
const FRONT_DESK_NODES = ['arrival', 'first', 'consequence', 'second', 'done'];
const DAY = 24 * 60 * 60 * 1000;
let t: TestApp;
let cleanup: () => Promise<void>;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;

beforeAll(async () => {
  t = await startTestApp();
  cleanup = await prepareUpdateModules();
  district = await createDistrict();
  school = await createSchool(district);
  // Every staff member must hold version 2 (annual recertification).
  await createAssignment(district, { minVersion: 2 });
});
afterAll(async () => {
  await t.close();
  await cleanup();
});

type User = Awaited<ReturnType<typeof createUser>>;

/** A completion as the player writes it when the whole module is passed. */
async function holdVersion(user: User, moduleVersion: number, completedAt: Date, extra: Record<string, unknown> = {}) {
  return Completion.create({
    user: user._id,
    district: user.district,
    school: user.schools?.[0],
    moduleSlug: SLUG,
    moduleVersion,
    method: 'played',
    attempt: new Types.ObjectId(),
    score: 90,
    completedAt,
    certificateCode: randomBytes(16).toString('hex').toUpperCase(),
    ...extra,
  });
}

/** A staff member who passed the whole of version 1 thirty days ago (outdated on the v2 assignment). */
async function outdatedLearner(overrides: Parameters<typeof createUser>[1] = {}) {
  const user = await createUser(district, { schools: [school], ...overrides });
  const base = await holdVersion(user, 1, new Date(Date.now() - 30 * DAY));
  await syncComplianceForUsers([user._id]);
  return { user, base, agent: await signIn(t.app, user.email) };
}

async function startUpdate(agent: Agent) {
  const overview = await agent.get(`/training/${SLUG}`);
  return agent.post(`/training/${SLUG}/update`).type('form').send({ _csrf: csrfFrom(overview.text) });
}

const best = (choices: string[]) => choices[0];
const worst = (choices: string[]) => choices[choices.length - 1];

/** Every page of a play-through up to the results, with the node each page was rendered at (from `at`). */
async function playCollecting(agent: Agent, pick: (choices: string[]) => string): Promise<{ pages: PlayPage[]; nodes: string[] }> {
  const pages: PlayPage[] = [];
  for (let guard = 0; guard < 50; guard += 1) {
    const page = await getPlay(agent, SLUG);
    pages.push(page);
    if (page.kind === 'results') break;
    const res = await postMove(agent, SLUG, page, page.kind === 'decision' ? pick(page.choices) : undefined);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/training/${SLUG}/play`);
  }
  const nodes = pages.filter((p) => p.at).map((p) => p.at!.split('.')[3]!);
  return { pages, nodes };
}

describe('the update offer', () => {
  test('when someone holds version 1 and the latest version 2 declares an update from 1, then /training and the module page offer it with the note, time and scenarios', async () => {
    const { agent } = await outdatedLearner();

    const list = await agent.get('/training');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Updated: version 2');
    expect(list.text).toContain(V2_NOTE.en);
    expect(list.text).toContain('About 5 minutes'); // 10 minutes × 1 of 2 scenarios
    expect(list.text).toContain('1 scenario');
    expect(list.text).toContain('A phone call');
    expect(list.text).toContain(`action="/training/${SLUG}/update"`);
    expect(list.text).toContain('Start the update');
    expect(list.text).toContain('or take the whole module');
    expect(list.text).toContain('Outdated');

    const overview = await agent.get(`/training/${SLUG}`);
    expect(overview.text).toContain('Updated: version 2');
    expect(overview.text).toContain('You completed version 1');
    expect(overview.text).toContain('Start the update');
    expect(overview.text).toContain(`action="/training/${SLUG}/start"`);
    expect(overview.text).toContain('Take the whole module instead');
  });

  test('when the learner uses Spanish, then the offer is in Spanish', async () => {
    const { agent } = await outdatedLearner({ preferredLanguage: 'es' });

    const list = await agent.get('/training');
    expect(list.text).toContain('Actualizado: versión 2');
    expect(list.text).toContain(V2_NOTE.es);
    expect(list.text).toContain('1 escenario');
    expect(list.text).toContain('Comenzar la actualización');
    const overview = await agent.get(`/training/${SLUG}`);
    expect(overview.text).toContain('Hacer el módulo completo');
  });

  test('when someone has no earlier completion, then no update is offered and posting the update form creates nothing', async () => {
    const user = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, user.email);

    const list = await agent.get('/training');
    expect(list.text).not.toContain('Updated: version 2');
    expect(list.text).not.toContain('Start the update');
    const res = await startUpdate(agent);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/training/${SLUG}`);
    expect(await Attempt.countDocuments({ user: user._id })).toBe(0);
  });

  test('when someone already holds version 2, or their version 1 was revoked, then no update is offered', async () => {
    const current = await createUser(district, { schools: [school] });
    await holdVersion(current, 1, new Date(Date.now() - 60 * DAY));
    await holdVersion(current, 2, new Date(Date.now() - 10 * DAY));
    const revoked = await createUser(district, { schools: [school] });
    await holdVersion(revoked, 1, new Date(Date.now() - 60 * DAY), { revokedAt: new Date() });

    for (const user of [current, revoked]) {
      const agent = await signIn(t.app, user.email);
      expect((await agent.get('/training')).text).not.toContain('Start the update');
      await startUpdate(agent);
      expect(await Attempt.countDocuments({ user: user._id })).toBe(0);
    }
  });

  test('when the base completion has already lapsed for the annual assignment, then no update is offered (it would not make them compliant) and posting it creates nothing', async () => {
    const user = await createUser(district, { schools: [school] });
    await holdVersion(user, 1, new Date(Date.now() - 400 * DAY));
    const agent = await signIn(t.app, user.email);

    const list = await agent.get('/training');
    expect(list.text).not.toContain('Start the update');
    expect(list.text).toContain('Outdated');
    await startUpdate(agent);
    expect(await Attempt.countDocuments({ user: user._id })).toBe(0);
  });

  test('when an anonymous visitor posts the update form, then it is refused and nothing is stored', async () => {
    const res = await request(t.app).post(`/training/${SLUG}/update`).type('form').send({});
    expect(res.status).toBe(403);
  });
});

describe('playing the update', () => {
  test('when an outdated learner starts the update and answers well, then only the listed scenario is served and one v2 update completion with the base clock is recorded with its audit event', async () => {
    const { user, base, agent } = await outdatedLearner();

    const start = await startUpdate(agent);
    expect(start.status).toBe(303);
    expect(start.headers.location).toBe(`/training/${SLUG}/play`);
    const { pages, nodes } = await playCollecting(agent, best);

    expect(pages[0]!.html).toContain('Scenario 1 of 1');
    expect(pages[0]!.html).toContain('Update from version 1 to version 2');
    expect(pages[0]!.html).toContain('A caller asks for a student');
    expect(pages[0]!.at).toBe('v2u1.0.node.q1');
    expect(nodes).toEqual(['q1', 'q1', 'q2', 'q2', 'after-call', 'wrap-up']);
    expect(nodes.some((id) => FRONT_DESK_NODES.includes(id))).toBe(false);
    const results = pages.at(-1)!;
    expect(results.html).toContain('You passed');
    expect(results.html).toContain('100%');
    expect(results.html).toContain('This update completes version 2 (update from version 1).');
    expect(results.html).toMatch(/\/training\/certificates\/[A-Z2-7]{26}\.pdf/);

    const attempt = await Attempt.findOne({ user: user._id }).lean();
    expect(attempt).toMatchObject({ moduleVersion: 2, updateFrom: 1, status: 'passed', score: 100, points: 4, maxPoints: 4 });
    expect(attempt!.decisions.map((d) => [d.scenarioId, d.nodeId])).toEqual([
      ['by-phone', 'q1'],
      ['by-phone', 'q2'],
    ]);
    const v2 = await Completion.find({ user: user._id, moduleVersion: 2 }).lean();
    expect(v2).toHaveLength(1);
    expect(v2[0]).toMatchObject({ method: 'update', updatedFrom: 1, score: 100, moduleSlug: SLUG });
    expect(v2[0]!.recertifiedAt).toEqual(base.completedAt);
    expect(String(v2[0]!.attempt)).toBe(String(attempt!._id));
    const audits = await AuditEvent.find({ action: 'completion.recorded', 'target.id': String(v2[0]!._id) }).lean();
    expect(audits).toHaveLength(1);
    expect(audits[0]!.details).toMatchObject({ moduleVersion: 2, method: 'update', updatedFrom: 1, score: 100, isRenewal: false });

    // The compliance row: completed by the update, counting until the base completion's anniversary.
    const row = await ComplianceRow.findOne({ user: user._id }).lean();
    expect(row).toMatchObject({ hasSatisfying: true, isOutdated: false, completion: { moduleVersion: 2, method: 'update', updatedFrom: 1 } });
    expect(row!.satisfiedUntil).toEqual(validUntilFor({ kind: 'annual' }, base.completedAt, district.timeZone));
    const list = await agent.get('/training');
    expect(list.text).toContain('Completed');
    expect(list.text).toContain('from version 1 with 100%');
    expect(list.text).not.toContain('Start the update');
  });

  test('when the update is failed, then no completion is written and "Try the update again" starts a new update attempt that can pass', async () => {
    const { user, agent } = await outdatedLearner();
    await startUpdate(agent);
    const failed = await playCollecting(agent, worst);
    const results = failed.pages.at(-1)!;
    expect(results.html).toContain('Not passed yet');
    expect(results.html).toContain(`action="/training/${SLUG}/update"`);
    expect(results.html).toContain('Try the update again');
    expect(await Completion.countDocuments({ user: user._id, moduleVersion: 2 })).toBe(0);
    expect(await Attempt.findOne({ user: user._id }).lean()).toMatchObject({ status: 'failed', score: 0, updateFrom: 1 });

    const retry = await agent.post(`/training/${SLUG}/update`).type('form').send({ _csrf: results.csrf });
    expect(retry.status).toBe(303);
    const passed = await playCollecting(agent, best);
    expect(passed.pages.at(-1)!.html).toContain('You passed');
    const attempts = await Attempt.find({ user: user._id }).sort({ startedAt: 1 }).lean();
    expect(attempts.map((a) => [a.status, a.updateFrom])).toEqual([
      ['failed', 1],
      ['passed', 1],
    ]);
    expect(await Completion.countDocuments({ user: user._id, moduleVersion: 2, method: 'update' })).toBe(1);
  });

  test('when the learner signs out mid-update, then after signing in again the update resumes where they were', async () => {
    const { user, agent } = await outdatedLearner();
    await startUpdate(agent);
    const q1 = await getPlay(agent, SLUG);
    await postMove(agent, SLUG, q1, 'refuse');
    const logout = await agent.post('/logout').type('form').send({ _csrf: (await getPlay(agent, SLUG)).csrf });
    expect(logout.status).toBe(303);

    const again = await signIn(t.app, user.email);
    const overview = await again.get(`/training/${SLUG}`);
    expect(overview.text).toContain('Resume where you left off');
    expect(overview.text).not.toContain('Start the update');
    const resumed = await getPlay(again, SLUG);
    expect(resumed.at).toBe('v2u1.0.feedback.q1.refuse');
    expect(resumed.html).toContain('Scenario 1 of 1');
    // Resuming through the whole-module button also continues the same update attempt.
    await startModule(again, SLUG);
    expect(await Attempt.countDocuments({ user: user._id })).toBe(1);
    const { pages } = await playCollecting(again, best);
    expect(pages.at(-1)!.html).toContain('You passed');
    expect(await Completion.countDocuments({ user: user._id, moduleVersion: 2, method: 'update' })).toBe(1);
  });

  test('when the learner switches to Spanish mid-update, then the same position is shown in Spanish and the results say so in Spanish', async () => {
    const { agent } = await outdatedLearner();
    await startUpdate(agent);
    const en = await getPlay(agent, SLUG);
    const es = await getPlay(agent, SLUG, '?lang=es');
    expect(es.at).toBe(en.at);
    expect(es.html).toContain('Escenario 1 de 1');
    expect(es.html).toContain('Actualización de la versión 1 a la versión 2');
    expect(es.html).toContain('Alguien llama y pide la dirección de un alumno.');
    const { pages } = await playCollecting(agent, best);
    expect(pages.at(-1)!.html).toContain('Esta actualización completa la versión 2 (actualización de la versión 1).');
  });

  test('when the final answer is posted twice at once (two tabs), then exactly one update completion and one audit event are written', async () => {
    const { user, agent } = await outdatedLearner();
    await startUpdate(agent);
    const q1 = await getPlay(agent, SLUG);
    await postMove(agent, SLUG, q1, 'refuse');
    await postMove(agent, SLUG, await getPlay(agent, SLUG));
    const q2 = await getPlay(agent, SLUG);
    expect(q2.at).toBe('v2u1.0.node.q2');

    const [a, b] = await Promise.all([postMove(agent, SLUG, q2, 'log'), postMove(agent, SLUG, q2, 'forget')]);

    expect([a.headers.location, b.headers.location].sort()).toEqual([`/training/${SLUG}/play`, `/training/${SLUG}/play?notice=stale`]);
    const attempt = await Attempt.findOne({ user: user._id }).lean();
    expect(attempt!.decisions).toHaveLength(2);
    const completions = await Completion.find({ user: user._id, moduleVersion: 2 }).lean();
    const passed = attempt!.status === 'passed';
    expect(completions).toHaveLength(passed ? 1 : 0);
    expect(await AuditEvent.countDocuments({ action: 'completion.recorded', actor: user._id })).toBe(passed ? 1 : 0);
  });

  test('when the base completion is revoked while the update is played, then its pass writes no completion (nothing to update from)', async () => {
    const { user, base, agent } = await outdatedLearner();
    await startUpdate(agent);
    await Completion.updateOne({ _id: base._id }, { $set: { revokedAt: new Date() } });
    const { pages } = await playCollecting(agent, best);
    expect(pages.at(-1)!.html).toContain('You passed');
    expect(pages.at(-1)!.html).not.toMatch(/\/training\/certificates\//);
    // The page says why nothing was completed and offers the whole module instead.
    expect(pages.at(-1)!.html).toContain('was withdrawn by the district');
    expect(pages.at(-1)!.html).not.toContain('This update completes');
    expect(pages.at(-1)!.html).toContain(`action="/training/${SLUG}/start"`);
    expect(await Attempt.findOne({ user: user._id }).lean()).toMatchObject({ status: 'passed', updateFrom: 1 });
    expect(await Completion.countDocuments({ user: user._id, moduleVersion: 2 })).toBe(0);
    expect(await AuditEvent.countDocuments({ action: 'completion.recorded', actor: user._id })).toBe(0);
    await startModule(agent, SLUG);
    const { picked } = await playToResults(agent, SLUG, best);
    expect(picked).toEqual(['notify', 'decline', 'refuse', 'log']);
    expect(await Completion.findOne({ user: user._id, moduleVersion: 2 }).lean()).toMatchObject({ method: 'played' });
  });

  test('when an outdated learner takes the whole module instead, then all scenarios are played and a played completion renews the clock', async () => {
    const { user, agent } = await outdatedLearner();
    await startModule(agent, SLUG);
    const { picked } = await playToResults(agent, SLUG, best);
    expect(picked).toEqual(['notify', 'decline', 'refuse', 'log']);
    const v2 = await Completion.findOne({ user: user._id, moduleVersion: 2 }).lean();
    expect(v2).toMatchObject({ method: 'played' });
    expect(v2!.updatedFrom).toBeUndefined();
    expect(v2!.recertifiedAt).toBeUndefined();
  });

  test('when someone holding an update completion later plays the whole version, then the record becomes a played one (update fields dropped)', async () => {
    const { user, agent } = await outdatedLearner();
    await startUpdate(agent);
    await playCollecting(agent, best);
    await startModule(agent, SLUG);
    await playToResults(agent, SLUG, best);
    const v2 = await Completion.find({ user: user._id, moduleVersion: 2 }).lean();
    expect(v2).toHaveLength(1);
    expect(v2[0]).toMatchObject({ method: 'played' });
    expect(v2[0]!.recertifiedAt).toBeUndefined();
    expect(v2[0]!.updatedFrom).toBeUndefined();
  });
});

describe('certificates and the admin page', () => {
  let code: string;
  let owner: User;
  let ownerAgent: Agent;
  beforeAll(async () => {
    const learner = await outdatedLearner({ name: 'Rosa Ibáñez' });
    owner = learner.user;
    ownerAgent = learner.agent;
    await startUpdate(ownerAgent);
    await playCollecting(ownerAgent, best);
    code = (await Completion.findOne({ user: owner._id, moduleVersion: 2 }).lean())!.certificateCode;
  });

  function binary(req: request.Test): request.Test {
    return req.buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
  }

  test('when the owner downloads the certificate, then it says "Version 2 (update from version 1)", in Spanish too', async () => {
    const en = await binary(ownerAgent.get(`/training/certificates/${code}.pdf`));
    expect(en.status).toBe(200);
    expect((await pdfText(en.body as Buffer)).text).toContain('Version 2 (update from version 1)');
    const es = await binary(ownerAgent.get(`/training/certificates/${code}.pdf?lang=es`));
    await ownerAgent.get('/training?lang=en');
    expect((await pdfText(es.body as Buffer)).text).toContain('Versión 2 (actualización de la versión 1)');
  });

  test('when anyone verifies the certificate, then /verify shows the version as an update, in the chosen language', async () => {
    const en = await request(t.app).get(`/verify/${code}`);
    expect(en.status).toBe(200);
    expect(en.text).toContain('2 (update from version 1)');
    const es = await request(t.app).get(`/verify/${code}?lang=es`);
    expect(es.text).toContain('2 (actualización de la versión 1)');
  });

  test('when a district admin opens the module versions page, then version 2 shows its update path: from version, scenarios and note', async () => {
    const admin = await signIn(t.app, (await createUser(district, { role: 'district_admin' })).email);
    const res = await admin.get(`/admin/modules/${SLUG}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Update path');
    expect(res.text).toContain('<th scope="row">1</th>');
    expect(res.text).toContain('href="#v2--by-phone">A phone call</a>');
    expect(res.text).toContain(V2_NOTE.en);
  });

  test('when the principal opens the person page or exports the school, then the completion shows as an update (as a facilitated one shows its method)', async () => {
    const principal = await signIn(t.app, (await createUser(district, { role: 'principal', schools: [school] })).email);
    const res = await principal.get(`/school/${String(school._id)}/staff/${String(owner._id)}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('100% (update from v1)');

    const csv = await principal.get(`/reports/compliance.csv?school=${String(school._id)}`);
    expect(csv.status).toBe(200);
    const line = csv.text.split('\r\n').find((l) => l.includes('Rosa Ibáñez'));
    expect(line).toContain(',2,100% (update from v1),');
    expect(line).toContain(code);
  });
});

describe('a version whose update path starts from a later version than the one held', () => {
  beforeAll(async () => {
    await cleanup();
    cleanup = await prepareUpdateModules({ withV3: true });
  });

  test('when someone holds only version 1 and version 3 updates only from version 2, then no update is offered (the whole module is needed)', async () => {
    const user = await createUser(district, { schools: [school] });
    await holdVersion(user, 1, new Date(Date.now() - 30 * DAY));
    const agent = await signIn(t.app, user.email);

    expect((await agent.get('/training')).text).not.toContain('Start the update');
    await startUpdate(agent);
    expect(await Attempt.countDocuments({ user: user._id })).toBe(0);
  });

  test('when someone holds a v2 update, then the v3 update is offered and its completion keeps the original v1 clock', async () => {
    const user = await createUser(district, { schools: [school] });
    const v1 = await holdVersion(user, 1, new Date(Date.now() - 90 * DAY));
    await holdVersion(user, 2, new Date(Date.now() - 20 * DAY), { method: 'update', updatedFrom: 1, recertifiedAt: v1.completedAt });
    const agent = await signIn(t.app, user.email);

    const list = await agent.get('/training');
    expect(list.text).toContain('Updated: version 3');
    expect(list.text).toContain(V3_NOTE.en);
    await startUpdate(agent);
    const { nodes } = await playCollecting(agent, best);
    expect(nodes.every((id) => FRONT_DESK_NODES.includes(id))).toBe(true);
    const v3 = await Completion.findOne({ user: user._id, moduleVersion: 3 }).lean();
    expect(v3).toMatchObject({ method: 'update', updatedFrom: 2 });
    expect(v3!.recertifiedAt).toEqual(v1.completedAt);
  });
});
