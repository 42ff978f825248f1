import request from 'supertest';
import { District } from '../../../src/components/districts';
import { School } from '../../../src/components/schools';
import { Region } from '../../../src/components/regions';
import { User } from '../../../src/components/users';
import { Attempt, Completion } from '../../../src/components/completions';
import { Assignment } from '../../../src/components/assignments';
import { AuditEvent, sealAllAuditEvents, verifyAuditChain } from '../../../src/components/audit';
import { describeAuditDetails } from '../../../src/components/audit/audit-details';
import { translator } from '../../../src/shared/i18n';
import { getCatalog } from '../../../src/components/training';
import { grade, locate } from '../../../src/components/training/training.progress';
import { playContent } from '../../../src/components/training/training.update';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { DEMO_PASSWORD, DEMO_SIGN_INS, seedDemo, seedDemoIfEmpty } from '../../../seed/demo';
import { startTestApp, type TestApp } from '../../helpers/app';
import { csrfFrom, signIn } from '../../helpers/session';
import { playToResults } from '../training/player.helpers';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

test('when the database is empty, then the demo district is seeded once, idempotently, and every demo sign-in works', async () => {
  expect(await seedDemoIfEmpty()).toBe(true);
  expect(await seedDemoIfEmpty()).toBe(false);
  const counts = async () => ({ districts: await District.countDocuments(), schools: await School.countDocuments(), users: await User.countDocuments() });
  const before = await counts();
  await seedDemo();
  expect(await counts()).toEqual(before);

  const district = await District.findOne({ slug: 'demo-usd' }).lean().orFail();
  expect(district).toMatchObject({ name: 'Demo Unified School District', timeZone: 'America/Los_Angeles' });
  const contacts = district.settings!.contacts as unknown as Map<string, { name: string; phone: string }> | Record<string, { name: string; phone: string }>;
  const contactKeys = contacts instanceof Map ? [...contacts.keys()] : Object.keys(contacts);
  expect(contactKeys.sort()).toEqual(
    ['communications_office', 'counsel_office', 'family_hotline', 'principal', 'records_requests', 'rapid_response', 'region_operations', 'school_police'].sort(),
  );
  expect(district.settings!.policyReference).toContain('(demo)');

  const schools = await School.find({ district: district._id }).lean();
  expect(schools).toHaveLength(5);
  expect(schools.map((s) => s.name)).toEqual(expect.arrayContaining(['Lincoln Elementary', 'Roosevelt Middle']));

  const staff = await User.find({ district: district._id, role: 'staff' }).lean();
  expect(staff.length).toBeGreaterThanOrEqual(55);
  const teachers = staff.filter((u) => u.jobTitle === 'teacher').length;
  expect(teachers / staff.length).toBeLessThanOrEqual(0.36);
  expect(staff.every((u) => u.jobTitle && u.schools.length > 0)).toBe(true);
  expect(staff.some((u) => u.name === 'José Hernández')).toBe(true);
  expect(staff.filter((u) => u.preferredLanguage === 'es').length).toBeGreaterThan(5);

  for (const s of DEMO_SIGN_INS) {
    const agent = await signIn(t.app, s.email, DEMO_PASSWORD);
    const home = await agent.get('/');
    expect(home.status).toBe(303);
    const user = await User.findOne({ email: s.email }).lean().orFail();
    expect(user.role).toBe(s.role);
  }
  const lincoln = schools.find((s) => s.name === 'Lincoln Elementary')!;
  const teacher = await User.findOne({ email: 'teacher.lincoln@demo-usd.example' }).lean().orFail();
  expect(teacher).toMatchObject({ jobTitle: 'teacher' });
  expect(teacher.schools.map(String)).toEqual([String(lincoln._id)]);
  // The substitute works at Lincoln and Roosevelt, Lincoln first (their default "Working at").
  const roosevelt = schools.find((s) => s.name === 'Roosevelt Middle')!;
  const substitute = await User.findOne({ email: 'substitute@demo-usd.example' }).lean().orFail();
  expect(substitute.schools.map(String)).toEqual([String(lincoln._id), String(roosevelt._id)]);
  // Region North's administrator lands on the region view: its three schools, not Region South's.
  const regionAdmin = await signIn(t.app, 'region.north@demo-usd.example', DEMO_PASSWORD);
  expect((await regionAdmin.get('/')).headers.location).toBe('/district');
  const regionView = await regionAdmin.get('/district');
  expect(regionView.text).toContain('Region compliance — Region North');
  for (const name of ['Lincoln Elementary', 'Roosevelt Middle', 'Dolores Huerta High']) expect(regionView.text).toContain(name);
  expect(regionView.text).not.toContain('Maple Grove Elementary');

  // Finished demo attempts carry the answers they were scored on, along a path the module allows.
  const finished = await Attempt.find({ district: district._id, status: { $in: ['passed', 'failed'] } }).lean();
  expect(finished.length).toBeGreaterThan(20);
  for (const attempt of finished) {
    // An update attempt plays only the scenarios its version's update path lists.
    const content = playContent(getCatalog().get(attempt.moduleSlug, attempt.moduleVersion)!, attempt.updateFrom);
    expect(attempt.decisions.length).toBeGreaterThanOrEqual(content.scenarios.length);
    for (const d of attempt.decisions) {
      const node = content.scenarios.find((s) => s.id === d.scenarioId)!.nodes[d.nodeId];
      expect(node.type === 'decision' && node.choices.some((c) => c.id === d.choiceId && c.outcome === d.outcome)).toBe(true);
    }
    const result = grade(attempt.points, attempt.decisions.length, content.passMark);
    expect(attempt.score).toBe(result.score);
    expect(attempt.status).toBe(result.isPassed ? 'passed' : 'failed');
  }
  const completions = await Completion.find({ district: district._id }).lean();
  const byAttempt = new Map(finished.map((a) => [String(a._id), a]));
  expect(completions.every((c) => byAttempt.get(String(c.attempt))?.score === c.score)).toBe(true);
});

