import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { complete, createAssignment, publishModule } from '../assignments/compliance-fixtures';
import { Reminder, ReminderSettings, runQueuedReminders, sweepReminders } from '../../../src/components/reminders';
import { createMailer, getMailer } from '../../../src/shared/mailer';
import { startSmtpCapture, type SmtpCapture } from './smtp-capture';

let smtp: SmtpCapture;
let t: TestApp;
let admin: Agent;
let district: Awaited<ReturnType<typeof createDistrict>>;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let people: Record<string, Awaited<ReturnType<typeof createUser>>>;

// Due 2099-06-30 in Los Angeles (UTC−7 in summer): the local day D runs from D 07:00Z to D+1 07:00Z.
const at = (iso: string) => new Date(iso);
const settingsForm = (overrides: Record<string, string> = {}) => ({
  reminders_enabled: 'on',
  reminders_daysBefore: '7, 1',
  reminders_onDueDate: 'on',
  reminders_afterEveryDays: '7',
  reminders_afterTimes: '2',
  reminders_principalDigest: 'on',
  reminders_digestWeekday: '1',
  reminders_sendHour: '7',
  ...overrides,
});

beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await startTestApp({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, BASE_URL: 'https://training.d.example' });
  await publishModule('foundations', [1], 'Foundations');
  district = await createDistrict({ timeZone: 'America/Los_Angeles' });
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  const roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  await createUser(district, { role: 'district_admin', email: 'admin@d.example' });
  people = {
    principal: await createUser(district, { role: 'principal', name: 'Pat Principal', email: 'principal.lin@d.example', schools: [lincoln] }),
    rooPrincipal: await createUser(district, { role: 'principal', name: 'Roo Principal', email: 'principal.roo@d.example', schools: [roosevelt] }),
    done: await createUser(district, { name: 'Ana Done', email: 'done@d.example', schools: [lincoln] }),
    todo: await createUser(district, { name: 'Ben Todo', email: 'todo@d.example', schools: [lincoln] }),
    gone: await createUser(district, { name: 'Dee Gone', email: 'gone@d.example', schools: [lincoln], active: false }),
  };
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2099-06-30' } });
  await complete(people.done, 'foundations', 1, new Date());
  admin = await signIn(t.app, 'admin@d.example');
});

afterAll(async () => {
  await t.close();
  await smtp.stop();
});

const postSettings = async (body: Record<string, string>) => admin.post('/admin/settings/reminders').type('form').send({ _csrf: await csrfFor(admin, '/admin/settings'), ...body });

describe('district reminder settings', () => {
  test('when the schedule is off (default), then a sweep queues nothing', async () => {
    expect((await sweepReminders(at('2099-06-23T15:00:00Z'))).queued).toBe(0);
    expect(await Reminder.countDocuments()).toBe(0);
  });

  test('when the input is bad, then 422 with the errors and the entered values kept, nothing saved', async () => {
    const res = await postSettings(settingsForm({ reminders_daysBefore: '7, banana', reminders_afterEveryDays: '0' }));
    expect(res.status).toBe(422);
    expect(res.text).toContain('value="7, banana"');
    expect(res.text).toContain('Enter up to 5 whole numbers of days');
    expect(res.text).toContain('Enter a whole number of days from 1 to 90.');
    expect(res.text).toContain('id="field-reminders_enabled" name="reminders_enabled" value="on" checked');
    expect(await ReminderSettings.countDocuments()).toBe(0);
  });

  test('when a principal posts the schedule, then 403; without CSRF 403', async () => {
    const principal = await signIn(t.app, 'principal.lin@d.example');
    expect((await principal.post('/admin/settings/reminders').type('form').send({ _csrf: await csrfFor(principal, '/training'), ...settingsForm() })).status).toBe(403);
    expect((await admin.post('/admin/settings/reminders').type('form').send(settingsForm())).status).toBe(403);
    expect(await ReminderSettings.countDocuments()).toBe(0);
  });

  test('when the admin saves a valid schedule, then it is stored, audited and shown again', async () => {
    const res = await postSettings(settingsForm());
    expect(res.status).toBe(303);
    const stored = await ReminderSettings.findOne({ district: district._id }).lean();
    expect(stored).toMatchObject({ enabled: true, daysBefore: [7, 1], onDueDate: true, afterEveryDays: 7, afterTimes: 2, principalDigest: true, digestWeekday: 1, sendHour: 7 });
    const page = await admin.get(res.headers.location);
    expect(page.text).toContain('Reminder settings saved.');
    expect(page.text).toContain('value="7, 1"');
  });
});

