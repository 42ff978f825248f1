import { Types } from 'mongoose';
import { Attempt } from '../../../src/components/completions';
import { District } from '../../../src/components/districts';
import { Region } from '../../../src/components/regions';
import { School } from '../../../src/components/schools';
import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { FIXTURE_MODULES, playToResults, startModule } from '../training/player.helpers';

const SLUG = 'fixture-basics';
// The best answer's label, with the district's default contact filled in (placeholders come from settings).
const NOTIFY = "Call your principal or site administrator at (see your site&#39;s emergency card)";
let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let admin: Agent;
let principal: Agent;

type Pick = [scenarioId: string, nodeId: string, choiceId: string];

/** A finished (or in-progress) attempt with the given decisions, as the player stores them. */
async function attempt(user: { _id: Types.ObjectId; district: Types.ObjectId; schools?: Types.ObjectId[] | null }, picks: Pick[], status: 'passed' | 'failed' | 'in_progress' = 'passed', version = 1) {
  const at = new Date('2026-10-01T16:00:00Z');
  await Attempt.create({
    user: user._id,
    district: user.district,
    school: user.schools?.[0],
    moduleSlug: SLUG,
    moduleVersion: version,
    status,
    position: { scenarioIndex: 1, nodeId: 'wrap-up', step: 9, phase: status === 'in_progress' ? 'node' : 'results' },
    decisions: picks.map(([scenarioId, nodeId, choiceId]) => ({ scenarioId, nodeId, choiceId, outcome: choiceId === 'call-student' || choiceId === 'give' || choiceId === 'let-in' || choiceId === 'forget' ? 'wrong' : choiceId === 'stall' ? 'acceptable' : 'best', points: 0, at })),
    startedAt: at,
    ...(status === 'in_progress' ? {} : { finishedAt: at, score: 80 }),
  });
}

/** The figures of one decision point as the page prints them: answer label → times chosen. */
function countsAt(html: string, anchor: string): Record<string, number> {
  const start = html.indexOf(`id="${anchor}"`);
  expect(start).toBeGreaterThan(-1);
  const section = html.slice(start, html.indexOf('</article>', start));
  const counts: Record<string, number> = {};
  for (const row of section.matchAll(/<tr class="outcome-[a-z]+(?: top-wrong)?">\s*<td>([\s\S]*?)<\/td>[\s\S]*?<td class="num">(\d+)<\/td>/g)) {
    counts[row[1].replace(/<strong class="tag">[\s\S]*?<\/strong>/g, '').replace(/<[^>]+>/g, '').trim()] = Number(row[2]);
  }
  return counts;
}

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(FIXTURE_MODULES);
  district = await createDistrict({ name: 'Insight Unified' });
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  await createUser(district, { role: 'district_admin', email: 'admin@in.example' });
  await createUser(district, { role: 'principal', email: 'principal@in.example', schools: [lincoln] });
  const a = await createUser(district, { email: 'a@in.example', schools: [lincoln] });
  const b = await createUser(district, { email: 'b@in.example', schools: [lincoln] });
  const c = await createUser(district, { email: 'c@in.example', schools: [roosevelt] });
  const d = await createUser(district, { email: 'd@in.example', schools: [roosevelt] });
  // Finished: two chose to call the student (wrong), one notified the principal (best).
  await attempt(a, [['front-desk', 'first', 'call-student'], ['front-desk', 'second', 'decline'], ['by-phone', 'q1', 'refuse']], 'failed');
  await attempt(a, [['front-desk', 'first', 'notify'], ['front-desk', 'second', 'decline']], 'passed');
  await attempt(c, [['front-desk', 'first', 'call-student'], ['front-desk', 'second', 'let-in']], 'failed');
  // Not counted: an attempt still in progress, and another district's attempt.
  await attempt(b, [['front-desk', 'first', 'stall']], 'in_progress');
  const elsewhere = await createDistrict({ name: 'Elsewhere' });
  const otherSchool = await createSchool(elsewhere, { code: 'ELS' });
  await attempt(await createUser(elsewhere, { email: 'x@else.example', schools: [otherSchool] }), [['front-desk', 'first', 'stall']], 'passed');
  void d;
  admin = await signIn(t.app, 'admin@in.example');
  principal = await signIn(t.app, 'principal@in.example');
});

afterAll(async () => {
  await t.close();
});

