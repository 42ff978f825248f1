import request from 'supertest';
import { Attempt, Completion } from '../../../src/components/completions';
import { District } from '../../../src/components/districts';
import { forgetDistrictContext } from '../../../src/components/settings';
import { prepareTrainingContent } from '../../../src/components/training';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn } from '../../helpers/session';
import { FIXTURE_MODULES, getPlay, playToResults, postMove, startModule } from './player.helpers';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;

beforeAll(async () => {
  t = await startTestApp();
  await prepareTrainingContent(FIXTURE_MODULES);
  district = await createDistrict({ timeZone: 'America/New_York' });
  school = await createSchool(district);
});
afterAll(async () => t.close());

const statusOf = (html: string, slug: string) => {
  const item = html.slice(html.indexOf(`href="/training/${slug}"`));
  return /class="status status-([a-z_]+)"/.exec(item)?.[1];
};

describe('GET /training', () => {
  test('when an anonymous visitor opens it, then they are sent to sign in', async () => {
    const res = await request(t.app).get('/training');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Ftraining');
  });

  test('when a teacher opens it, then they see the modules for their role and job title only', async () => {
    const teacher = await signIn(t.app, (await createUser(district, { schools: [school], jobTitle: 'teacher' })).email);
    const office = await signIn(t.app, (await createUser(district, { schools: [school], jobTitle: 'front_office' })).email);

    const teacherPage = await teacher.get('/training');
    const officePage = await office.get('/training');

    expect(teacherPage.status).toBe(200);
    expect(teacherPage.text).toContain('href="/training/fixture-basics"');
    expect(teacherPage.text).not.toContain('href="/training/fixture-office"');
    expect(officePage.text).toContain('href="/training/fixture-office"');
    expect(statusOf(officePage.text, 'fixture-office')).toBe('not_started');
  });

  test('when a district admin has no module for their role, then the page says so', async () => {
    const admin = await signIn(t.app, (await createUser(district, { role: 'district_admin' })).email);
    const res = await admin.get('/training');
    expect(res.status).toBe(200);
    expect(res.text).toContain('No training is assigned to you right now.');
  });

  test('when a learner starts, passes or fails, then the status follows: in progress, passed with date and score, not passed yet', async () => {
    const user = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, user.email);
    const other = await signIn(t.app, (await createUser(district, { schools: [school] })).email);

    await startModule(agent, 'fixture-basics');
    await postMove(agent, 'fixture-basics', await getPlay(agent, 'fixture-basics'));
    expect(statusOf((await agent.get('/training')).text, 'fixture-basics')).toBe('in_progress');

    await playToResults(agent, 'fixture-basics', (choices) => choices[0]);
    const passed = await agent.get('/training');
    expect(statusOf(passed.text, 'fixture-basics')).toBe('passed');
    const finishedAt = (await Attempt.findOne({ user: user._id }).lean())!.finishedAt!;
    const day = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'America/New_York' }).format(finishedAt);
    expect(passed.text).toContain(`Passed on ${day} with 100%`);
    // The certificate is one click away from the list, and it is this person's.
    const code = (await Completion.findOne({ user: user._id }).lean())!.certificateCode;
    expect(passed.text).toContain(`href="/training/certificates/${code}.pdf"`);
    const pdf = await agent.get(`/training/certificates/${code}.pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');

    await startModule(other, 'fixture-basics');
    await playToResults(other, 'fixture-basics', (choices) => choices[choices.length - 1]);
    const failed = await other.get('/training');
    expect(statusOf(failed.text, 'fixture-basics')).toBe('failed');
    expect(failed.text).toContain('Last score 0%');
  });

  test('when a learner’s completion is revoked, then the list no longer shows it as passed', async () => {
    const user = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, user.email);
    await startModule(agent, 'fixture-basics');
    await playToResults(agent, 'fixture-basics', (choices) => choices[0]);
    const completion = await Completion.findOne({ user: user._id }).lean().orFail();
    const before = await agent.get('/training');
    expect(statusOf(before.text, 'fixture-basics')).toBe('passed');
    expect(before.text).toContain('Passed on ');

    await Completion.updateOne({ _id: completion._id }, { $set: { revokedAt: new Date() } });
    const after = await agent.get('/training');
    expect(after.status).toBe(200);
    expect(statusOf(after.text, 'fixture-basics')).not.toBe('passed');
    expect(after.text).not.toContain('Passed on ');
  });

  test('when the page is asked for in Spanish, then titles and statuses are in Spanish', async () => {
    const agent = await signIn(t.app, (await createUser(district, { schools: [school] })).email);
    const res = await agent.get('/training?lang=es');
    expect(res.text).toContain('Mi capacitación');
    expect(res.text).toContain('Conceptos básicos de prueba');
    expect(res.text).toContain('Sin empezar');
  });
});

describe('GET /training/:slug', () => {
  test('when a learner opens a module, then the overview shows its facts, the counsel notice, sources, introduction and a start button', async () => {
    await District.updateOne({ _id: district._id }, { $set: { 'settings.policyReference': 'BP 5145.13' } });
    forgetDistrictContext(district._id.toString());
    const agent = await signIn(t.app, (await createUser(district, { schools: [school] })).email);

    const res = await agent.get('/training/fixture-basics');

    expect(res.status).toBe(200);
    expect(res.text).toContain('<h1>Fixture basics</h1>');
    expect(res.text).toContain('About 10 minutes');
    expect(res.text).toContain('March 1, 2026');
    expect(res.text).toContain('General training, not legal advice. To be reviewed by district counsel: no review of this version is recorded yet.');
    expect(res.text).toContain('<a href="https://oag.ca.gov/immigrant" rel="noopener noreferrer">CA AG Quick Reference</a>');
    expect(res.text).toContain('id="source-F13"');
    expect(res.text).toContain('Follow BP 5145.13.');
    expect(res.text).toContain('Start the training');
    expect(res.text).toContain('<li>At the front desk</li>');
  });

  test('when the module does not exist, then 404', async () => {
    const agent = await signIn(t.app, (await createUser(district, { schools: [school] })).email);
    expect((await agent.get('/training/nope')).status).toBe(404);
    expect((await agent.post('/training/nope/start').type('form').send({ _csrf: 'x' })).status).toBe(403);
  });
});

describe('GET /training/:slug/card', () => {
  test('when a learner opens the card, then the takeaways show with the district’s contacts filled in, printable', async () => {
    await District.updateOne(
      { _id: district._id },
      { $set: { 'settings.contacts': { principal: { name: 'Site Principal Office', phone: '555-0100' } }, 'settings.policyReference': 'BP 5145.13' } },
    );
    forgetDistrictContext(district._id.toString());
    const agent = await signIn(t.app, (await createUser(district, { schools: [school] })).email);

    const res = await agent.get('/training/fixture-basics/card');

    expect(res.status).toBe(200);
    expect(res.text).toContain('Escalate to Site Principal Office; do not decide alone.');
    expect(res.text).toContain('<th scope="row">Site administrator</th><td>Site Principal Office</td><td>555-0100</td>');
    expect(res.text).toContain('Follow BP 5145.13.');
    expect(res.text).toContain('class="print-card"');
    expect((await agent.get('/training/fixture-basics/card?version=9')).status).toBe(404);
  });

  test('when the district’s numbers can be dialled, then the card links each to tel: in English and Spanish, and a number without an area code stays text', async () => {
    const contacts = {
      principal: { name: 'Site Principal Office', phone: '555-0100' },
      region_operations: { name: 'Region Operations', phone: '(555) 010-0142' },
      family_hotline: { name: 'Family Hotline', nameEs: 'Línea para familias', phone: '(213) 555-0133 ext. 4' },
    };
    await District.updateOne({ _id: district._id }, { $set: { 'settings.contacts': contacts } });
    forgetDistrictContext(district._id.toString());
    const agent = await signIn(t.app, (await createUser(district, { schools: [school] })).email);

    const english = await agent.get('/training/fixture-basics/card?lang=en');
    const spanish = await agent.get('/training/fixture-basics/card?lang=es');

    for (const res of [english, spanish]) {
      expect(res.status).toBe(200);
      expect(res.text).toContain('<td><a href="tel:+15550100142">(555) 010-0142</a></td>');
      expect(res.text).toContain('<td><a href="tel:+12135550133;ext=4">(213) 555-0133 ext. 4</a></td>');
      expect(res.text).toContain('<td>555-0100</td>');
      expect(res.text).not.toContain('href="tel:555');
    }
    expect(spanish.text).toContain('lang="es"');
  });

  test('when the district gave a contact a Spanish name, then the Spanish card lists that name and the English card the English one', async () => {
    const contacts = {
      principal: { name: 'your principal', nameEs: 'su director o directora', phone: '555-0100' },
      region_operations: { name: 'Region Operations', phone: '(555) 010-0142' },
    };
    await District.updateOne({ _id: district._id }, { $set: { 'settings.contacts': contacts } });
    forgetDistrictContext(district._id.toString());
    const agent = await signIn(t.app, (await createUser(district, { schools: [school] })).email);

    const spanish = await agent.get('/training/fixture-basics/card?lang=es');
    const english = await agent.get('/training/fixture-basics/card?lang=en');

    expect(spanish.status).toBe(200);
    expect(spanish.text).toContain('<td>su director o directora</td>');
    expect(spanish.text).not.toContain('your principal');
    // No Spanish name given: the one name the district entered.
    expect(spanish.text).toContain('<td>Region Operations</td>');
    expect(english.text).toContain('<td>your principal</td>');
    expect(english.text).not.toContain('su director o directora');
  });
});
