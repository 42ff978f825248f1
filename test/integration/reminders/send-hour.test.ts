import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { createAssignment, publishModule } from '../assignments/compliance-fixtures';
import { Reminder, ReminderSettings, sweepReminders } from '../../../src/components/reminders';
import { AuditEvent } from '../../../src/components/audit/audit.model';
import { startSmtpCapture, type SmtpCapture } from './smtp-capture';

// Los Angeles: 2099-03-08 is the spring-forward Sunday (02:00 PST → 03:00 PDT), 2099-11-01 the fall-back one.
const at = (iso: string) => new Date(iso);
let smtp: SmtpCapture;
let t: TestApp;
let admin: Agent;
let district: Awaited<ReturnType<typeof createDistrict>>;
let todo: Awaited<ReturnType<typeof createUser>>;

const form = (overrides: Record<string, string> = {}) => ({
  reminders_enabled: 'on',
  reminders_daysBefore: '',
  reminders_onDueDate: 'on',
  reminders_afterEveryDays: '7',
  reminders_afterTimes: '0',
  reminders_principalDigest: 'on',
  reminders_digestWeekday: '7',
  reminders_sendHour: '7',
  ...overrides,
});
const postSettings = async (body: Record<string, string>) => admin.post('/admin/settings/reminders').type('form').send({ _csrf: await csrfFor(admin, '/admin/settings'), ...body });
const kinds = async () => (await Reminder.find({ district: district._id }).lean()).map((r) => `${r.kind}:${r.cycle}`).sort();

beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await startTestApp({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
  await publishModule('foundations', [1], 'Foundations');
  await publishModule('visits', [1], 'Visits');
  district = await createDistrict({ timeZone: 'America/Los_Angeles' });
  const school = await createSchool(district, { name: 'Lincoln Elementary' });
  await createUser(district, { role: 'district_admin', email: 'admin@sh.example' });
  await createUser(district, { role: 'principal', email: 'principal@sh.example', schools: [school] });
  todo = await createUser(district, { name: 'Ben Todo', email: 'todo@sh.example', schools: [school] });
  // Due on the spring-forward day; a second training long overdue makes the principal's digest due on Sundays.
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2099-03-08' } });
  await createAssignment(district, { moduleSlug: 'visits', due: { kind: 'fixed', date: '2099-01-05' } });
  admin = await signIn(t.app, 'admin@sh.example');
});

afterAll(async () => {
  await t.close();
  await smtp.stop();
});

beforeEach(async () => {
  await Reminder.deleteMany({});
});

describe('send hour setting', () => {
  test('when the settings page opens, then the send hour offers 00:00 to 23:00 with 07:00 chosen by default', async () => {
    const page = await admin.get('/admin/settings');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<label for="field-reminders_sendHour">Send at</label>');
    expect(page.text).toContain('<option value="7" selected>07:00</option>');
    expect(page.text).toContain('<option value="23">23:00</option>');
  });

  test('when the send hour is out of range or not a number, then 422 with the error, the other entered values kept, nothing saved', async () => {
    for (const bad of ['24', '-1', 'seven', '7.5']) {
      const res = await postSettings(form({ reminders_sendHour: bad, reminders_daysBefore: '9, 2' }));
      expect([bad, res.status]).toEqual([bad, 422]);
      expect(res.text).toContain('Choose an hour from 00:00 to 23:00.');
      expect(res.text).toContain('href="#field-reminders_sendHour"');
      expect(res.text).toContain('aria-describedby="hint-reminders_sendHour error-reminders_sendHour" aria-invalid="true"');
      expect(res.text).toContain('value="9, 2"');
    }
    expect((await admin.get('/admin/settings?lang=es')).text).toContain('Enviar a partir de las');
    const es = await postSettings(form({ reminders_sendHour: '25' }));
    expect(es.status).toBe(422);
    expect(es.text).toContain('Elija una hora de 00:00 a 23:00.');
    await admin.get('/admin/settings?lang=en');
    expect(await ReminderSettings.countDocuments({ district: district._id })).toBe(0);
  });

  test('when a valid hour is saved, then it is stored, audited with the schedule, and shown chosen', async () => {
    const res = await postSettings(form({ reminders_sendHour: '6' }));
    expect(res.status).toBe(303);
    expect(await ReminderSettings.findOne({ district: district._id }).lean()).toMatchObject({ enabled: true, sendHour: 6 });
    const audit = await AuditEvent.findOne({ action: 'reminders.settings_updated', 'target.id': String(district._id) }).sort({ _id: -1 }).lean();
    expect(audit?.details).toMatchObject({ sendHour: 6 });
    expect((await admin.get('/admin/settings')).text).toContain('<option value="6" selected>06:00</option>');
  });
});

