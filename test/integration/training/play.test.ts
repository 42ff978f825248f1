import { Attempt, Completion } from '../../../src/components/completions';
import { AuditEvent } from '../../../src/components/audit';
import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { FIXTURE_MODULES, getPlay, playToResults, postMove, startModule } from './player.helpers';

const SLUG = 'fixture-basics';
let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(FIXTURE_MODULES);
  district = await createDistrict();
  school = await createSchool(district);
});
afterAll(async () => t.close());

async function newLearner(overrides: Parameters<typeof createUser>[1] = {}): Promise<{ user: Awaited<ReturnType<typeof createUser>>; agent: Agent }> {
  const user = await createUser(district, { schools: [school], ...overrides });
  return { user, agent: await signIn(t.app, user.email) };
}

const best = (choices: string[]) => choices[0];
const worst = (choices: string[]) => choices[choices.length - 1];

describe('GET/POST /training/:slug/play', () => {
  test('when an anonymous visitor opens the player, then they are sent to sign in', async () => {
    const res = await (await import('supertest')).default(t.app).get(`/training/${SLUG}/play`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login\?next=/);
  });

  test('when an anonymous visitor posts a move, then it is refused and nothing is stored', async () => {
    const res = await (await import('supertest')).default(t.app).post(`/training/${SLUG}/play`).type('form').send({ step: '0', choice: 'notify' });
    expect(res.status).toBe(403); // no session, so no CSRF token: refused before any route
    expect(await Attempt.countDocuments({})).toBe(0);
  });

  test('when the module does not exist, then the player answers 404', async () => {
    const { agent } = await newLearner();
    expect((await agent.get('/training/no-such-module/play')).status).toBe(404);
    expect((await agent.get('/training/NOT_A_SLUG')).status).toBe(404);
  });

  test('when a learner has not started, then the player sends them to the overview', async () => {
    const { agent } = await newLearner();
    const res = await agent.get(`/training/${SLUG}/play`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/training/${SLUG}`);
  });

  test('when a learner chooses the best answer every time, then the attempt passes with 100% and one completion and audit event are stored', async () => {
    const { user, agent } = await newLearner();
    const start = await startModule(agent, SLUG);
    expect(start.status).toBe(303);
    expect(start.headers.location).toBe(`/training/${SLUG}/play`);

    const { page, picked } = await playToResults(agent, SLUG, best);

    expect(picked).toEqual(['notify', 'decline', 'refuse', 'log']);
    expect(page.html).toContain('You passed');
    expect(page.html).toContain('100%');
    const attempt = await Attempt.findOne({ user: user._id }).lean();
    expect(attempt).toMatchObject({ status: 'passed', score: 100, points: 8, maxPoints: 8, moduleVersion: 1 });
    expect(attempt?.decisions.map((d) => [d.nodeId, d.choiceId, d.outcome, d.points])).toEqual([
      ['first', 'notify', 'best', 2],
      ['second', 'decline', 'best', 2],
      ['q1', 'refuse', 'best', 2],
      ['q2', 'log', 'best', 2],
    ]);
    expect(attempt?.decisions.every((d) => d.at instanceof Date)).toBe(true);
    const completions = await Completion.find({ user: user._id }).lean();
    expect(completions).toHaveLength(1);
    expect(completions[0]).toMatchObject({ moduleSlug: SLUG, moduleVersion: 1, score: 100 });
    expect(completions[0].school?.toString()).toBe(school._id.toString());
    expect(completions[0].district.toString()).toBe(district._id.toString());
    expect(completions[0].certificateCode).toMatch(/^[A-Z2-7]{26}$/);
    expect(page.html).toContain(`/training/certificates/${completions[0].certificateCode}.pdf`);
    const audits = await AuditEvent.find({ action: 'completion.recorded', actor: user._id }).lean();
    expect(audits).toHaveLength(1);
    expect(audits[0].target?.id).toBe(completions[0]._id.toString());
  });

  test('when a learner chooses wrong answers, then the attempt fails, no completion is stored, and Try again starts a new attempt', async () => {
    const { user, agent } = await newLearner();
    await startModule(agent, SLUG);

    const { page, picked } = await playToResults(agent, SLUG, worst);

    expect(picked).toEqual(['call-student', 'let-in', 'give', 'forget']);
    expect(page.html).toContain('Not passed yet');
    expect(page.html).toContain('Try again');
    expect(await Attempt.findOne({ user: user._id }).lean()).toMatchObject({ status: 'failed', score: 0 });
    expect(await Completion.countDocuments({ user: user._id })).toBe(0);

    const retry = await agent.post(`/training/${SLUG}/start`).type('form').send({ _csrf: page.csrf });
    expect(retry.status).toBe(303);
    const attempts = await Attempt.find({ user: user._id }).sort({ startedAt: 1 }).lean();
    expect(attempts.map((a) => a.status)).toEqual(['failed', 'in_progress']);
    expect(attempts[1].position).toMatchObject({ scenarioIndex: 0, nodeId: 'arrival', step: 0, phase: 'node' });
    const fresh = await getPlay(agent, SLUG);
    expect(fresh.html).toContain('Two visitors arrive at the counter.');
  });

  test('when a wrong choice branches, then its feedback is shown in words with the best answer and cited sources, then the consequence node', async () => {
    const { agent } = await newLearner();
    await startModule(agent, SLUG);
    const arrival = await getPlay(agent, SLUG);
    await postMove(agent, SLUG, arrival);
    const decision = await getPlay(agent, SLUG);
    expect(decision.kind).toBe('decision');
    expect(decision.html).toMatch(/<fieldset[^>]*>\s*<legend class="prompt"><span class="md-p">What do you do first\?<\/span><\/legend>/);

    await postMove(agent, SLUG, decision, 'call-student');
    const feedback = await getPlay(agent, SLUG);

    expect(feedback.html).toContain('Not the right choice');
    expect(feedback.html).toContain('Never produce a student.');
    expect(feedback.html).toContain('The best answer:');
    expect(feedback.html).toContain('href="#source-F13"');
    expect(feedback.html).toContain('id="source-F13"');
    expect(feedback.html).toMatch(/id="step-heading" data-autofocus tabindex="-1"/);
    await postMove(agent, SLUG, feedback);
    expect((await getPlay(agent, SLUG)).html).toContain('The student is now at the counter.');
  });

  test('when a decision follows a narrative, then the decision page offers that narrative again (“Read the situation again”), along the learner’s own path', async () => {
    const situation = (html: string) => /<details class="lead-in">([\s\S]*?)<\/details>/.exec(html)?.[1];
    const { agent } = await newLearner();
    await startModule(agent, SLUG);
    await postMove(agent, SLUG, await getPlay(agent, SLUG));
    const first = await getPlay(agent, SLUG);
    expect(first.kind).toBe('decision');
    expect(situation(first.html)).toContain('<summary>Read the situation again</summary>');
    expect(situation(first.html)).toContain('Two visitors arrive at the counter.');
    // The situation comes before the question, and the heading keeps the focus.
    expect(first.html.indexOf('class="lead-in"')).toBeGreaterThan(first.html.indexOf('id="step-heading" data-autofocus'));
    expect(first.html.indexOf('class="lead-in"')).toBeLessThan(first.html.indexOf('<legend'));
    const spanish = await getPlay(agent, SLUG, '?lang=es');
    expect(situation(spanish.html)).toContain('<summary>Volver a leer la situación</summary>');
    expect(situation(spanish.html)).toContain('Dos visitantes llegan al mostrador.');
    await getPlay(agent, SLUG, '?lang=en');

    // A wrong choice leads through its consequence: the next decision recalls that, not the arrival.
    await postMove(agent, SLUG, first, 'call-student');
    await postMove(agent, SLUG, await getPlay(agent, SLUG));
    await postMove(agent, SLUG, await getPlay(agent, SLUG));
    const second = await getPlay(agent, SLUG);
    expect(second.choices).toEqual(['decline', 'let-in']);
    expect(situation(second.html)).toContain('The student is now at the counter.');
    expect(second.html).not.toContain('Two visitors arrive at the counter.');

    // The best choice goes straight to the same decision: its feedback page was the way there, so no lead-in.
    const other = await newLearner();
    await startModule(other.agent, SLUG);
    await postMove(other.agent, SLUG, await getPlay(other.agent, SLUG));
    await postMove(other.agent, SLUG, await getPlay(other.agent, SLUG), 'notify');
    await postMove(other.agent, SLUG, await getPlay(other.agent, SLUG));
    const direct = await getPlay(other.agent, SLUG);
    expect(direct.choices).toEqual(['decline', 'let-in']);
    expect(direct.html).not.toContain('class="lead-in"');
  });

  test('when a decision is submitted without a choice or with a choice of another node, then the node is shown again with 422 and nothing is stored', async () => {
    const { user, agent } = await newLearner();
    await startModule(agent, SLUG);
    await postMove(agent, SLUG, await getPlay(agent, SLUG));
    const decision = await getPlay(agent, SLUG);

    const empty = await postMove(agent, SLUG, decision);
    const foreign = await postMove(agent, SLUG, decision, 'decline');

    for (const res of [empty, foreign]) {
      expect(res.status).toBe(422);
      expect(res.text).toContain('Choose one answer, then submit.');
      expect(res.text).toContain('aria-describedby="error-choice"');
      expect(res.text).toContain('What do you do first?');
    }
    const attempt = await Attempt.findOne({ user: user._id }).lean();
    expect(attempt?.decisions).toHaveLength(0);
    expect(attempt?.position).toMatchObject({ nodeId: 'first', step: 1, phase: 'node' });
  });

  test('when the same step is posted twice (double click, back button, replay), then one decision is recorded and the second gets the current node', async () => {
    const { user, agent } = await newLearner();
    await startModule(agent, SLUG);
    await postMove(agent, SLUG, await getPlay(agent, SLUG));
    const decision = await getPlay(agent, SLUG);

    const first = await postMove(agent, SLUG, decision, 'notify');
    const replay = await postMove(agent, SLUG, decision, 'call-student');

    expect(first.status).toBe(303);
    expect(first.headers.location).toBe(`/training/${SLUG}/play`);
    expect(replay.status).toBe(303);
    expect(replay.headers.location).toBe(`/training/${SLUG}/play?notice=stale`);
    const attempt = await Attempt.findOne({ user: user._id }).lean();
    expect(attempt?.decisions.map((d) => d.choiceId)).toEqual(['notify']);
    expect(attempt?.position).toMatchObject({ nodeId: 'first', phase: 'feedback', choiceId: 'notify', step: 2 });
    const current = await getPlay(agent, SLUG, '?notice=stale');
    expect(current.html).toContain('That page was out of date');
    expect(current.html).toContain('Best choice');
  });

  test('when two tabs post different choices for the same step at once, then exactly one is recorded', async () => {
    const { user, agent } = await newLearner();
    await startModule(agent, SLUG);
    await postMove(agent, SLUG, await getPlay(agent, SLUG));
    const decision = await getPlay(agent, SLUG);

    const results = await Promise.all([postMove(agent, SLUG, decision, 'notify'), postMove(agent, SLUG, decision, 'stall')]);

    expect(results.map((r) => r.status)).toEqual([303, 303]);
    expect(results.filter((r) => r.headers.location.endsWith('?notice=stale'))).toHaveLength(1);
    const attempt = await Attempt.findOne({ user: user._id }).lean();
    expect(attempt?.decisions).toHaveLength(1);
    expect(attempt?.position?.step).toBe(2);
  });

  test('when the final decision is posted twice at once, then exactly one completion and one audit event are written', async () => {
    const { user, agent } = await newLearner();
    await startModule(agent, SLUG);
    let page = await getPlay(agent, SLUG);
    // Play up to the last decision (q2), then race two posts of it.
    for (let guard = 0; guard < 50 && !(page.kind === 'decision' && page.choices.includes('log')); guard += 1) {
      await postMove(agent, SLUG, page, page.kind === 'decision' ? page.choices[0] : undefined);
      page = await getPlay(agent, SLUG);
    }
    expect(page.choices).toEqual(['log', 'forget']);

    const results = await Promise.all([postMove(agent, SLUG, page, 'log'), postMove(agent, SLUG, page, 'log')]);

    expect(results.map((r) => r.status)).toEqual([303, 303]);
    expect(await Completion.countDocuments({ user: user._id })).toBe(1);
    expect(await AuditEvent.countDocuments({ actor: user._id, action: 'completion.recorded' })).toBe(1);
    const attempt = await Attempt.findOne({ user: user._id }).lean();
    expect(attempt?.decisions).toHaveLength(4);
    expect(attempt).toMatchObject({ status: 'passed', score: 100 });
  });

  test('when a learner passes the same version again, then the one completion is renewed, not duplicated', async () => {
    const { user, agent } = await newLearner();
    await startModule(agent, SLUG);
    const { page } = await playToResults(agent, SLUG, best);
    const first = await Completion.findOne({ user: user._id }).lean();

    await agent.post(`/training/${SLUG}/start`).type('form').send({ _csrf: page.csrf });
    // Second pass with one acceptable answer: 7 of 8 points → 87%.
    await playToResults(agent, SLUG, (choices) => (choices.includes('stall') ? 'stall' : choices[0]));

    const completions = await Completion.find({ user: user._id }).lean();
    expect(completions).toHaveLength(1);
    expect(completions[0].certificateCode).toBe(first?.certificateCode);
    expect(completions[0].score).toBe(87);
    expect(completions[0].completedAt.getTime()).toBeGreaterThanOrEqual(first!.completedAt.getTime());
    const audits = await AuditEvent.find({ actor: user._id, action: 'completion.recorded' }).sort({ at: 1 }).lean();
    expect(audits.map((a) => (a.details as { isRenewal: boolean }).isRenewal)).toEqual([false, true]);
  });

  test('when a learner signs out mid-scenario and signs in again, then the player resumes at the same node', async () => {
    const { user, agent } = await newLearner();
    await startModule(agent, SLUG);
    await postMove(agent, SLUG, await getPlay(agent, SLUG));
    await postMove(agent, SLUG, await getPlay(agent, SLUG), 'stall');
    const before = await getPlay(agent, SLUG);
    await agent.post('/logout').type('form').send({ _csrf: before.csrf });
    expect((await agent.get(`/training/${SLUG}/play`)).status).toBe(303);

    const again = await signIn(t.app, user.email);
    const overview = await again.get(`/training/${SLUG}`);
    expect(overview.text).toContain('Resume where you left off');
    await again.post(`/training/${SLUG}/start`).type('form').send({ _csrf: (await getPlay(again, SLUG)).csrf });
    const resumed = await getPlay(again, SLUG);

    expect(resumed.step).toBe(before.step);
    expect(resumed.html).toContain('Acceptable, but not the best choice');
    expect(await Attempt.countDocuments({ user: user._id })).toBe(1);
  });

  test('when a learner switches to Spanish mid-scenario, then the same node of the same attempt is shown in Spanish and play continues', async () => {
    const { user, agent } = await newLearner();
    await startModule(agent, SLUG);
    await postMove(agent, SLUG, await getPlay(agent, SLUG));
    const english = await getPlay(agent, SLUG);
    expect(english.html).toContain('What do you do first?');

    const spanish = await getPlay(agent, SLUG, '?lang=es');
    expect(spanish.html).toContain('<html lang="es"');
    expect(spanish.html).toContain('¿Qué hace primero?');
    expect(spanish.step).toBe(english.step);
    expect(spanish.choices).toEqual(english.choices);
    await postMove(agent, SLUG, spanish, 'notify');
    const feedback = await getPlay(agent, SLUG);
    expect(feedback.html).toContain('La mejor opción');
    expect(feedback.html).toContain('Correcto: avise a la dirección de su plantel.');

    const viaHeader = await signIn(t.app, user.email);
    const res = await viaHeader.get(`/training/${SLUG}/play`).set('Accept-Language', 'es');
    expect(res.text).toContain('Correcto: avise a');
    expect(await Attempt.countDocuments({ user: user._id })).toBe(1);
  });

  test('when another staff member opens the same module, then they see their own (absent) attempt and cannot move the first person’s', async () => {
    const { user: owner, agent: ownerAgent } = await newLearner();
    await startModule(ownerAgent, SLUG);
    await postMove(ownerAgent, SLUG, await getPlay(ownerAgent, SLUG));
    const { agent: other } = await newLearner();

    const page = await other.get(`/training/${SLUG}/play`);
    const overview = await other.get(`/training/${SLUG}`);
    const move = await other.post(`/training/${SLUG}/play`).type('form').send({ _csrf: /name="_csrf" value="([^"]+)"/.exec(overview.text)![1], step: '1', choice: 'notify' });

    expect(page.status).toBe(303);
    expect(page.headers.location).toBe(`/training/${SLUG}`);
    expect(move.status).toBe(303);
    expect(move.headers.location).toBe(`/training/${SLUG}`);
    const attempt = await Attempt.findOne({ user: owner._id }).lean();
    expect(attempt?.decisions).toHaveLength(0);
    expect(attempt?.position?.step).toBe(1);
  });

  test('when the step field is missing or not a number, then nothing changes and the current node is shown', async () => {
    const { user, agent } = await newLearner();
    await startModule(agent, SLUG);
    const page = await getPlay(agent, SLUG);

    const res = await agent.post(`/training/${SLUG}/play`).type('form').send({ _csrf: page.csrf, step: 'x' });
    const array = await agent.post(`/training/${SLUG}/play`).type('form').send(`_csrf=${page.csrf}&step=0&step=0`);

    expect(res.headers.location).toBe(`/training/${SLUG}/play?notice=stale`);
    expect(array.headers.location).toBe(`/training/${SLUG}/play?notice=stale`);
    expect((await Attempt.findOne({ user: user._id }).lean())?.position?.step).toBe(0);
  });

  test('when Start is posted twice at once, then only one attempt is in progress', async () => {
    const { user, agent } = await newLearner();
    const overview = await agent.get(`/training/${SLUG}`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(overview.text)![1];

    await Promise.all([agent.post(`/training/${SLUG}/start`).type('form').send({ _csrf: csrf }), agent.post(`/training/${SLUG}/start`).type('form').send({ _csrf: csrf })]);

    expect(await Attempt.countDocuments({ user: user._id, status: 'in_progress' })).toBe(1);
  });
  test('when a page rendered before forms carried their position is posted (no `at`), then every move is stored as before', async () => {
    const { user, agent } = await newLearner();
    await startModule(agent, SLUG);
    const picked: string[] = [];
    for (let guard = 0; guard < 50; guard += 1) {
      const page = await getPlay(agent, SLUG);
      if (page.kind === 'results') break;
      const choice = page.kind === 'decision' ? page.choices[0] : undefined;
      if (choice) picked.push(choice);
      const res = await postMove(agent, SLUG, page, choice, { withoutAt: true });
      expect(res.headers.location).toBe(`/training/${SLUG}/play`);
    }

    expect(picked).toEqual(['notify', 'decline', 'refuse', 'log']);
    expect(await Attempt.findOne({ user: user._id }).lean()).toMatchObject({ status: 'passed', score: 100, points: 8, maxPoints: 8 });
    expect(await Completion.countDocuments({ user: user._id })).toBe(1);
  });

  test('when the form claims a position that is not the attempt’s (edited, or from another attempt or version), then only the real position decides what happens', async () => {
    const { user, agent } = await newLearner();
    await startModule(agent, SLUG);
    await postMove(agent, SLUG, await getPlay(agent, SLUG));
    const decision = await getPlay(agent, SLUG);
    expect(decision.at).toBe('v1.0.node.first');

    // A choice of the claimed node "second" does not exist at the real node "first": refused, nothing stored.
    const forged = await postMove(agent, SLUG, decision, 'decline', { at: 'v1.0.node.second' });
    const otherVersion = await postMove(agent, SLUG, decision, 'decline', { at: 'v2.0.node.first' });
    expect(forged.status).toBe(422);
    expect(otherVersion.status).toBe(422);
    expect((await Attempt.findOne({ user: user._id }).lean())?.decisions).toHaveLength(0);

    // A claim that is not a position at all is ignored: the move is checked against the stored attempt.
    const garbage = await postMove(agent, SLUG, decision, 'notify', { at: 'v1.0.node.first.x.y' });
    expect(garbage.headers.location).toBe(`/training/${SLUG}/play`);
    const attempt = await Attempt.findOne({ user: user._id }).lean();
    expect(attempt?.decisions.map((d) => [d.nodeId, d.choiceId, d.points])).toEqual([['first', 'notify', 2]]);
    expect(attempt).toMatchObject({ points: 2, maxPoints: 2 });
    expect(attempt?.position).toMatchObject({ nodeId: 'first', phase: 'feedback', choiceId: 'notify', step: 2 });

    // The decision page again (back button): its step is behind, whatever it claims.
    const stale = await postMove(agent, SLUG, decision, 'stall');
    expect(stale.headers.location).toBe(`/training/${SLUG}/play?notice=stale`);
    expect((await Attempt.findOne({ user: user._id }).lean())?.position).toMatchObject({ phase: 'feedback', step: 2 });
  });

  test('when `at` is sent as an operator object or an array, then the move is refused as unreadable and nothing changes', async () => {
    const { user, agent } = await newLearner();
    await startModule(agent, SLUG);
    const page = await getPlay(agent, SLUG);

    const json = await agent.post(`/training/${SLUG}/play`).set('X-CSRF-Token', page.csrf).send({ step: '0', at: { $gt: '' } });
    const array = await agent.post(`/training/${SLUG}/play`).type('form').send(`_csrf=${page.csrf}&step=0&at=v1.0.node.arrival&at=v1.0.node.arrival`);

    for (const res of [json, array]) expect(res.headers.location).toBe(`/training/${SLUG}/play?notice=stale`);
    expect((await Attempt.findOne({ user: user._id }).lean())?.position?.step).toBe(0);
  });
});
