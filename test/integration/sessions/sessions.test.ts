import { Types } from 'mongoose';
import { AuditEvent } from '../../../src/components/audit';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { Completion } from '../../../src/components/completions';
import { FacilitatedSession } from '../../../src/components/sessions';
import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createUser } from '../../helpers/factories';
import { csrfFor, signIn } from '../../helpers/session';
import { pdfText } from '../../helpers/pdf';
import { complete } from '../assignments/compliance-fixtures';
import { FIXTURE_MODULES, playToResults, startModule } from '../training/player.helpers';
import { binary, createWorld, formBody, postAttendance, postFinish, schoolPath, SLUG, startSession, today, type World } from './sessions.helpers';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(FIXTURE_MODULES);
});
afterAll(async () => t.close());

const id = (doc: { _id: unknown }) => String(doc._id);

/** A session at the world's school with the given people marked present. */
async function sessionWith(w: World, people: { _id: unknown }[]): Promise<string> {
  const sessionId = await startSession(w.agent, id(w.school));
  const path = `${schoolPath(w)}/${sessionId}`;
  const res = await postAttendance(w.agent, path, people.map(id));
  expect(res.status).toBe(303);
  return path;
}

describe('starting and listing sessions', () => {
  test('when a principal opens the form, then the modules are offered and the date defaults to today in the district', async () => {
    const w = await createWorld(t.app);
    const res = await w.agent.get(`${schoolPath(w)}/new`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`value="${SLUG}"`);
    expect(res.text).toContain(`name="sessionDate" type="date" required value="${today()}"`);
    expect(res.text).toMatch(/<legend[^>]*>Training module<\/legend>/);
  });

  test('when a principal starts a session, then it is stored open with the current version, audited, and listed for the school', async () => {
    const w = await createWorld(t.app);
    const sessionId = await startSession(w.agent, id(w.school));
    const stored = await FacilitatedSession.findById(sessionId).lean();
    expect(stored).toMatchObject({ moduleSlug: SLUG, moduleVersion: 1, sessionDate: today(), status: 'open', attendees: [] });
    expect(String(stored!.facilitator)).toBe(id(w.principal));
    expect(String(stored!.school)).toBe(id(w.school));
    expect(await AuditEvent.countDocuments({ action: 'session.created', 'target.id': sessionId })).toBe(1);
    const list = await w.agent.get(schoolPath(w));
    expect(list.status).toBe(200);
    expect(list.text).toContain('Fixture basics');
    expect(list.text).toContain('Pat Principal');
    expect(list.text).toContain('Open');
    expect((await w.agent.get(`/school/${id(w.school)}`)).text).toContain(`href="${schoolPath(w)}"`);
  });

  test('when the form is invalid, then 422 with the errors and the values as entered, and nothing is stored', async () => {
    const w = await createWorld(t.app);
    const csrf = await csrfFor(w.agent, `${schoolPath(w)}/new`);
    const noModule = await w.agent.post(schoolPath(w)).type('form').send({ _csrf: csrf, sessionDate: '2026-02-30' });
    expect(noModule.status).toBe(422);
    expect(noModule.text).toContain('error-summary');
    expect(noModule.text).toContain('Choose a training module.');
    expect(noModule.text).toContain('value="2026-02-30"');
    const unknown = await w.agent.post(schoolPath(w)).type('form').send({ _csrf: csrf, module: 'no-such-module', sessionDate: today() });
    expect(unknown.status).toBe(422);
    const farAway = await w.agent.post(schoolPath(w)).type('form').send({ _csrf: csrf, module: SLUG, sessionDate: '2099-01-01' });
    expect(farAway.status).toBe(422);
    expect(farAway.text).toContain('more than 60 days ahead');
    expect(farAway.text).toContain('value="2099-01-01"');
    const injected = await w.agent.post(schoolPath(w)).send({ _csrf: csrf, module: { $gt: '' }, sessionDate: today() });
    expect(injected.status).toBe(422);
    expect(await FacilitatedSession.countDocuments({ school: w.school._id })).toBe(0);
  });
});