describe('automatic sweep', () => {
  test('when it is not yet 7 days before the due date in the district\'s time zone, then nothing is queued', async () => {
    // 2099-06-23 06:00Z is still 22 June (23:00) in Los Angeles.
    expect((await sweepReminders(at('2099-06-23T06:00:00Z'))).queued).toBe(0);
  });

  test('when it is 7 days before, then from the send hour (07:00 local) one reminder is queued for the person still to do it — never the completed or inactive — and sweeping again, or twice at once, adds none', async () => {
    // 06:59 in Los Angeles on 23 June: the day has come, the send hour not yet.
    expect(await sweepReminders(at('2099-06-23T13:59:00Z'))).toMatchObject({ districts: 0, beforeSendHour: 1, queued: 0 });
    expect(await Reminder.countDocuments()).toBe(0);
    const now = at('2099-06-23T14:00:00Z');
    const first = await sweepReminders(now);
    expect(first.queued).toBe(1);
    const again = await Promise.all([sweepReminders(now), sweepReminders(now), sweepReminders(at('2099-06-24T20:00:00Z'))]);
    expect(again.map((r) => r.queued)).toEqual([0, 0, 0]);
    const all = await Reminder.find().lean();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ kind: 'before_due', cycle: '2099-06-30@-7', dueDate: '2099-06-30', status: 'queued' });
    expect(String(all[0].user)).toBe(String(people.todo._id));

    // Two runners at once: the lease lets exactly one send it.
    const runs = await Promise.all([runQueuedReminders({ now: () => now }), runQueuedReminders({ now: () => now })]);
    expect(runs[0].sent + runs[1].sent).toBe(1);
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0].to).toEqual(['todo@d.example']);
    expect(smtp.messages[0].subject).toBe('Due Jun 30, 2099: "Foundations (EN)"');
    expect(smtp.messages[0].text).toContain('The following required training is due soon:');
  });

  test('when it is the day before and then the due date, then one more reminder each, and after the due date every 7 days at most twice', async () => {
    for (const day of ['2099-06-29', '2099-06-30', '2099-07-07', '2099-07-14', '2099-07-21', '2099-07-28']) await sweepReminders(at(`${day}T16:00:00Z`));
    const cycles = (await Reminder.find({ user: people.todo._id }).lean()).map((r) => r.cycle).sort();
    expect(cycles).toEqual(['2099-06-30@+14', '2099-06-30@+7', '2099-06-30@-1', '2099-06-30@-7', '2099-06-30@0']);
    expect(await Reminder.countDocuments({ user: { $in: [people.done._id, people.gone._id] } })).toBe(0);
    await runQueuedReminders({ now: () => at('2099-07-21T16:00:00Z') });
    const subjects = smtp.messages.map((m) => m.subject);
    expect(subjects).toContain('Due today: "Foundations (EN)"');
    expect(subjects).toContain('Overdue since Jun 30, 2099: "Foundations (EN)"');
  });

  test('when it is the digest weekday, then each principal with overdue staff gets one digest naming only their own school\'s overdue staff', async () => {
    // 2099-07-06 is a Monday in Los Angeles; the training is overdue then.
    const monday = at('2099-07-06T17:00:00Z');
    await sweepReminders(monday);
    await sweepReminders(monday);
    const digests = await Reminder.find({ kind: 'digest' }).lean();
    expect(digests.map((d) => String(d.user))).toEqual([String(people.principal._id)]);
    smtp.messages.length = 0;
    await runQueuedReminders({ now: () => monday });
    const digest = smtp.messages.find((m) => m.to[0] === 'principal.lin@d.example')!;
    expect(digest.subject).toBe('Weekly update: 1 staff member has overdue training');
    expect(digest.text).toContain('Ben Todo: 1 training overdue');
    expect(digest.text).toContain(`https://training.d.example/school/${String(lincoln._id)}/reminders`);
    expect(digest.text).not.toContain('Ana Done');
    expect(smtp.messages.filter((m) => m.to[0] === 'principal.roo@d.example')).toHaveLength(0);
  });
});

