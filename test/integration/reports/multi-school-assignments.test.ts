import type request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { pdfText } from '../../helpers/pdf';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { createAssignment, publishModule } from '../assignments/compliance-fixtures';
import { syncComplianceForUsers } from '../../../src/components/assignments';
import { ComplianceRow } from '../../../src/components/assignments/compliance-row.model';
import { ComplianceSummary } from '../../../src/components/assignments/compliance-summary.model';
import { User } from '../../../src/components/users';
import { Reminder, ReminderSettings, runQueuedReminders, sweepReminders } from '../../../src/components/reminders';
import { startSmtpCapture, type SmtpCapture } from '../reminders/smtp-capture';

/**
 * An assignment for one school only (Roosevelt's front desk), and a substitute at Lincoln and Roosevelt: the
 * assignment is theirs at Roosevelt, not at Lincoln. Lincoln's page, its exports, its person page, its digest and
 * its reminders never show it; Roosevelt's do; the district counts it once, under Roosevelt.
 */
let smtp: SmtpCapture;
let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let people: Record<string, Awaited<ReturnType<typeof createUser>>>;
let everyone: Awaited<ReturnType<typeof createAssignment>>;
let frontDesk: Awaited<ReturnType<typeof createAssignment>>;
const agents: Record<string, Agent> = {};

const id = (doc: { _id: unknown }) => String(doc._id);
const at = (iso: string) => new Date(iso);
// The module's cell in a school page's table (its filter lists every module).
const FRONT_DESK_CELL = '<td>Front desk (EN)</td>';
function binary(res: request.Response, callback: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}
const pdfOf = async (agent: Agent, url: string) => (await pdfText((await agent.get(url).buffer(true).parse(binary as never)).body as Buffer)).text;
const linesOf = (csv: string, email: string) => csv.split('\n').filter((line) => line.includes(email));

beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await startTestApp({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, BASE_URL: 'https://training.d.example' });
  await publishModule('foundations', [1], 'Foundations');
  await publishModule('front-desk', [1], 'Front desk');
  district = await createDistrict({ timeZone: 'America/Los_Angeles' });
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary', contacts: { principal: { name: 'Ms. Ana Ruiz', phone: '(213) 555-0101' } } });
  roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle', contacts: { principal: { name: 'Mr. Ray Ortiz', phone: '(213) 555-0202' } } });
  people = {
    admin: await createUser(district, { role: 'district_admin', email: 'admin@d.example' }),
    linPrincipal: await createUser(district, { role: 'principal', name: 'Lin Principal', email: 'principal.lin@d.example', schools: [lincoln] }),
    rooPrincipal: await createUser(district, { role: 'principal', name: 'Roo Principal', email: 'principal.roo@d.example', schools: [roosevelt] }),
    bothPrincipal: await createUser(district, { role: 'principal', name: 'Bo Both', email: 'principal.both@d.example', schools: [lincoln, roosevelt] }),
    // Lincoln first: their first school is one where the front-desk assignment does not apply.
    substitute: await createUser(district, { name: 'Sam Substitute', email: 'sam@d.example', schools: [lincoln, roosevelt], jobTitle: 'substitute_teacher' }),
    teacher: await createUser(district, { name: 'Tia Teacher', email: 'tia@d.example', schools: [lincoln], jobTitle: 'teacher' }),
    rooTeacher: await createUser(district, { name: 'Rae Roosevelt', email: 'rae@d.example', schools: [roosevelt], jobTitle: 'teacher' }),
  };
  everyone = await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2099-12-31' } });
  frontDesk = await createAssignment(district, { moduleSlug: 'front-desk', schools: [roosevelt], due: { kind: 'fixed', date: '2099-06-30' } });
  await syncComplianceForUsers(Object.values(people).map(id));
  for (const key of ['admin', 'linPrincipal', 'rooPrincipal', 'bothPrincipal']) agents[key] = await signIn(t.app, people[key].email);
});

afterAll(async () => {
  await t.close();
  await smtp.stop();
});

