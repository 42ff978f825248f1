import type { Types } from 'mongoose';
import { forgetSessionActors } from '../../../src/components/auth';
import { Attempt, Completion } from '../../../src/components/completions';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { prepareTrainingContent } from '../../../src/components/training';
import { User } from '../../../src/components/users';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { createAssignment } from '../assignments/compliance-fixtures';
import { FIXTURE_MODULES, getPlay, playToResults, postMove, startModule } from './player.helpers';

/**
 * Where a substitute's training is recorded: the attempt and the completion name the school they were working at
 * when they played ("Working at", session only), else their first school. Decision insights count the attempt
 * there; their compliance is per person × assignment, so the completion counts at each of their schools.
 */
let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let adams: Awaited<ReturnType<typeof createSchool>>;
const agents: Record<string, Agent> = {};

const SLUG = 'fixture-basics';
const id = (doc: { _id: unknown }) => String(doc._id);
const best = (choices: string[]) => (['notify', 'decline', 'refuse', 'log'].find((c) => choices.includes(c)) ?? choices[0]);

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(FIXTURE_MODULES);
  district = await createDistrict({ name: 'Records Unified' });
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  adams = await createSchool(district, { code: 'ADA', name: 'Adams High' });
  const people = {
    admin: await createUser(district, { role: 'district_admin' }),
    lin: await createUser(district, { role: 'principal', schools: [lincoln] }),
    roo: await createUser(district, { role: 'principal', schools: [roosevelt] }),
    ada: await createUser(district, { role: 'principal', schools: [adams] }),
  };
  for (const [key, person] of Object.entries(people)) agents[key] = await signIn(t.app, person.email);
  await createAssignment(district, { moduleSlug: SLUG, due: { kind: 'fixed', date: '2099-06-30' } });
});
afterAll(async () => t.close());

async function substitute(schools: { _id: unknown }[] = [lincoln, roosevelt]) {
  const user = await createUser(district, { schools, jobTitle: 'substitute_teacher' });
  return { user, agent: await signIn(t.app, user.email) };
}

async function chooseSchool(agent: Agent, school: { _id: unknown }) {
  const csrf = await csrfFor(agent, '/training');
  const res = await agent.post('/training/working-at').type('form').send({ _csrf: csrf, school: id(school) });
  expect(res.status).toBe(303);
}

async function passModule(agent: Agent) {
  expect((await startModule(agent, SLUG)).status).toBe(303);
  const { page } = await playToResults(agent, SLUG, best);
  expect(page.html).toContain('You passed');
}

/** Stands at the module's first decision (the attempt is started). */
async function atDecision(agent: Agent) {
  expect((await startModule(agent, SLUG)).status).toBe(303);
  const intro = await getPlay(agent, SLUG);
  expect((await postMove(agent, SLUG, intro)).status).toBe(303);
}

const stored = async (user: { _id: Types.ObjectId }) => ({
  attempt: await Attempt.findOne({ user: user._id, moduleSlug: SLUG }).sort({ startedAt: -1 }).lean(),
  completion: await Completion.findOne({ user: user._id, moduleSlug: SLUG }).lean(),
});

describe('where an attempt and its completion are recorded', () => {
  test('when the substitute works at Roosevelt and passes, then the attempt and the completion are Roosevelt’s', async () => {
    const { user, agent } = await substitute();
    await chooseSchool(agent, roosevelt);
    await passModule(agent);
    const { attempt, completion } = await stored(user);
    expect(attempt).toMatchObject({ status: 'passed' });
    expect(String(attempt?.school)).toBe(id(roosevelt));
    expect(String(completion?.school)).toBe(id(roosevelt));
  });

  test('when no school is chosen, then their first school', async () => {
    const { user, agent } = await substitute([roosevelt, lincoln]);
    await passModule(agent);
    const { attempt, completion } = await stored(user);
    expect(String(attempt?.school)).toBe(id(roosevelt));
    expect(String(completion?.school)).toBe(id(roosevelt));
  });

  test('when their first school is closed (inactive), then their first active school, whose contacts the training names', async () => {
    const closed = await createSchool(district, { code: 'CLO', name: 'Closed Campus', active: false });
    const { user, agent } = await substitute([closed, roosevelt]);
    await passModule(agent);
    const { attempt, completion } = await stored(user);
    expect(String(attempt?.school)).toBe(id(roosevelt));
    expect(String(completion?.school)).toBe(id(roosevelt));
  });

  test('when they switch school in the middle of an attempt, then the completion stays with the attempt’s school', async () => {
    const { user, agent } = await substitute();
    await chooseSchool(agent, roosevelt);
    await atDecision(agent);
    await chooseSchool(agent, lincoln);
    await playToResults(agent, SLUG, best);
    const { attempt, completion } = await stored(user);
    expect(String(attempt?.school)).toBe(id(roosevelt));
    expect(String(completion?.school)).toBe(id(roosevelt));
  });

  test('when the attempt’s school is taken off their account before they finish, then the completion is recorded where they work now', async () => {
    const { user, agent } = await substitute([lincoln, roosevelt, adams]);
    await chooseSchool(agent, roosevelt);
    await atDecision(agent);
    await chooseSchool(agent, adams);
    await User.updateOne({ _id: user._id }, { $set: { schools: [lincoln._id, adams._id] } });
    forgetSessionActors([String(user._id)]);
    await playToResults(agent, SLUG, best);
    const { attempt, completion } = await stored(user);
    expect(String(attempt?.school)).toBe(id(roosevelt));
    expect(String(completion?.school)).toBe(id(adams));
  });

  test('when the chosen school is taken off their account, then the next attempt is recorded at their first school', async () => {
    const { user, agent } = await substitute();
    await chooseSchool(agent, roosevelt);
    await User.updateOne({ _id: user._id }, { $set: { schools: [lincoln._id] } });
    forgetSessionActors([String(user._id)]);
    await passModule(agent);
    const { attempt, completion } = await stored(user);
    expect(String(attempt?.school)).toBe(id(lincoln));
    expect(String(completion?.school)).toBe(id(lincoln));
  });
});

