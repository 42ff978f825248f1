import request from 'supertest';
import { AuditEvent } from '../../../src/components/audit';
import { Completion } from '../../../src/components/completions';
import { FacilitatedSession } from '../../../src/components/sessions';
import { discardSession } from '../../../src/components/sessions/session-discard';
import { finishSession } from '../../../src/components/sessions/session-finish';
import { toActor } from '../../../src/components/auth';
import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { FIXTURE_MODULES } from '../training/player.helpers';
import { createWorld, postAttendance, postFinish, schoolPath, SLUG, startSession, type World } from './sessions.helpers';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(FIXTURE_MODULES);
});
afterAll(async () => t.close());

const id = (doc: { _id: unknown }) => String(doc._id);
const idOf = (path: string) => path.split('/').pop()!;

async function sessionWith(w: World, people: { _id: unknown }[]): Promise<string> {
  const path = `${schoolPath(w)}/${await startSession(w.agent, id(w.school))}`;
  if (people.length > 0) expect((await postAttendance(w.agent, path, people.map(id))).status).toBe(303);
  return path;
}

async function postDiscard(agent: Agent, path: string, body: Record<string, string> = { confirm: 'yes' }, csrf?: string) {
  return agent.post(`${path}/discard`).type('form').send({ _csrf: csrf ?? (await csrfFor(agent, `${path}/discard`)), ...body });
}

describe('discarding an open session', () => {
  test('when the principal opens an open session, then it offers "Discard this session"; the page asks for confirmation', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, [w.custodian, w.driver]);
    expect((await w.agent.get(path)).text).toContain(`<a href="${path}/discard">Discard this session</a>`);
    const page = await w.agent.get(`${path}/discard`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Its attendance (2 people marked present) is deleted with it.');
    expect(page.text).toContain('name="_csrf"');
    expect(page.text).toContain('<label for="field-confirm"><input type="checkbox" id="field-confirm" name="confirm" value="yes"> Yes, discard this session and its attendance</label>');
  });

  test('when the box is not checked, then 422 with the error, and nothing changes', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, [w.custodian]);
    for (const body of [{}, { confirm: 'no' }, { confirm: ['yes', 'yes'] }] as Record<string, string>[]) {
      const res = await postDiscard(w.agent, path, body);
      expect(res.status).toBe(422);
      expect(res.text).toContain('Check the box to confirm that the session should be discarded.');
      expect(res.text).toContain('aria-invalid="true"');
    }
    expect(await FacilitatedSession.countDocuments({ _id: idOf(path) })).toBe(1);
    expect(await AuditEvent.countDocuments({ action: 'session.discarded' , 'target.id': idOf(path) })).toBe(0);
  });

  test('when confirmed, then the session and its attendance are gone, it is audited with ids and counts only, and the list says so', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, [w.custodian, w.driver, w.cook]);
    const res = await postDiscard(w.agent, path);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(schoolPath(w));
    expect(await FacilitatedSession.countDocuments({ _id: idOf(path) })).toBe(0);
    expect(await Completion.countDocuments({ district: w.district._id })).toBe(0);
    const audit = await AuditEvent.findOne({ action: 'session.discarded', 'target.id': idOf(path) }).lean();
    expect(audit).toMatchObject({ actor: w.principal._id, target: { kind: 'facilitated_session', id: idOf(path) } });
    expect(audit!.details).toEqual({ school: id(w.school), moduleSlug: SLUG, moduleVersion: 1, attendees: 3 });
    // No names, no attendee ids.
    for (const person of [w.custodian, w.driver, w.cook]) {
      expect(JSON.stringify(audit)).not.toContain(id(person));
      expect(JSON.stringify(audit)).not.toContain(person.name);
    }
    const list = await w.agent.get(res.headers.location);
    expect(list.text).toContain('Session discarded. Nothing was recorded.');
    expect(list.text).not.toContain(idOf(path));
    expect((await w.agent.get(path)).status).toBe(404);
    expect((await postDiscard(w.agent, path, { confirm: 'yes' }, await csrfFor(w.agent, schoolPath(w)))).status).toBe(404);
  });

  test('when the audit log is read in Spanish, then the event has its label', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, []);
    expect((await postDiscard(w.agent, path)).status).toBe(303);
    const admin = await signIn(t.app, w.admin.email);
    expect((await admin.get('/admin/audit?action=session.discarded')).text).toContain('Group session discarded');
    expect((await admin.get('/admin/audit?action=session.discarded&lang=es')).text).toContain('Sesión grupal descartada');
  });

  test('when a district admin discards a session of a school of the district, then it is gone', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, [w.custodian]);
    const admin = await signIn(t.app, w.admin.email);
    expect((await postDiscard(admin, path)).status).toBe(303);
    expect(await FacilitatedSession.countDocuments({ _id: idOf(path) })).toBe(0);
    expect(await AuditEvent.countDocuments({ action: 'session.discarded', 'target.id': idOf(path), actor: w.admin._id })).toBe(1);
  });
});