describe('what is stored', () => {
  test('when an assignment targets Roosevelt only, then the substitute’s row is at Roosevelt only (their first school there), and Lincoln has no summary of it', async () => {
    const row = await ComplianceRow.findOne({ user: people.substitute._id, assignment: frontDesk._id }).lean();
    expect(row?.schools.map(String)).toEqual([id(roosevelt)]);
    expect(String(row?.primarySchool)).toBe(id(roosevelt));
    // The assignment for everyone is still theirs at both schools, counted once at Lincoln.
    const all = await ComplianceRow.findOne({ user: people.substitute._id, assignment: everyone._id }).lean();
    expect(all?.schools.map(String)).toEqual([id(lincoln), id(roosevelt)]);
    expect(String(all?.primarySchool)).toBe(id(lincoln));

    expect(await ComplianceSummary.findOne({ school: lincoln._id, assignment: frontDesk._id }).lean()).toBeNull();
    const atRoosevelt = await ComplianceSummary.findOne({ school: roosevelt._id, assignment: frontDesk._id }).lean();
    expect(atRoosevelt).toMatchObject({ primary: { rows: 2 }, secondary: { rows: 0 } });
  });

  test('when the substitute is moved to Lincoln only, then their front-desk row goes, and Roosevelt’s summary counts Rae alone', async () => {
    await User.updateOne({ _id: people.substitute._id }, { $set: { schools: [lincoln._id] } });
    await syncComplianceForUsers([id(people.substitute)]);
    try {
      expect(await ComplianceRow.countDocuments({ user: people.substitute._id, assignment: frontDesk._id })).toBe(0);
      expect(await ComplianceSummary.findOne({ school: roosevelt._id, assignment: frontDesk._id }).lean()).toMatchObject({ primary: { rows: 1 }, secondary: { rows: 0 } });
    } finally {
      await User.updateOne({ _id: people.substitute._id }, { $set: { schools: [lincoln._id, roosevelt._id] } });
      await syncComplianceForUsers([id(people.substitute)]);
    }
    expect(await ComplianceSummary.findOne({ school: roosevelt._id, assignment: frontDesk._id }).lean()).toMatchObject({ primary: { rows: 2 } });
  });
});

describe('school pages, person pages and exports', () => {
  test('when each principal opens their school, then Lincoln lists the substitute’s training for everyone only, Roosevelt both', async () => {
    const lin = await agents.linPrincipal.get(`/school/${id(lincoln)}`);
    const roo = await agents.rooPrincipal.get(`/school/${id(roosevelt)}`);
    expect([lin.status, roo.status]).toEqual([200, 200]);
    // Lincoln: Sam and Tia × foundations. Roosevelt: Sam and Rae × (foundations, front desk).
    expect(lin.text).toContain('0 of 2 required trainings completed');
    expect(lin.text).not.toContain(FRONT_DESK_CELL);
    expect(roo.text).toContain('0 of 4 required trainings completed');
    expect(roo.text.split(FRONT_DESK_CELL)).toHaveLength(3);
    // The principal of both schools, on Lincoln's page, sees Lincoln's assignments only too.
    const both = await agents.bothPrincipal.get(`/school/${id(lincoln)}`);
    expect(both.text).toContain('0 of 2 required trainings completed');
    expect(both.text).not.toContain(FRONT_DESK_CELL);
  });

  test('when a principal opens the substitute’s record, then Lincoln’s page lists only the assignment for everyone, Roosevelt’s both', async () => {
    const lin = await agents.linPrincipal.get(`/school/${id(lincoln)}/staff/${id(people.substitute)}`);
    const roo = await agents.rooPrincipal.get(`/school/${id(roosevelt)}/staff/${id(people.substitute)}`);
    expect([lin.status, roo.status]).toEqual([200, 200]);
    expect(lin.text).toContain('Foundations (EN)');
    expect(lin.text).not.toContain('Front desk (EN)');
    expect(roo.text).toContain('Foundations (EN)');
    expect(roo.text).toContain('Front desk (EN)');
  });

  test('when each school is exported, then Lincoln’s file has one line for the substitute and Roosevelt’s two; the district’s names Roosevelt alone on the front-desk line', async () => {
    const lin = await agents.linPrincipal.get(`/reports/compliance.csv?school=${id(lincoln)}`);
    const roo = await agents.rooPrincipal.get(`/reports/compliance.csv?school=${id(roosevelt)}`);
    const adminLin = await agents.admin.get(`/reports/compliance.csv?school=${id(lincoln)}`);
    expect([lin.status, roo.status, adminLin.status]).toEqual([200, 200, 200]);
    expect(linesOf(lin.text, 'sam@d.example')).toHaveLength(1);
    expect(linesOf(lin.text, 'sam@d.example')[0]).toContain('Foundations (EN)');
    expect(linesOf(adminLin.text, 'sam@d.example')).toHaveLength(1);
    expect(linesOf(roo.text, 'sam@d.example')).toHaveLength(2);

    const all = await agents.admin.get('/reports/compliance.csv');
    const sam = linesOf(all.text, 'sam@d.example');
    expect(sam).toHaveLength(2);
    expect(sam.find((line) => line.includes('Front desk (EN)'))).toMatch(/,ROO,/);
    expect(sam.find((line) => line.includes('Foundations (EN)'))).toContain('LIN; ROO');
  });

  test('when the admin opens the district, then each person × assignment counts once (5), and Lincoln’s own figures leave the front desk out', async () => {
    const res = await agents.admin.get('/district');
    expect(res.status).toBe(200);
    expect(res.text).toContain('0 of 5 required trainings completed');
    const lin = await agents.admin.get(`/school/${id(lincoln)}`);
    expect(lin.text).toContain('0 of 2 required trainings completed');
  });

  test('when the board summaries are exported, then Lincoln’s counts 2 trainings, Roosevelt’s 4, the district’s 5', async () => {
    expect(await pdfOf(agents.linPrincipal, `/reports/compliance.pdf?school=${id(lincoln)}`)).toContain('0 of 2 required trainings completed');
    expect(await pdfOf(agents.rooPrincipal, `/reports/compliance.pdf?school=${id(roosevelt)}`)).toContain('0 of 4 required trainings completed');
    expect(await pdfOf(agents.admin, '/reports/compliance.pdf')).toContain('0 of 5 required trainings completed');
  });
});