test('when the demo is seeded, then its audit log holds who set up each assignment and every completion, in time order, and the chain verifies', async () => {
  const district = await District.findOne({ slug: 'demo-usd' }).lean().orFail();
  const admin = (await User.findOne({ district: district._id, role: 'district_admin' }).lean())!;
  const completions = await Completion.find({ district: district._id }).lean();
  const assignments = await Assignment.find({ district: district._id }).lean();
  const events = await AuditEvent.find({ district: district._id }).sort({ _id: 1 }).lean();

  const recorded = events.filter((e) => e.action === 'completion.recorded');
  expect(recorded.map((e) => e.target?.id).sort()).toEqual(completions.map((c) => String(c._id)).sort());
  for (const e of recorded) {
    const c = completions.find((x) => String(x._id) === e.target?.id)!;
    expect(String(e.actor)).toBe(String(c.user));
    expect(e.at.getTime()).toBe(c.completedAt.getTime());
    expect(e.details).toMatchObject({ moduleSlug: c.moduleSlug, moduleVersion: c.moduleVersion, score: c.score });
  }
  const created = events.filter((e) => e.action === 'assignment.created');
  expect(created.map((e) => e.target?.id).sort()).toEqual(assignments.map((a) => String(a._id)).sort());
  expect(created.every((e) => String(e.actor) === String(admin._id))).toBe(true);
  const times = events.map((e) => e.at.getTime());
  expect(times).toEqual([...times].sort((a, b) => a - b));

  await sealAllAuditEvents();
  const report = await verifyAuditChain(String(district._id));
  expect(report).toMatchObject({ checked: events.length, pending: 0, problems: [] });
  const page = await (await signIn(t.app, admin.email, DEMO_PASSWORD)).get('/admin/audit');
  expect(page.status).toBe(200);
  expect(page.text).toContain('Training completed');
  expect(page.text).toContain('Assignment created');
});

