import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn } from '../../helpers/session';
import { FIXTURE_MODULES, playToResults, startModule } from '../training/player.helpers';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { createAssignment } from './compliance-fixtures';

const SLUG = 'fixture-basics';
const BEST: Record<string, true> = { notify: true, decline: true, refuse: true, log: true };
const best = (choices: string[]) => choices.find((c) => BEST[c]) ?? choices[0];

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(FIXTURE_MODULES);
});

afterAll(async () => {
  await t.close();
});

describe('compliance follows the training player', () => {
  test('when an assigned person starts and then passes the module, then /training and the school page show in progress, then completed', async () => {
    const district = await createDistrict();
    const school = await createSchool(district);
    const learner = await createUser(district, { email: 'learner@e.example', schools: [school], jobTitle: 'front_office' });
    await createUser(district, { role: 'principal', email: 'boss@e.example', schools: [school] });
    const assignment = await createAssignment(district, { moduleSlug: SLUG, due: { kind: 'fixed', date: '2099-06-30' } });
    const agent = await signIn(t.app, 'learner@e.example');
    const principal = await signIn(t.app, 'boss@e.example');

    const before = await agent.get('/training');
    expect(before.text).toContain('Due Jun 30, 2099');
    expect(before.text).toContain('status-not_started');

    await startModule(agent, SLUG);
    expect(await ComplianceRow.findOne({ assignment: assignment._id, user: learner._id }).lean()).toMatchObject({ isInProgress: true, hasSatisfying: false });
    expect((await principal.get(`/school/${String(school._id)}?status=in_progress`)).text).toContain('1 matching');

    await playToResults(agent, SLUG, best);
    const row = await ComplianceRow.findOne({ assignment: assignment._id, user: learner._id }).lean();
    expect(row).toMatchObject({ hasSatisfying: true, isInProgress: false, completion: { moduleVersion: 1 } });
    const after = await agent.get('/training');
    expect(after.text).toContain('status-completed');
    const page = await principal.get(`/school/${String(school._id)}`);
    expect(page.text).toContain('1 of 1 required trainings completed');
  });
});

describe('compliance follows the roster', () => {
  test('when an admin deactivates and reactivates a person through the staff pages, then their rows leave and return at once', async () => {
    const district = await createDistrict();
    const school = await createSchool(district);
    const person = await createUser(district, { email: 'moving@e.example', schools: [school] });
    await createUser(district, { role: 'district_admin', email: 'hr@e.example' });
    const assignment = await createAssignment(district, { moduleSlug: SLUG });
    expect(await ComplianceRow.countDocuments({ assignment: assignment._id, user: person._id })).toBe(1);
    const admin = await signIn(t.app, 'hr@e.example');
    const page = await admin.get(`/admin/users/${String(person._id)}`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    expect((await admin.post(`/admin/users/${String(person._id)}/deactivate`).type('form').send({ _csrf: csrf })).status).toBe(303);
    expect(await ComplianceRow.countDocuments({ assignment: assignment._id, user: person._id })).toBe(0);
    expect((await admin.post(`/admin/users/${String(person._id)}/reactivate`).type('form').send({ _csrf: csrf })).status).toBe(303);
    expect(await ComplianceRow.countDocuments({ assignment: assignment._id, user: person._id })).toBe(1);
  });
});