describe('automatic reminders wait for the send hour, in district time, also across daylight saving', () => {
  test('when it is the spring-forward day, then nothing goes before 07:00 PDT (13:59Z) and the due-date reminder and the digest are queued from 07:00 PDT (14:00Z), once', async () => {
    await ReminderSettings.updateOne({ district: district._id }, { $set: { sendHour: 7 } });
    expect(await sweepReminders(at('2099-03-08T10:00:00Z'))).toMatchObject({ beforeSendHour: 1, queued: 0 }); // 03:00 PDT
    expect(await sweepReminders(at('2099-03-08T13:59:00Z'))).toMatchObject({ beforeSendHour: 1, queued: 0 }); // 06:59 PDT
    expect(await kinds()).toEqual([]);
    // With a fixed UTC−8 (yesterday's offset) this would still be 06:00.
    expect(await sweepReminders(at('2099-03-08T14:00:00Z'))).toMatchObject({ districts: 1, beforeSendHour: 0, queued: 2 });
    expect(await sweepReminders(at('2099-03-08T20:00:00Z'))).toMatchObject({ districts: 1, queued: 0, alreadyQueued: 2 });
    expect(await kinds()).toEqual(['digest:2099-03-08', 'on_due:2099-03-08@0']);
    const onDue = await Reminder.findOne({ kind: 'on_due' }).lean();
    expect(String(onDue!.user)).toBe(String(todo._id));
  });

  test('when the send hour is 02:00 on the spring-forward day (an hour that does not exist), then the reminders go at 03:00 PDT', async () => {
    await ReminderSettings.updateOne({ district: district._id }, { $set: { sendHour: 2 } });
    expect((await sweepReminders(at('2099-03-08T09:59:00Z'))).queued).toBe(0); // 01:59 PST
    expect((await sweepReminders(at('2099-03-08T10:00:00Z'))).queued).toBe(2); // 03:00 PDT
  });

  test('when it is the fall-back day, then 07:00 PST is 15:00Z: nothing at 14:30Z, the digest at 15:00Z', async () => {
    await ReminderSettings.updateOne({ district: district._id }, { $set: { sendHour: 7 } });
    expect(await sweepReminders(at('2099-11-01T14:30:00Z'))).toMatchObject({ beforeSendHour: 1, queued: 0 }); // 06:30 PST (07:30 by summer time)
    expect((await sweepReminders(at('2099-11-01T15:00:00Z'))).queued).toBe(1);
    expect(await kinds()).toEqual(['digest:2099-11-01']);
  });

  test('when the runner checks each minute, then it sweeps a district only in the minute its send hour came', async () => {
    await ReminderSettings.updateOne({ district: district._id }, { $set: { sendHour: 7 } });
    expect(await sweepReminders(at('2099-03-08T14:00:30Z'), { reachedSince: at('2099-03-08T13:59:30Z') })).toMatchObject({ districts: 1, queued: 2 });
    await Reminder.deleteMany({});
    expect(await sweepReminders(at('2099-03-08T14:01:30Z'), { reachedSince: at('2099-03-08T14:00:30Z') })).toMatchObject({ districts: 0, queued: 0 });
    expect(await kinds()).toEqual([]);
  });

  test('when the schedule was saved before the send hour existed, then 07:00 applies', async () => {
    await ReminderSettings.collection.updateOne({ district: district._id }, { $unset: { sendHour: '' } });
    expect((await sweepReminders(at('2099-03-08T13:59:00Z'))).queued).toBe(0);
    expect((await sweepReminders(at('2099-03-08T14:00:00Z'))).queued).toBe(2);
    expect((await admin.get('/admin/settings')).text).toContain('<option value="7" selected>07:00</option>');
  });
});