describe('refused', () => {
  test('when the session is finished, then the page explains, a post answers 409, and the session and its completions stay', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, [w.custodian, w.driver]);
    expect((await postFinish(w.agent, path)).status).toBe(303);
    expect((await w.agent.get(path)).text).not.toContain('/discard');
    const page = await w.agent.get(`${path}/discard`);
    expect(page.text).toContain('This session is finished: the completions it recorded stay, and it cannot be discarded.');
    expect(page.text).not.toContain('name="confirm"');
    const res = await postDiscard(w.agent, path, { confirm: 'yes' }, await csrfFor(w.agent, path));
    expect(res.status).toBe(409);
    expect(res.text).toContain('cannot be discarded');
    expect((await FacilitatedSession.findById(idOf(path)).lean())?.status).toBe('finished');
    expect(await Completion.countDocuments({ session: idOf(path) })).toBe(2);
    expect(await AuditEvent.countDocuments({ action: 'session.discarded', 'target.id': idOf(path) })).toBe(0);
  });

  test('when staff ask, then 403; another school\'s principal or another district\'s admin, 404; without CSRF, 403; anonymous, sign-in', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, [w.custodian]);
    const staff = await signIn(t.app, w.custodian.email);
    const other = await signIn(t.app, w.otherPrincipal.email);
    const foreignAdmin = await signIn(t.app, (await createUser(w.foreigner.district!, { role: 'district_admin' })).email);
    expect((await staff.get(`${path}/discard`)).status).toBe(403);
    expect((await postDiscard(staff, path, { confirm: 'yes' }, await csrfFor(staff, '/training'))).status).toBe(403);
    expect((await other.get(`${path}/discard`)).status).toBe(404);
    expect((await postDiscard(other, path, { confirm: 'yes' }, await csrfFor(other, `/school/${id(w.otherSchool)}/sessions`))).status).toBe(404);
    expect((await foreignAdmin.get(`${path}/discard`)).status).toBe(404);
    expect((await postDiscard(foreignAdmin, path, { confirm: 'yes' }, await csrfFor(foreignAdmin, '/admin/settings'))).status).toBe(404);
    expect((await w.agent.post(`${path}/discard`).type('form').send({ confirm: 'yes' })).status).toBe(403);
    const anonymous = await request(t.app).post(`${path}/discard`).type('form').send({ confirm: 'yes' });
    expect([303, 403]).toContain(anonymous.status);
    expect(await FacilitatedSession.countDocuments({ _id: idOf(path) })).toBe(1);
    expect(await AuditEvent.countDocuments({ action: 'session.discarded', 'target.id': idOf(path) })).toBe(0);
  });
});

describe('Discard and Finish at once', () => {
  test('when both are posted together, then exactly one wins: the session is either finished with its completions, or gone with none', async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < 6; round++) {
      const w = await createWorld(t.app);
      const path = await sessionWith(w, [w.custodian, w.driver, w.cook]);
      const admin = await signIn(t.app, w.admin.email);
      const [csrfFinish, csrfDiscard] = [await csrfFor(w.agent, `${path}/finish`), await csrfFor(admin, `${path}/discard`)];
      const order = round % 2 === 0;
      const finish = () => postFinish(w.agent, path, csrfFinish);
      const discard = () => postDiscard(admin, path, { confirm: 'yes' }, csrfDiscard);
      const [finished, discarded] = order ? await Promise.all([finish(), discard()]) : (await Promise.all([discard(), finish()])).reverse();
      const stored = await FacilitatedSession.findById(idOf(path)).lean();
      const completions = await Completion.countDocuments({ district: w.district._id });
      const audits = { finished: await AuditEvent.countDocuments({ action: 'session.finished', 'target.id': idOf(path) }), discarded: await AuditEvent.countDocuments({ action: 'session.discarded', 'target.id': idOf(path) }) };
      if (stored) {
        // Finish won: Discard refused, completions kept.
        expect(finished.status).toBe(303);
        expect(discarded.status).toBe(409);
        expect(stored.status).toBe('finished');
        expect(completions).toBe(3);
        expect(audits).toEqual({ finished: 1, discarded: 0 });
        outcomes.add('finish');
      } else {
        // Discard won: Finish refused, nothing written.
        expect(discarded.status).toBe(303);
        expect([404, 409]).toContain(finished.status);
        expect(completions).toBe(0);
        expect(audits).toEqual({ finished: 0, discarded: 1 });
        outcomes.add('discard');
      }
    }
    expect(outcomes.size).toBeGreaterThanOrEqual(1);
  });

  test('when the two services run at once past every page check, then one wins and the other is refused (409, or 404 once the session is gone), in either order', async () => {
    for (const discardFirst of [true, false, true, false]) {
      const w = await createWorld(t.app);
      const path = await sessionWith(w, [w.custodian, w.driver]);
      const principal = toActor(w.principal);
      const finish = finishSession(principal, id(w.school), idOf(path));
      const discard = discardSession(toActor(w.admin), id(w.school), idOf(path));
      const [first, second] = await Promise.allSettled(discardFirst ? [discard, finish] : [finish, discard]);
      const [discardResult, finishResult] = discardFirst ? [first, second] : [second, first];
      const stored = await FacilitatedSession.findById(idOf(path)).lean();
      const completions = await Completion.countDocuments({ district: w.district._id });
      if (stored) {
        expect(finishResult).toMatchObject({ status: 'fulfilled', value: { isFinishedNow: true, recorded: 2 } });
        expect(discardResult).toMatchObject({ status: 'rejected', reason: { status: 409 } });
        expect(completions).toBe(2);
      } else {
        expect(discardResult).toMatchObject({ status: 'fulfilled', value: { attendees: 2 } });
        expect(finishResult.status).toBe('rejected');
        expect([404, 409]).toContain((finishResult as PromiseRejectedResult).reason.status);
        expect(completions).toBe(0);
      }
    }
  });

  test('when Discard comes after Finish committed, then the service refuses with 409 and nothing changes', async () => {
    const w = await createWorld(t.app);
    const path = await sessionWith(w, [w.custodian]);
    expect((await finishSession(toActor(w.principal), id(w.school), idOf(path))).isFinishedNow).toBe(true);
    await expect(discardSession(toActor(w.principal), id(w.school), idOf(path))).rejects.toMatchObject({ status: 409 });
    expect(await Completion.countDocuments({ session: idOf(path) })).toBe(1);
  });
});