describe('reminders and digests', () => {
  const sentTo = (email: string) => smtp.messages.filter((m) => m.to.includes(email));

  test('when Lincoln’s principal sends reminders by hand, then the substitute’s email names Lincoln’s training only', async () => {
    const csrf = await csrfFor(agents.linPrincipal, `/school/${id(lincoln)}/reminders`);
    const res = await agents.linPrincipal.post(`/school/${id(lincoln)}/reminders/send`).type('form').send({ _csrf: csrf, group: 'all' });
    expect(res.status).toBe(303);
    expect(await Reminder.countDocuments({ kind: 'manual', user: people.substitute._id, school: lincoln._id })).toBe(1);
    await runQueuedReminders({ now: () => new Date() });
    const mail = sentTo('sam@d.example');
    expect(mail).toHaveLength(1);
    expect(mail[0].text).toContain('Foundations (EN)');
    expect(mail[0].text).not.toContain('Front desk (EN)');
  });

  test('when the automatic reminder for the front desk is queued, then it is about Roosevelt and names Roosevelt’s principal', async () => {
    await ReminderSettings.create({ district: district._id, enabled: true, daysBefore: [7], onDueDate: false, afterEveryDays: 7, afterTimes: 1, principalDigest: true, digestWeekday: 1, sendHour: 7, updatedAt: new Date() });
    const now = at('2099-06-23T16:00:00Z');
    await sweepReminders(now);
    const queued = await Reminder.find({ user: people.substitute._id, kind: 'before_due' }).lean();
    expect(queued).toHaveLength(1);
    expect(String(queued[0].assignment)).toBe(id(frontDesk));
    expect(String(queued[0].school)).toBe(id(roosevelt));
    const before = sentTo('sam@d.example').length;
    await runQueuedReminders({ now: () => now });
    const mail = sentTo('sam@d.example').slice(before);
    expect(mail).toHaveLength(1);
    expect(mail[0].text).toContain('Front desk (EN)');
    expect(mail[0].text).toContain('Mr. Ray Ortiz');
    expect(mail[0].text).not.toContain('Ms. Ana Ruiz');
  });

  test('when only the front desk is overdue, then Lincoln’s principal gets no digest; Roosevelt’s and the principal of both are told of 2 people, the substitute once', async () => {
    // 2099-07-06 is a Monday in Los Angeles: the front desk was due 2099-06-30, foundations is due 2099-12-31.
    const monday = at('2099-07-06T17:00:00Z');
    await sweepReminders(monday);
    const digests = await Reminder.find({ kind: 'digest' }).lean();
    expect(digests.map((d) => String(d.user)).sort()).toEqual([people.rooPrincipal, people.bothPrincipal].map(id).sort());
    await runQueuedReminders({ now: () => monday });
    expect(sentTo('principal.lin@d.example')).toHaveLength(0);
    expect(sentTo('principal.roo@d.example').map((m) => m.subject)).toEqual(['Weekly update: 2 staff members have overdue training']);
    const both = sentTo('principal.both@d.example');
    expect(both.map((m) => m.subject)).toEqual(['Weekly update: 2 staff members have overdue training']);
    expect(both[0].text.match(/Sam Substitute: 1 training overdue/g)).toHaveLength(1);
    expect(both[0].text).not.toContain('Lincoln Elementary');
  });
});