test('when the demo is seeded, then every audit event reads as words in both languages (no key=value row), each assignment lists all its rules as the app records them, and the log pages show no fallback', async () => {
  const district = await District.findOne({ slug: 'demo-usd' }).lean().orFail();
  const events = await AuditEvent.find({ district: district._id }).lean();
  expect(events.length).toBeGreaterThan(4);
  for (const lang of ['en', 'es'] as const) {
    for (const e of events) {
      const words = describeAuditDetails({ action: e.action, details: e.details }, translator(lang), lang);
      expect({ action: e.action, isRaw: words.isRaw }).toEqual({ action: e.action, isRaw: false });
      // An assignment event states every rule the assignment form sets, as the service records them.
      if (e.action === 'assignment.created') expect(words.facts).toHaveLength(6);
    }
  }
  const created = events.filter((e) => e.action === 'assignment.created');
  expect(created.length).toBeGreaterThan(0);
  for (const e of created) expect(Object.keys(e.details as object).sort()).toEqual(['due', 'jobTitles', 'minVersion', 'moduleSlug', 'recurrence', 'roles', 'schoolCodes']);

  // The pages as the demo's administrator sees them: every row a sentence.
  const admin = await signIn(t.app, 'admin@demo-usd.example', DEMO_PASSWORD);
  for (let page = 1; page <= Math.ceil(events.length / 50); page++) {
    const res = await admin.get(`/admin/audit?page=${page}`);
    expect(res.status).toBe(200);
    const sentences = (res.text.match(/class="audit-sentence"/g) ?? []).length;
    const bodyRows = (/<tbody>([\s\S]*)<\/tbody>/.exec(res.text)?.[1].match(/<tr>/g) ?? []).length;
    expect(bodyRows).toBeGreaterThan(0);
    expect(sentences).toBe(bodyRows);
  }
  const report = await verifyAuditChain(String(district._id));
  expect(report.problems).toEqual([]);
});

test('when a demo person has a training in progress, then its stored position is a node of the module and the player opens there', async () => {
  const district = await District.findOne({ slug: 'demo-usd' }).lean().orFail();
  const open = await Attempt.find({ district: district._id, status: 'in_progress' }).lean();
  expect(open.length).toBeGreaterThan(0);
  const catalog = getCatalog();
  for (const attempt of open) {
    const content = catalog.get(attempt.moduleSlug, attempt.moduleVersion)!.content;
    expect(attempt.position && locate(content, attempt.position)).toBeTruthy();
  }
  const frontOffice = await User.findOne({ email: 'frontoffice.lincoln@demo-usd.example' }).lean().orFail();
  const mine = open.filter((a) => String(a.user) === String(frontOffice._id));
  expect(mine.length).toBeGreaterThan(0);
  const agent = await signIn(t.app, frontOffice.email, DEMO_PASSWORD);
  for (const attempt of mine) {
    const play = await agent.get(`/training/${attempt.moduleSlug}/play`);
    expect(play.status).toBe(200);
    expect(play.text).toContain('name="at"');
  }
});

test('when the demo is seeded, then Lincoln has its own principal and two regions their own operations desks, and the front-office card shows them', async () => {
  const district = await District.findOne({ slug: 'demo-usd' }).lean().orFail();
  const regions = await Region.find({ district: district._id }).sort({ code: 1 }).lean();
  expect(regions.map((r) => r.code)).toEqual(['NORTH', 'SOUTH']);
  const lincoln = await School.findOne({ district: district._id, code: 'LIN' }).lean().orFail();
  expect(String(lincoln.region)).toBe(String(regions[0]._id));
  expect(lincoln.contacts?.principal?.name).toBe('Principal Marcus Whitaker');

  const frontOffice = await signIn(t.app, 'frontoffice.lincoln@demo-usd.example', DEMO_PASSWORD);
  const card = await frontOffice.get('/training/front-office/card?lang=en');
  expect(card.status).toBe(200);
  expect(card.text).toContain('Then call Principal Marcus Whitaker (<a href="tel:+15550100101">555-010-0101</a>).');
  expect(card.text).toContain('<td>the Region North operations desk, Dana Whitfield</td>');
  const spanish = await frontOffice.get('/training/front-office/card?lang=es');
  await frontOffice.get('/training/front-office/card?lang=en');
  expect(spanish.text).toContain('Luego llame a Marcus Whitaker, director del plantel (<a href="tel:+15550100101">555-010-0101</a>).');

  // Another school of the demo: the district's principal wording.
  const roosevelt = await signIn(t.app, 'principal.roosevelt@demo-usd.example', DEMO_PASSWORD);
  const other = await roosevelt.get('/training/front-office/card?lang=en');
  expect(other.text).toContain('Then call your principal (site administrator) (<a href="tel:+15550100100">555-010-0100</a>).');

  // The substitute at Lincoln and Roosevelt: Lincoln's principal by default, the district's wording once working at Roosevelt.
  const substitute = await signIn(t.app, 'substitute@demo-usd.example', DEMO_PASSWORD);
  const atLincoln = await substitute.get('/training/front-office/card?lang=en');
  expect(atLincoln.text).toContain('Then call Principal Marcus Whitaker');
  const rooseveltSchool = await School.findOne({ district: district._id, code: 'ROO' }).lean().orFail();
  const atRoosevelt = await substitute.get(`/training/front-office/card?lang=en&school=${String(rooseveltSchool._id)}`);
  expect(atRoosevelt.text).toContain('Then call your principal (site administrator)');
  expect(atRoosevelt.text).toContain('Contacts for Roosevelt Middle');
});