describe('the presenter view', () => {
  test('when the facilitator steps through, then every choice of every decision shows with its reveal, placeholders filled, and no answers are recorded', async () => {
    const w = await createWorld(t.app);
    const path = `${schoolPath(w)}/${await startSession(w.agent, id(w.school))}`;
    const first = await w.agent.get(`${path}/present`);
    expect(first.status).toBe(200);
    expect(first.text).toContain('Step 1 of');
    expect(first.text).toContain('Follow Board Policy 5145.');
    expect(first.text).toContain('General training, not legal advice. To be reviewed by district counsel: no review of this version is recorded yet.');
    expect(first.text).toContain('Version 1 · current as of March 1, 2026');
    expect(first.text).toContain('rel="next"');
    const total = Number(/Step 1 of (\d+)/.exec(first.text)![1]);
    const pages: string[] = [first.text];
    for (let step = 2; step <= total; step++) {
      const res = await w.agent.get(`${path}/present?step=${step}`);
      expect(res.status).toBe(200);
      pages.push(res.text);
    }
    const decision = pages.find((html) => html.includes('What do you do first?'))!;
    expect(decision).toContain('Call Ms. Rivera at');
    expect(decision).toContain('555-0100');
    expect(decision).toContain('Ask them to wait');
    expect(decision).toContain('Call the student to the office');
    expect(decision.match(/<details class="reveal/g)).toHaveLength(3);
    expect(decision).toContain('Best choice');
    expect(decision).toContain('Acceptable, but not the best choice');
    expect(decision).toContain('Not the right choice');
    expect(decision).toContain('Right: escalate to Ms. Rivera.');
    expect(decision).toContain('Never produce a student.');
    // What follows the wrong choice, and the facts with their sources.
    expect(decision).toContain('The student is now at the counter.');
    expect(decision).toContain('AB 49 (2025)');
    expect(decision).not.toContain('name="choice"');
    const all = pages.join('\n');
    for (const text of ['They ask to walk to the classrooms.', 'No consent without a judicial warrant.', 'A caller asks for a student', 'The administrator takes over.', 'Escalate to Ms. Rivera; do not decide alone.', 'Share no student information.']) {
      expect(all).toContain(text);
    }
    expect(pages[total - 1]).toContain('Key takeaways');
    expect(pages[total - 1]).toContain('not legal advice');
    expect((await w.agent.get(`${path}/present?step=${total + 1}`)).status).toBe(404);
    expect((await w.agent.get(`${path}/present?step=abc`)).status).toBe(400);
    const handout = await w.agent.get(`${path}/present/all`);
    expect(handout.status).toBe(200);
    expect(handout.text.match(/<details class="reveal[^>]*open>/g)?.length).toBe(all.match(/<details class="reveal/g)?.length);
    expect(handout.text).toContain('Never produce a student.');
    const stored = await FacilitatedSession.findById(path.split('/').pop()).lean();
    expect(stored!.attendees).toEqual([]);
  });

  test('when the language is switched to Spanish, then the module is presented in Spanish with the Spanish contact names', async () => {
    const w = await createWorld(t.app);
    const path = `${schoolPath(w)}/${await startSession(w.agent, id(w.school))}`;
    const first = await w.agent.get(`${path}/present?lang=es`);
    expect(first.text).toContain('Paso 1 de');
    expect(first.text).toContain('Siga Board Policy 5145.');
    const steps = Number(/Paso 1 de (\d+)/.exec(first.text)![1]);
    let found = '';
    for (let step = 2; step <= steps && !found; step++) {
      const res = await w.agent.get(`${path}/present?step=${step}`);
      if (res.text.includes('¿Qué hace primero?')) found = res.text;
    }
    expect(found).toContain('Llame a la Sra. Rivera al');
    expect(found).toContain('Nunca presente a un alumno.');
    expect(found).toContain('Mostrar la opción A');
  });
});

describe('attendance and finishing', () => {
  test('when attendance is taken and the session finished, then exactly the people present get a facilitated completion, compliance is completed at once, and it is audited', async () => {
    const w = await createWorld(t.app);
    const sessionId = await startSession(w.agent, id(w.school));
    const path = `${schoolPath(w)}/${sessionId}`;
    const empty = await postFinish(w.agent, path);
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('No one is marked present yet');
    expect((await FacilitatedSession.findById(sessionId).lean())!.status).toBe('open');
    const checklist = await w.agent.get(`${path}/attendance`);
    expect(checklist.status).toBe(200);
    for (const person of ['Carla Custodian', 'Dario Driver', 'Fatima Food', 'Pat Principal']) expect(checklist.text).toContain(person);
    for (const person of ['Ines Inactive', 'Elena Elsewhere']) expect(checklist.text).not.toContain(person);
    expect(checklist.text).toMatch(/<legend>Staff of this school \(\d+ people\)<\/legend>/);

    expect((await postAttendance(w.agent, path, [id(w.custodian), id(w.driver)])).status).toBe(303);
    const confirm = await w.agent.get(`${path}/finish`);
    expect(confirm.text).toContain('2 people are marked present');
    const csrf = await csrfFor(w.agent, `${path}/finish`);
    const unconfirmed = await w.agent.post(`${path}/finish`).type('form').send({ _csrf: csrf });
    expect(unconfirmed.status).toBe(422);
    expect(await Completion.countDocuments({ moduleSlug: SLUG })).toBe(0);

    const finished = await postFinish(w.agent, path);
    expect(finished.status).toBe(303);
    const completions = await Completion.find({ moduleSlug: SLUG, district: w.district._id }).lean();
    expect(completions.map((c) => String(c.user)).sort()).toEqual([id(w.custodian), id(w.driver)].sort());
    for (const c of completions) {
      expect(c).toMatchObject({ method: 'facilitated', moduleVersion: 1 });
      expect(String(c.session)).toBe(sessionId);
      expect(String(c.facilitator)).toBe(id(w.principal));
      expect(String(c.school)).toBe(id(w.school));
      expect(c.attempt).toBeUndefined();
      expect(c.score).toBeUndefined();
      expect(c.certificateCode).toMatch(/^[A-Z2-7]{26}$/);
    }
    expect(completions[0].certificateCode).not.toBe(completions[1].certificateCode);
    const rows = await ComplianceRow.find({ assignment: w.assignment._id }).lean();
    const byUser = new Map(rows.map((r) => [String(r.user), r]));
    expect(byUser.get(id(w.custodian))).toMatchObject({ hasSatisfying: true, completion: { moduleVersion: 1, method: 'facilitated' } });
    expect(byUser.get(id(w.driver))).toMatchObject({ hasSatisfying: true });
    expect(byUser.get(id(w.cook))).toMatchObject({ hasSatisfying: false });
    const stored = await FacilitatedSession.findById(sessionId).lean();
    expect(stored).toMatchObject({ status: 'finished', results: { recorded: 2, alreadyTrained: 0, notEligible: 0 } });
    const audit = await AuditEvent.findOne({ action: 'session.finished', 'target.id': sessionId }).lean();
    expect(audit?.details).toMatchObject({ recorded: 2, alreadyTrained: 0, present: 2, moduleSlug: SLUG, moduleVersion: 1 });
    expect(JSON.stringify(audit?.details)).not.toContain('Carla');

    const page = await w.agent.get(path);
    expect(page.text).toContain('2 people recorded as trained');
    expect(page.text).toContain('Carla Custodian');
    const school = await w.agent.get(`/school/${id(w.school)}?status=completed`);
    expect(school.text).toContain('Carla Custodian');
    expect(school.text).toContain('Group session');
    const person = await w.agent.get(`/school/${id(w.school)}/staff/${id(w.custodian)}`);
    expect(person.text).toContain('Group session');
    expect(person.text).not.toContain('null%');
    const csv = await w.agent.get(`/reports/compliance.csv?school=${id(w.school)}`);
    expect(csv.status).toBe(200);
    expect(csv.text.split('\n').find((line) => line.includes('Carla Custodian'))).toContain('Group session');
  });

  test('when someone already holds a completion of the version, then they keep theirs and are counted as already trained', async () => {
    const w = await createWorld(t.app);
    const before = await complete(w.driver, SLUG, 1, new Date('2026-01-15T18:00:00Z'), 88);
    const path = await sessionWith(w, [w.custodian, w.driver]);
    expect((await postFinish(w.agent, path)).status).toBe(303);
    const kept = await Completion.findById(before._id).lean();
    expect(kept).toMatchObject({ score: 88, certificateCode: before.certificateCode, completedAt: before.completedAt });
    expect(kept!.method).toBeUndefined();
    expect(kept!.session).toBeUndefined();
    expect(await Completion.countDocuments({ user: w.driver._id })).toBe(1);
    const stored = await FacilitatedSession.findById(path.split('/').pop()).lean();
    expect(stored!.results).toMatchObject({ recorded: 1, alreadyTrained: 1 });
    expect((await w.agent.get(path)).text).toContain('Already trained: 1');
  });

  test('when Finish is posted twice, or twice at once by two facilitators, then each person gets exactly one completion', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, [w.custodian, w.driver, w.cook]);
    const admin = await signIn(t.app, w.admin.email);
    const [csrfA, csrfB] = [await csrfFor(w.agent, `${path}/finish`), await csrfFor(admin, `${path}/finish`)];
    const results = await Promise.all([postFinish(w.agent, path, csrfA), postFinish(admin, path, csrfB), postFinish(w.agent, path, csrfA)]);
    expect(results.map((r) => r.status)).toEqual([303, 303, 303]);
    expect(await Completion.countDocuments({ moduleSlug: SLUG, district: w.district._id })).toBe(3);
    for (const person of [w.custodian, w.driver, w.cook]) expect(await Completion.countDocuments({ user: person._id })).toBe(1);
    expect(await AuditEvent.countDocuments({ action: 'session.finished' , 'target.id': path.split('/').pop() })).toBe(1);
    const again = await postFinish(w.agent, path);
    expect(again.status).toBe(303);
    expect((await w.agent.get(again.headers.location)).text).toContain('already finished');
    expect(await Completion.countDocuments({ moduleSlug: SLUG, district: w.district._id })).toBe(3);
  });

  test('when a session is finished, then its attendance is read-only', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, [w.custodian]);
    expect((await postFinish(w.agent, path)).status).toBe(303);
    const csrf = await csrfFor(w.agent, path);
    const edit = await w.agent.post(`${path}/attendance`).type('form').send(formBody({ _csrf: csrf, attendees: [id(w.driver)], shown: [id(w.driver)] }));
    expect(edit.status).toBe(409);
    const stored = await FacilitatedSession.findById(path.split('/').pop()).lean();
    expect(stored!.attendees.map(String)).toEqual([id(w.custodian)]);
    const view = await w.agent.get(`${path}/attendance`);
    expect(view.status).toBe(200);
    expect(view.text).not.toContain('name="attendees"');
    expect(view.text).toContain('can no longer be changed');
    expect(await Completion.countDocuments({ user: w.driver._id })).toBe(0);
  });

  test('when someone marked present leaves the school before Finish, then they are not recorded', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, [w.custodian, w.driver]);
    await w.driver.updateOne({ active: false });
    expect((await postFinish(w.agent, path)).status).toBe(303);
    expect(await Completion.countDocuments({ user: w.driver._id })).toBe(0);
    expect(await Completion.countDocuments({ user: w.custodian._id })).toBe(1);
    expect((await FacilitatedSession.findById(path.split('/').pop()).lean())!.results).toMatchObject({ recorded: 1, notEligible: 1 });
  });

  test('when a session is dated ahead, then it cannot be finished yet', async () => {
    const w = await createWorld(t.app);
    const tomorrow = new Date(Date.now() + 36 * 3600_000).toISOString().slice(0, 10);
    const sessionId = await startSession(w.agent, id(w.school), { sessionDate: tomorrow > today() ? tomorrow : '2099-01-01' });
    const path = `${schoolPath(w)}/${sessionId}`;
    await postAttendance(w.agent, path, [id(w.custodian)]);
    const res = await postFinish(w.agent, path);
    expect(res.status).toBe(422);
    expect(res.text).toContain('on or after the day it is held');
    expect(await Completion.countDocuments({ user: w.custodian._id })).toBe(0);
    expect((await FacilitatedSession.findById(sessionId).lean())!.status).toBe('open');
  });

  test('when the job-title filter is used, then saving and "mark all shown" change only the people shown', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, [w.custodian]);
    const filtered = await w.agent.get(`${path}/attendance?jobTitle=bus_driver`);
    expect(filtered.text).toContain('Dario Driver');
    expect(filtered.text).not.toContain('Carla Custodian');
    const all = await postAttendance(w.agent, path, [], [id(w.driver)], { intent: 'all_shown', jobTitle: 'bus_driver' });
    expect(all.status).toBe(303);
    expect(all.headers.location).toBe(`${path}/attendance?jobTitle=bus_driver`);
    let stored = await FacilitatedSession.findById(path.split('/').pop()).lean();
    expect(stored!.attendees.map(String).sort()).toEqual([id(w.custodian), id(w.driver)].sort());
    await postAttendance(w.agent, path, [], [id(w.driver)], { intent: 'none_shown' });
    stored = await FacilitatedSession.findById(path.split('/').pop()).lean();
    expect(stored!.attendees.map(String)).toEqual([id(w.custodian)]);
  });
});