describe('what reads it', () => {
  let sam: Awaited<ReturnType<typeof createUser>>;
  const own: Record<string, Awaited<ReturnType<typeof createSchool>>> = {};

  beforeAll(async () => {
    // A district of its own, so the counts below are the substitute's alone.
    const other = await createDistrict({ name: 'Two Schools Unified' });
    const west = (own.west = await createSchool(other, { code: 'WST', name: 'West Elementary' }));
    const east = (own.east = await createSchool(other, { code: 'EST', name: 'East Middle' }));
    const north = (own.north = await createSchool(other, { code: 'NTH', name: 'North High' }));
    for (const [key, role, schools] of [
      ['ownAdmin', 'district_admin', []],
      ['west', 'principal', [west]],
      ['east', 'principal', [east]],
      ['north', 'principal', [north]],
    ] as const) {
      const person = await createUser(other, { role, schools: [...schools] });
      agents[key] = await signIn(t.app, person.email);
    }
    await createAssignment(other, { moduleSlug: SLUG, due: { kind: 'fixed', date: '2099-06-30' } });
    sam = await createUser(other, { name: 'Sam Substitute', schools: [west, east], jobTitle: 'substitute_teacher' });
    const agent = await signIn(t.app, sam.email);
    await chooseSchool(agent, east);
    await passModule(agent);
  });

  test('when the substitute passed while working at East, then the completion counts at West and at East, and once in the district', async () => {
    const row = await ComplianceRow.findOne({ user: sam._id }).lean();
    expect(row).toMatchObject({ hasSatisfying: true });
    expect(row?.schools.map(String)).toEqual([id(own.west), id(own.east)]);
    const west = await agents.west.get(`/school/${id(own.west)}`);
    const east = await agents.east.get(`/school/${id(own.east)}`);
    expect([west.status, east.status]).toEqual([200, 200]);
    expect(west.text).toContain('1 of 1 required trainings completed');
    expect(east.text).toContain('1 of 1 required trainings completed');
    const all = await agents.ownAdmin.get('/district');
    expect(all.text).toContain('1 of 1 required trainings completed');
  });

  test('when decision insights are read, then East counts the substitute’s attempt and West does not; the district counts it once', async () => {
    const at = (school: { _id: unknown }) => agents.ownAdmin.get(`/reports/decisions?module=${SLUG}&school=${id(school)}`);
    const [east, west, all] = [await at(own.east), await at(own.west), await agents.ownAdmin.get(`/reports/decisions?module=${SLUG}`)];
    expect([east.status, west.status, all.status]).toEqual([200, 200, 200]);
    expect(east.text).toContain('Based on 1 finished attempt.');
    expect(west.text).toContain('No finished attempts of this version yet.');
    expect(all.text).toContain('Based on 1 finished attempt.');
    // A principal of West sees their own school's figures: none of the substitute's.
    const ownWest = await agents.west.get(`/reports/decisions?module=${SLUG}`);
    expect(ownWest.text).toContain('No finished attempts of this version yet.');
  });

  test('when principals download the certificate, then both of the substitute’s principals may, another school’s may not (404)', async () => {
    const completion = await Completion.findOne({ user: sam._id }).lean();
    const url = `/training/certificates/${completion?.certificateCode}.pdf`;
    expect((await agents.east.get(url)).status).toBe(200);
    expect((await agents.west.get(url)).status).toBe(200);
    expect((await agents.north.get(url)).status).toBe(404);
  });
});