test('when the demo is seeded, then Foundations v1 carries its recorded counsel review and the other modules say they are still to be reviewed', async () => {
  const frontOffice = await signIn(t.app, 'frontoffice.lincoln@demo-usd.example', DEMO_PASSWORD);
  const foundations = await frontOffice.get('/training/foundations?lang=en');
  expect(foundations.status).toBe(200);
  expect(foundations.text).toContain('Reviewed for this district by Office of the General Counsel (demo) on November 26, 2026.');
  const frontOfficeModule = await frontOffice.get('/training/front-office?lang=en');
  expect(frontOfficeModule.text).toContain('To be reviewed by district counsel: no review of this version is recorded yet.');
});

test('when the demo is seeded, then classroom requires version 2: version 1 holders are outdated and offered the update, and one Lincoln teacher holds the update', async () => {
  const district = await District.findOne({ slug: 'demo-usd' }).lean().orFail();
  const latest = getCatalog().getLatest('classroom')!;
  expect(latest.version).toBe(2);
  const assignment = await Assignment.findOne({ district: district._id, moduleSlug: 'classroom', status: 'active' }).lean().orFail();
  expect(assignment.minVersion).toBe(2);
  const raised = await AuditEvent.findOne({ district: district._id, action: 'assignment.updated', 'target.id': String(assignment._id) }).lean().orFail();
  expect(raised.details).toMatchObject({ moduleSlug: 'classroom', fromMinVersion: 1, minVersion: 2 });

  // Everyone who holds only version 1 is outdated; everyone holding version 2 (played or by the update) is not.
  const completions = await Completion.find({ district: district._id, moduleSlug: 'classroom' }).lean();
  const v2Holders = new Set(completions.filter((c) => c.moduleVersion === 2).map((c) => String(c.user)));
  const v1Only = [...new Set(completions.filter((c) => c.moduleVersion === 1 && !v2Holders.has(String(c.user))).map((c) => String(c.user)))];
  const updates = completions.filter((c) => c.method === 'update');
  expect(v1Only.length).toBeGreaterThanOrEqual(3);
  expect(updates.length).toBeGreaterThanOrEqual(2);
  expect(completions.some((c) => c.moduleVersion === 2 && c.method !== 'update')).toBe(true);
  const rows = await ComplianceRow.find({ district: district._id, moduleSlug: 'classroom' }).lean();
  expect(rows.filter((r) => r.isOutdated).map((r) => String(r.user)).sort()).toEqual([...v1Only].sort());
  for (const u of updates) {
    const base = completions.find((c) => String(c.user) === String(u.user) && c.moduleVersion === 1)!;
    expect(u).toMatchObject({ moduleVersion: 2, updatedFrom: 1 });
    expect(u.recertifiedAt!.getTime()).toBe(base.completedAt.getTime());
    expect(base.completedAt.getTime()).toBeLessThan(raised.at.getTime());
    expect(u.completedAt.getTime()).toBeGreaterThan(raised.at.getTime());
  }

  // The demo teacher: outdated, offered the update on /training.
  const teacher = await signIn(t.app, 'teacher.lincoln@demo-usd.example', DEMO_PASSWORD);
  const list = await teacher.get('/training?lang=en');
  expect(list.text).toContain('Updated: version 2');
  expect(list.text).toContain('Start the update');
  expect(list.text).toContain('Just outside the gate');

  // Her principal sees her as outdated, and the Lincoln teacher who passed the update as completed.
  const lincoln = await School.findOne({ district: district._id, code: 'LIN' }).lean().orFail();
  const grace = await User.findOne({ email: 'teacher.lincoln@demo-usd.example' }).lean().orFail();
  const maria = await User.findOne({ email: 'maria.guadalupe.ramirez@demo-usd.example' }).lean().orFail();
  expect(maria.schools.map(String)).toEqual([String(lincoln._id)]);
  expect(await ComplianceRow.findOne({ user: grace._id, moduleSlug: 'classroom' }).lean()).toMatchObject({ isOutdated: true });
  expect(await ComplianceRow.findOne({ user: maria._id, moduleSlug: 'classroom' }).lean()).toMatchObject({ isOutdated: false, hasSatisfying: true, completion: { moduleVersion: 2, method: 'update', updatedFrom: 1 } });
  const principal = await signIn(t.app, 'principal.lincoln@demo-usd.example', DEMO_PASSWORD);
  const person = await principal.get(`/school/${String(lincoln._id)}/staff/${String(maria._id)}?lang=en`);
  expect(person.status).toBe(200);
  expect(person.text).toContain('(update from v1)');
  const certificate = (await Completion.findOne({ user: maria._id, moduleSlug: 'classroom', moduleVersion: 2 }).lean().orFail()).certificateCode;
  // Anyone can check the certificate without signing in.
  const verify = await request(t.app).get(`/verify/${certificate}?lang=en`);
  expect(verify.status).toBe(200);
  expect(verify.text).toContain('2 (update from version 1)');
});