describe('refused input', () => {
  test.each([
    ['another district', (w: World) => [id(w.foreigner)]],
    ['another school', (w: World) => [id(w.elsewhere)]],
    ['an inactive person', (w: World) => [id(w.inactive)]],
    ['an unknown id', () => [new Types.ObjectId().toHexString()]],
  ])('when the list names %s, then 422 with the checks kept and nothing saved', async (_what, others) => {
    const w = await createWorld(t.app);
    const sessionId = await startSession(w.agent, id(w.school));
    const path = `${schoolPath(w)}/${sessionId}`;
    const res = await postAttendance(w.agent, path, [id(w.custodian), ...others(w)]);
    expect(res.status).toBe(422);
    expect(res.text).toContain('not an active staff member of this school');
    expect(res.text).toMatch(new RegExp(`id="person-${id(w.custodian)}" name="attendees" value="${id(w.custodian)}" checked`));
    expect((await FacilitatedSession.findById(sessionId).lean())!.attendees).toEqual([]);
  });

  test('when the attendee list is an operator object or a malformed id, then 422 and nothing saved', async () => {
    const w = await createWorld(t.app);
    const sessionId = await startSession(w.agent, id(w.school));
    const path = `${schoolPath(w)}/${sessionId}`;
    const csrf = await csrfFor(w.agent, `${path}/attendance`);
    const json = await w.agent.post(`${path}/attendance`).send({ _csrf: csrf, attendees: { $gt: '' }, shown: [] });
    expect(json.status).toBe(422);
    const bracket = await w.agent.post(`${path}/attendance`).type('form').send(`_csrf=${encodeURIComponent(csrf)}&attendees[$gt]=&attendees=nope`);
    expect(bracket.status).toBe(422);
    const intent = await w.agent.post(`${path}/attendance`).type('form').send(formBody({ _csrf: csrf, attendees: [id(w.custodian)], intent: 'everyone' }));
    expect(intent.status).toBe(422);
    expect((await FacilitatedSession.findById(sessionId).lean())!.attendees).toEqual([]);
  });

  test('when a form is posted without its CSRF token, then 403 and nothing changes', async () => {
    const w = await createWorld(t.app);
    const sessionId = await startSession(w.agent, id(w.school));
    const path = `${schoolPath(w)}/${sessionId}`;
    expect((await w.agent.post(schoolPath(w)).type('form').send({ module: SLUG, sessionDate: today() })).status).toBe(403);
    expect((await w.agent.post(`${path}/attendance`).type('form').send(formBody({ attendees: [id(w.custodian)], shown: [id(w.custodian)] }))).status).toBe(403);
    await postAttendance(w.agent, path, [id(w.custodian)]);
    expect((await w.agent.post(`${path}/finish`).type('form').send({ confirm: 'yes' })).status).toBe(403);
    expect(await FacilitatedSession.countDocuments({ school: w.school._id })).toBe(1);
    expect(await Completion.countDocuments({ user: w.custodian._id })).toBe(0);
  });
});

