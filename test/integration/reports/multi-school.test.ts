import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { createAssignment, publishModule } from '../assignments/compliance-fixtures';
import { syncComplianceForUsers } from '../../../src/components/assignments';
import { Attempt } from '../../../src/components/completions';
import { Reminder, ReminderSettings, runQueuedReminders, sweepReminders } from '../../../src/components/reminders';
import { startSmtpCapture, type SmtpCapture } from '../reminders/smtp-capture';

/**
 * A substitute at Lincoln and Roosevelt, as principals, the district and the reminders meet them: on each of their
 * schools' pages, once in the district totals, no more of their attempts than of anyone's, and one email per
 * reminder — not one per school.
 */
let smtp: SmtpCapture;
let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let adams: Awaited<ReturnType<typeof createSchool>>;
let people: Record<string, Awaited<ReturnType<typeof createUser>>>;
const agents: Record<string, Agent> = {};

const id = (doc: { _id: unknown }) => String(doc._id);
const at = (iso: string) => new Date(iso);
// Wrong choices stored in the attempts: a principal's page never shows which choice anyone made.
const CHOICE = 'fetch-the-student-now';

beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await startTestApp({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, BASE_URL: 'https://training.d.example' });
  await publishModule('foundations', [1], 'Foundations');
  district = await createDistrict({ timeZone: 'America/Los_Angeles' });
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  adams = await createSchool(district, { code: 'ADA', name: 'Adams High' });
  people = {
    admin: await createUser(district, { role: 'district_admin', email: 'admin@d.example' }),
    linPrincipal: await createUser(district, { role: 'principal', name: 'Lin Principal', email: 'principal.lin@d.example', schools: [lincoln] }),
    rooPrincipal: await createUser(district, { role: 'principal', name: 'Roo Principal', email: 'principal.roo@d.example', schools: [roosevelt] }),
    adaPrincipal: await createUser(district, { role: 'principal', name: 'Ada Principal', email: 'principal.ada@d.example', schools: [adams] }),
    // An area principal over both schools: one digest, the substitute counted once in it.
    bothPrincipal: await createUser(district, { role: 'principal', name: 'Bo Both', email: 'principal.both@d.example', schools: [lincoln, roosevelt] }),
    substitute: await createUser(district, { name: 'Sam Substitute', email: 'sam@d.example', schools: [lincoln, roosevelt], jobTitle: 'substitute_teacher' }),
    teacher: await createUser(district, { name: 'Tia Teacher', email: 'tia@d.example', schools: [lincoln], jobTitle: 'teacher' }),
    rooTeacher: await createUser(district, { name: 'Rae Roosevelt', email: 'rae@d.example', schools: [roosevelt], jobTitle: 'teacher' }),
  };
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2099-06-30' } });
  for (const person of [people.substitute, people.teacher]) {
    await Attempt.create({
      user: person._id,
      district: district._id,
      school: person.schools[0],
      moduleSlug: 'foundations',
      moduleVersion: 1,
      status: 'failed',
      position: { scenarioIndex: 0, nodeId: 'end', step: 3, phase: 'results' },
      decisions: [{ scenarioId: 'front-desk-visit', nodeId: 'officer-asks', choiceId: CHOICE, outcome: 'wrong', points: 0, at: new Date() }],
      score: 40,
      startedAt: new Date(),
      finishedAt: new Date(),
    });
  }
  await syncComplianceForUsers(Object.values(people).map(id));
  for (const key of ['admin', 'linPrincipal', 'rooPrincipal', 'adaPrincipal']) agents[key] = await signIn(t.app, people[key].email);
});

afterAll(async () => {
  await t.close();
  await smtp.stop();
});