test.each([
  ['en', 'the demo teacher', 'You passed', 'This update completes version 2 (update from version 1).'],
  ['es', 'an outdated demo person who prefers Spanish', 'Aprobó', 'Esta actualización completa la versión 2 (actualización de la versión 1).'],
] as const)('when a demo version-1 holder plays the classroom update in %s (%s), then a v2 update completion is stored and they are no longer outdated', async (lang, _who, passed, completes) => {
  const district = await District.findOne({ slug: 'demo-usd' }).lean().orFail();
  const outdated = await ComplianceRow.find({ district: district._id, moduleSlug: 'classroom', isOutdated: true }, { user: 1 }).lean();
  const candidates = await User.find({ _id: { $in: outdated.map((r) => r.user) }, preferredLanguage: lang, active: true }).sort({ email: 1 }).lean();
  const person = lang === 'en' ? candidates.find((u) => u.email === 'teacher.lincoln@demo-usd.example') : candidates[0];
  expect(person).toBeDefined();
  const agent = await signIn(t.app, person!.email, DEMO_PASSWORD);

  const list = await agent.get('/training');
  expect(list.text).toContain(lang === 'en' ? 'Start the update' : 'Comenzar la actualización');
  const overview = await agent.get('/training/classroom');
  expect((await agent.post('/training/classroom/update').type('form').send({ _csrf: csrfFrom(overview.text) })).status).toBe(303);
  const scenario = getCatalog().get('classroom', 2)!.content.scenarios.find((s) => s.id === 'outside-the-gate')!;
  const best = new Set(Object.values(scenario.nodes).flatMap((n) => (n.type === 'decision' ? n.choices.filter((c) => c.outcome === 'best').map((c) => c.id) : [])));
  const { page, picked } = await playToResults(agent, 'classroom', (choices) => choices.find((c) => best.has(c))!);
  expect(picked).toEqual(['call-and-hold', 'cant-share', 'care-and-report']);
  expect(page.html).toContain(passed);
  expect(page.html).toContain(completes);

  expect(await Completion.findOne({ user: person!._id, moduleSlug: 'classroom', moduleVersion: 2 }).lean()).toMatchObject({ method: 'update', updatedFrom: 1, score: 100 });
  expect(await ComplianceRow.findOne({ user: person!._id, moduleSlug: 'classroom' }).lean()).toMatchObject({ isOutdated: false, hasSatisfying: true });
  expect((await agent.get('/training')).text).not.toContain(lang === 'en' ? 'Start the update' : 'Comenzar la actualización');
});