describe('who may run sessions', () => {
  test('when staff ask, then 403; a principal of another school or an admin of another district, 404; anonymous, sign-in', async () => {
    const w = await createWorld(t.app);
    const sessionId = await startSession(w.agent, id(w.school));
    const path = `${schoolPath(w)}/${sessionId}`;
    const pages = [schoolPath(w), `${schoolPath(w)}/new`, path, `${path}/present`, `${path}/present/all`, `${path}/attendance`, `${path}/finish`];
    const staff = await signIn(t.app, w.custodian.email);
    const other = await signIn(t.app, w.otherPrincipal.email);
    const outsider = await createUser(w.foreigner.district!, { role: 'district_admin' });
    const foreignAdmin = await signIn(t.app, outsider.email);
    for (const page of pages) {
      expect([page, (await staff.get(page)).status]).toEqual([page, 403]);
      expect([page, (await other.get(page)).status]).toEqual([page, 404]);
      expect([page, (await foreignAdmin.get(page)).status]).toEqual([page, 404]);
    }
    const anonymous = await (await import('supertest')).default(t.app).get(path);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toContain('/login');
    // The other school's principal cannot act on it either, with a valid token of their own.
    const csrf = await csrfFor(other, `/school/${id(w.otherSchool)}/sessions/new`);
    expect((await other.post(`${path}/attendance`).type('form').send(formBody({ _csrf: csrf, attendees: [id(w.custodian)], shown: [id(w.custodian)] }))).status).toBe(404);
    expect((await other.post(`${path}/finish`).type('form').send({ _csrf: csrf, confirm: 'yes' })).status).toBe(404);
    expect((await other.get(`/school/${id(w.otherSchool)}/sessions/${sessionId}`)).status).toBe(404);
    // A district admin of the district may run it.
    const admin = await signIn(t.app, w.admin.email);
    expect((await admin.get(path)).status).toBe(200);
    expect((await FacilitatedSession.findById(sessionId).lean())!.attendees).toEqual([]);
  });
});