describe('GET /reports/decisions', () => {
  test('when the admin looks at the district, then each answer is counted over finished attempts of the district only, and the most common wrong answer is named', async () => {
    const res = await admin.get(`/reports/decisions?module=${SLUG}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Based on 3 finished attempts');
    expect(countsAt(res.text, 'd-1-first')).toEqual({ [NOTIFY]: 1, 'Ask them to wait': 0, 'Call the student to the office': 2 });
    expect(countsAt(res.text, 'd-1-second')).toEqual({ 'Decline politely': 2, 'Let them in': 1 });
    expect(countsAt(res.text, 'd-2-q1')).toEqual({ 'Share nothing': 1, 'Give it': 0 });
    // The hardest point first: a third chose the best answer at "first"; the top wrong answer is named there.
    const hardest = res.text.slice(res.text.indexOf('id="hardest-heading"'), res.text.indexOf('id="all-heading"'));
    expect(hardest).toMatch(/33% chose the best answer — most common wrong answer: <q>Call the student to the office<\/q> \(67%\)/);
    expect(res.text).toContain('never shows who chose what');
    expect(res.text).not.toContain('a@in.example');
  });

  test('when a principal looks, then only their school counts; another school is 404, staff 403', async () => {
    const res = await principal.get(`/reports/decisions?module=${SLUG}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Lincoln Elementary');
    expect(res.text).toContain('Based on 2 finished attempts');
    expect(countsAt(res.text, 'd-1-first')).toEqual({ [NOTIFY]: 1, 'Ask them to wait': 0, 'Call the student to the office': 1 });
    expect((await principal.get(`/reports/decisions?module=${SLUG}&school=${String(roosevelt._id)}`)).status).toBe(404);
    await createUser(district, { email: 'staff@in.example', schools: [lincoln] });
    const staff = await signIn(t.app, 'staff@in.example');
    expect((await staff.get(`/reports/decisions?module=${SLUG}`)).status).toBe(403);
  });

  test("when a region administrator looks, then their region's schools count (not the district's), with a way back from one of them; another region is 404", async () => {
    const [west, east] = await Promise.all([Region.create({ district: district._id, code: 'WEST', name: 'Region West' }), Region.create({ district: district._id, code: 'EAST', name: 'Region East' })]);
    await School.updateOne({ _id: lincoln._id }, { $set: { region: west._id } });
    await School.updateOne({ _id: roosevelt._id }, { $set: { region: east._id } });
    await createUser(district, { role: 'region_admin', email: 'west@in.example', regions: [west] });
    const regionAdmin = await signIn(t.app, 'west@in.example');
    const res = await regionAdmin.get(`/reports/decisions?module=${SLUG}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Region: Region West');
    expect(res.text).toContain('Based on 2 finished attempts');
    expect(countsAt(res.text, 'd-1-first')).toEqual({ [NOTIFY]: 1, 'Ask them to wait': 0, 'Call the student to the office': 1 });
    const school = await regionAdmin.get(`/reports/decisions?module=${SLUG}&school=${String(lincoln._id)}`);
    expect(school.text).toContain('Based on 2 finished attempts');
    expect(school.text).toContain('>Whole region</a>');
    expect((await regionAdmin.get(`/reports/decisions?module=${SLUG}&school=${String(roosevelt._id)}`)).status).toBe(404);
    expect((await regionAdmin.get(`/reports/decisions?module=${SLUG}&region=${String(east._id)}`)).status).toBe(404);
    // The district admin's whole-district figures are unchanged by it (a memo per scope).
    expect((await admin.get(`/reports/decisions?module=${SLUG}`)).text).toContain('Based on 3 finished attempts');
    await School.updateMany({ _id: { $in: [lincoln._id, roosevelt._id] } }, { $unset: { region: 1 } });
  });

  test('when the admin narrows to a school, then that school only, with a way back to the district', async () => {
    const res = await admin.get(`/reports/decisions?module=${SLUG}&school=${String(roosevelt._id)}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Based on 1 finished attempt.');
    expect(countsAt(res.text, 'd-1-first')['Call the student to the office']).toBe(1);
    expect(res.text).toContain(`/reports/decisions?module=${SLUG}&amp;version=1`);
  });

  test('when a group is smaller than the district threshold, then no figures are shown', async () => {
    await District.updateOne({ _id: district._id }, { $set: { 'settings.smallGroupThreshold': 3 } });
    try {
      const school = await admin.get(`/reports/decisions?module=${SLUG}&school=${String(lincoln._id)}`);
      expect(school.status).toBe(200);
      expect(school.text).toContain('Fewer than 3 finished attempts');
      expect(school.text).not.toContain('<td class="num">');
      const whole = await admin.get(`/reports/decisions?module=${SLUG}`);
      expect(whole.text).toContain('Based on 3 finished attempts');
    } finally {
      await District.updateOne({ _id: district._id }, { $set: { 'settings.smallGroupThreshold': 0 } });
    }
  });

  test('when the module, version or school is unknown or malformed, then 404', async () => {
    expect((await admin.get('/reports/decisions?module=no-such-module')).status).toBe(404);
    expect((await admin.get(`/reports/decisions?module=${SLUG}&version=9`)).status).toBe(404);
    expect((await admin.get(`/reports/decisions?module=${SLUG}&version=abc`)).status).toBe(404);
    expect((await admin.get(`/reports/decisions?school=${new Types.ObjectId().toHexString()}`)).status).toBe(404);
    expect((await admin.get(`/reports/decisions?module=${SLUG}&module=other`)).status).toBe(404);
    expect((await admin.get('/reports/decisions?version=%7B%22%24gt%22%3A0%7D')).status).toBe(404);
  });

  test('when a learner plays the module for real, then their stored decisions are what the page counts, in Spanish too', async () => {
    const learner = await createUser(district, { email: 'real@in.example', schools: [roosevelt] });
    const agent = await signIn(t.app, 'real@in.example');
    await startModule(agent, SLUG);
    const { picked } = await playToResults(agent, SLUG, (choices) => choices[choices.length - 1]);
    expect(picked.length).toBeGreaterThanOrEqual(3);
    const stored = await Attempt.findOne({ user: learner._id, moduleSlug: SLUG, status: { $ne: 'in_progress' } }).lean();
    expect(stored?.decisions.map((d) => d.choiceId)).toEqual(picked);
    const res = await admin.get(`/reports/decisions?module=${SLUG}&school=${String(roosevelt._id)}&lang=es`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Basado en 2 intentos terminados');
    expect(countsAt(res.text, 'd-1-first')['Llame al alumno a la oficina']).toBe(2);
    // Percentages written the Spanish way everywhere on the page ("100 %"), as in "el 0 % eligió la mejor respuesta".
    expect(res.text).toContain('> 100 %</td>');
    expect(res.text).not.toMatch(/\d%/);
    await admin.get('/reports/decisions?lang=en');
  });
});