describe('delivery failures', () => {
  test('when the SMTP server is down, then the reminder stays queued with the error, and a later run after it comes back delivers it once', async () => {
    await Reminder.deleteMany({});
    smtp.messages.length = 0;
    const now = at('2099-06-29T16:00:00Z');
    expect((await sweepReminders(now)).queued).toBe(1);
    await smtp.crash();
    try {
      const run = await runQueuedReminders({ now: () => now });
      expect(run.retry).toBe(1);
      const waiting = await Reminder.findOne().lean();
      expect(waiting).toMatchObject({ status: 'queued', attempts: 1 });
      expect(waiting?.lastError).toMatch(/ECONNREFUSED|connect/i);
      expect(waiting!.nextAttemptAt.getTime()).toBeGreaterThan(now.getTime());
      // Not yet due again: a run at the same time sends nothing.
      expect((await runQueuedReminders({ now: () => now })).retry).toBe(0);
    } finally {
      await smtp.restart();
    }
    const later = new Date(now.getTime() + 5 * 60_000);
    expect((await runQueuedReminders({ now: () => later })).sent).toBe(1);
    expect(smtp.messages).toHaveLength(1);
    expect(await Reminder.findOne().lean()).toMatchObject({ status: 'sent', attempts: 2, lastError: null });
  });

  test('when the server keeps refusing, then the runner gives up after N attempts, marks it failed and the settings page shows it', async () => {
    await Reminder.deleteMany({});
    const now = at('2099-06-30T16:00:00Z');
    await sweepReminders(now);
    smtp.refuse = true;
    try {
      let clock = now.getTime();
      for (let i = 0; i < 3; i++) {
        await runQueuedReminders({ now: () => new Date(clock), maxAttempts: 3 });
        clock += 3_600_000;
      }
    } finally {
      smtp.refuse = false;
    }
    const failed = await Reminder.findOne().lean();
    expect(failed).toMatchObject({ status: 'failed', attempts: 3 });
    expect(failed?.lastError).toContain('Mailbox temporarily unavailable');
    expect((await runQueuedReminders({ now: () => new Date(now.getTime() + 86_400_000) })).sent).toBe(0);
    const page = await admin.get('/admin/settings');
    expect(page.text).toContain('1 reminder email could not be delivered in the last 30 days');
  });
});

describe('.eml fallback', () => {
  test('when no SMTP_URL is set outside production, then messages are written as .eml files under the data directory', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sst-outbox-'));
    try {
      const mailer = createMailer({ smtpUrl: undefined, mailFrom: 'Training <training@d.example>', dataDir: dir, isProduction: false, baseUrl: 'http://localhost:3000' });
      expect(mailer.mode).toBe('file');
      expect(getMailer().mode).toBe('smtp');
      await Reminder.deleteMany({});
      await sweepReminders(at('2099-06-23T16:00:00Z'));
      expect((await runQueuedReminders({ mailer, now: () => at('2099-06-23T16:00:00Z') })).sent).toBe(1);
      const files = await readdir(path.join(dir, 'outbox'));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/\.eml$/);
      const raw = await readFile(path.join(dir, 'outbox', files[0]), 'utf8');
      expect(raw).toContain('To: todo@d.example');
      expect(raw).toContain('http://localhost:3000/training/foundations');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