describe('principals and the district', () => {
  test('when each principal opens their school, then the substitute is listed at Lincoln and at Roosevelt, not at Adams', async () => {
    const lin = await agents.linPrincipal.get(`/school/${id(lincoln)}`);
    const roo = await agents.rooPrincipal.get(`/school/${id(roosevelt)}`);
    const ada = await agents.adaPrincipal.get(`/school/${id(adams)}`);
    expect([lin.status, roo.status, ada.status]).toEqual([200, 200, 200]);
    expect(lin.text).toContain('Sam Substitute');
    expect(lin.text).toContain('Tia Teacher');
    expect(roo.text).toContain('Sam Substitute');
    expect(roo.text).toContain('Rae Roosevelt');
    expect(ada.text).not.toContain('Sam Substitute');
    // Each school counts them: 2 people × 1 training at each.
    expect(lin.text).toContain('0 of 2 required trainings completed');
    expect(roo.text).toContain('0 of 2 required trainings completed');
  });

  test('when the admin opens the district, then the substitute counts once per assignment in the totals (3 people, 3 trainings), at both schools in the lines', async () => {
    const res = await agents.admin.get('/district');
    expect(res.status).toBe(200);
    expect(res.text).toContain('0 of 3 required trainings completed');
    const csv = await agents.admin.get('/reports/compliance.csv');
    expect(csv.status).toBe(200);
    const lines = csv.text.split('\n').filter((line) => line.includes('sam@d.example'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('LIN; ROO');
    const linCsv = await agents.linPrincipal.get(`/reports/compliance.csv?school=${id(lincoln)}`);
    const rooCsv = await agents.rooPrincipal.get(`/reports/compliance.csv?school=${id(roosevelt)}`);
    expect(linCsv.text.split('\n').filter((line) => line.includes('sam@d.example'))).toHaveLength(1);
    expect(rooCsv.text.split('\n').filter((line) => line.includes('sam@d.example'))).toHaveLength(1);
  });

  test('when a principal opens the substitute’s record, then it is what they see of anyone: status and score, never the choices; Adams’ principal gets 404', async () => {
    const sub = await agents.linPrincipal.get(`/school/${id(lincoln)}/staff/${id(people.substitute)}`);
    const teacher = await agents.linPrincipal.get(`/school/${id(lincoln)}/staff/${id(people.teacher)}`);
    const fromRoosevelt = await agents.rooPrincipal.get(`/school/${id(roosevelt)}/staff/${id(people.substitute)}`);
    for (const page of [sub, teacher, fromRoosevelt]) {
      expect(page.status).toBe(200);
      expect(page.text).toContain('40%');
      expect(page.text).not.toContain(CHOICE);
      expect(page.text).not.toContain('officer-asks');
    }
    // The same sections for the substitute as for a one-school teacher.
    const headings = (html: string) => Array.from(html.matchAll(/<h2 id="([a-z-]+)"/g), (m) => m[1]);
    expect(headings(sub.text)).toEqual(headings(teacher.text));
    expect(sub.text).toContain('Lincoln Elementary');
    expect(fromRoosevelt.text).toContain('Roosevelt Middle');
    expect((await agents.adaPrincipal.get(`/school/${id(adams)}/staff/${id(people.substitute)}`)).status).toBe(404);
    expect((await agents.adaPrincipal.get(`/school/${id(lincoln)}/staff/${id(people.substitute)}`)).status).toBe(404);
    expect((await agents.linPrincipal.get(`/school/${id(roosevelt)}/staff/${id(people.substitute)}`)).status).toBe(404);
  });
});

describe('reminders: once per person, not once per school', () => {
  const sentTo = (email: string) => smtp.messages.filter((m) => m.to.includes(email));

  test('when both principals send reminders by hand the same day, then the substitute gets one email', async () => {
    for (const [key, school] of [['linPrincipal', lincoln], ['rooPrincipal', roosevelt]] as const) {
      const agent = agents[key];
      const csrf = await csrfFor(agent, `/school/${id(school)}/reminders`);
      const res = await agent.post(`/school/${id(school)}/reminders/send`).type('form').send({ _csrf: csrf, group: 'all' });
      expect(res.status).toBe(303);
    }
    const manual = await Reminder.find({ user: people.substitute._id, kind: 'manual' }).lean();
    expect(manual).toHaveLength(1);
    expect(String(manual[0].school)).toBe(id(lincoln));
    // Everyone else once too.
    expect(await Reminder.countDocuments({ kind: 'manual' })).toBe(3);
    await runQueuedReminders({ now: () => new Date() });
    expect(sentTo('sam@d.example')).toHaveLength(1);
    expect(sentTo('tia@d.example')).toHaveLength(1);
    expect(sentTo('rae@d.example')).toHaveLength(1);
  });

  test('when the automatic sweep runs 7 days before the due date (twice), then the substitute gets one reminder for it', async () => {
    await ReminderSettings.create({ district: district._id, enabled: true, daysBefore: [7], onDueDate: false, afterEveryDays: 7, afterTimes: 1, principalDigest: true, digestWeekday: 1, sendHour: 7, updatedAt: new Date() });
    const now = at('2099-06-23T16:00:00Z');
    await sweepReminders(now);
    await sweepReminders(now);
    const automatic = await Reminder.find({ user: people.substitute._id, kind: 'before_due' }).lean();
    expect(automatic).toHaveLength(1);
    expect(automatic[0]).toMatchObject({ cycle: '2099-06-30@-7', dueDate: '2099-06-30' });
    const before = sentTo('sam@d.example').length;
    await runQueuedReminders({ now: () => now });
    expect(sentTo('sam@d.example')).toHaveLength(before + 1);
  });

  test('when the digest goes out (overdue), then each principal gets one; the principal of both schools is told of 3 people, not 4, and the substitute is under each school', async () => {
    // 2099-07-06 is a Monday in Los Angeles; the training was due 2099-06-30.
    const monday = at('2099-07-06T17:00:00Z');
    await sweepReminders(monday);
    const digests = await Reminder.find({ kind: 'digest' }).lean();
    expect(digests.map((d) => String(d.user)).sort()).toEqual([people.linPrincipal, people.rooPrincipal, people.bothPrincipal].map(id).sort());
    await runQueuedReminders({ now: () => monday });
    const both = sentTo('principal.both@d.example');
    expect(both).toHaveLength(1);
    expect(both[0].subject).toBe('Weekly update: 3 staff members have overdue training');
    expect(both[0].text.match(/Sam Substitute: 1 training overdue/g)).toHaveLength(2);
    expect(sentTo('principal.lin@d.example').map((m) => m.subject)).toEqual(['Weekly update: 2 staff members have overdue training']);
    expect(sentTo('principal.roo@d.example').map((m) => m.subject)).toEqual(['Weekly update: 2 staff members have overdue training']);
    expect(sentTo('principal.ada@d.example')).toHaveLength(0);
  });
});