describe('certificates of a facilitated completion', () => {
  test('when an attendee looks, then /training shows the group session, the PDF and the verify page name it, and a later online pass turns it into a played completion', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, [w.custodian]);
    expect((await postFinish(w.agent, path)).status).toBe(303);
    const { certificateCode } = (await Completion.findOne({ user: w.custodian._id }).lean())!;
    const learner = await signIn(t.app, w.custodian.email);
    const list = await learner.get('/training');
    expect(list.text).toContain('Trained in a group session on');
    const overview = await learner.get(`/training/${SLUG}`);
    expect(overview.text).toContain(`/training/certificates/${certificateCode}.pdf`);
    const pdf = await binary(learner.get(`/training/certificates/${certificateCode}.pdf`));
    expect(pdf.status).toBe(200);
    const { text } = await pdfText(pdf.body as Buffer);
    expect(text).toContain('Carla Custodian');
    expect(text).toContain('facilitated group session');
    expect(text).toContain('Facilitated by Pat Principal');
    expect(text).not.toContain('Score');
    const verify = await (await import('supertest')).default(t.app).get(`/verify/${certificateCode}`);
    expect(verify.status).toBe(200);
    expect(verify.text).toContain('Completed in a facilitated group session on');
    expect(verify.text).toContain('Pat Principal');
    const spanish = await (await import('supertest')).default(t.app).get(`/verify/${certificateCode}?lang=es`);
    expect(spanish.text).toContain('Completada en una sesión grupal facilitada');

    await startModule(learner, SLUG);
    await playToResults(learner, SLUG, (choices) => choices[0]);
    const renewed = await Completion.findOne({ user: w.custodian._id }).lean();
    expect(renewed).toMatchObject({ method: 'played', certificateCode });
    expect(renewed!.score).toEqual(expect.any(Number));
    expect(renewed!.session).toBeUndefined();
    expect(renewed!.facilitator).toBeUndefined();
    expect((await (await import('supertest')).default(t.app).get(`/verify/${certificateCode}`)).text).not.toContain('facilitated group session');
  });
});
