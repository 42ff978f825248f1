import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { complete, createAssignment, publishModule } from '../assignments/compliance-fixtures';
import { Reminder, runQueuedReminders } from '../../../src/components/reminders';
import { syncComplianceForUsers } from '../../../src/components/assignments';
import { AuditEvent } from '../../../src/components/audit/audit.model';
import { configureMailer } from '../../../src/shared/mailer';
import { startSmtpCapture, type SmtpCapture } from './smtp-capture';

let smtp: SmtpCapture;
let t: TestApp;
let lincoln: Awaited<ReturnType<typeof createSchool>>;
let roosevelt: Awaited<ReturnType<typeof createSchool>>;
let principal: Agent;
let people: Record<string, Awaited<ReturnType<typeof createUser>>>;
const DAY = 86_400_000;

const send = async (agent: Agent, group: string, schoolId = String(lincoln._id)) =>
  agent.post(`/school/${schoolId}/reminders/send`).type('form').send({ _csrf: await csrfFor(agent, `/school/${String(lincoln._id)}/reminders`), group });

beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await startTestApp({ SMTP_URL: `smtp://mailer:s3cret-pass@127.0.0.1:${smtp.port}`, MAIL_FROM: 'Training <training@d.example>', BASE_URL: 'https://training.d.example' });
  await publishModule('foundations', [1], 'Foundations');
  const district = await createDistrict();
  lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  await createUser(district, { role: 'principal', email: 'principal.lin@d.example', schools: [lincoln] });
  await createUser(district, { role: 'principal', email: 'principal.roo@d.example', schools: [roosevelt] });
  await createUser(district, { role: 'district_admin', email: 'admin@d.example' });
  people = {
    done: await createUser(district, { name: 'Ana Done', email: 'done@d.example', schools: [lincoln] }),
    late: await createUser(district, { name: 'Ben Late', email: 'late@d.example', schools: [lincoln] }),
    tarde: await createUser(district, { name: 'Carla Tarde', email: 'tarde@d.example', schools: [lincoln], preferredLanguage: 'es' }),
    gone: await createUser(district, { name: 'Dee Gone', email: 'gone@d.example', schools: [lincoln], active: false }),
    other: await createUser(district, { name: 'Eve Roosevelt', email: 'eve@d.example', schools: [roosevelt] }),
  };
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2024-09-30' } });
  await complete(people.done, 'foundations', 1, new Date(Date.now() - 10 * DAY));
  principal = await signIn(t.app, 'principal.lin@d.example');
});

afterAll(async () => {
  await t.close();
  await smtp.stop();
});

describe('POST /school/:schoolId/reminders/send', () => {
  test('when anonymous, then redirected to sign-in and nothing is queued', async () => {
    const res = await request(t.app).post(`/school/${String(lincoln._id)}/reminders/send`).type('form').send({ group: 'urgent' });
    expect([303, 403]).toContain(res.status);
    expect(await Reminder.countDocuments()).toBe(0);
  });

  test('when staff post, then 403; another school\'s principal gets 404; without a CSRF token 403', async () => {
    const staff = await signIn(t.app, 'late@d.example');
    expect((await staff.post(`/school/${String(lincoln._id)}/reminders/send`).type('form').send({ _csrf: await csrfFor(staff, '/training'), group: 'urgent' })).status).toBe(403);
    const otherPrincipal = await signIn(t.app, 'principal.roo@d.example');
    expect((await send(otherPrincipal, 'urgent')).status).toBe(404);
    expect((await otherPrincipal.get(`/school/${String(lincoln._id)}/reminders`)).status).toBe(404);
    expect((await principal.post(`/school/${String(lincoln._id)}/reminders/send`).type('form').send({ group: 'urgent' })).status).toBe(403);
    expect((await send(principal, 'everyone')).status).toBe(400);
    expect(await Reminder.countDocuments()).toBe(0);
  });

  test('when the page opens, then it offers to email the overdue people with their number and shows nobody reminded yet', async () => {
    const res = await principal.get(`/school/${String(lincoln._id)}/reminders`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Email a reminder to 2 people (overdue or expired)');
    expect(res.text).toContain('name="group" value="urgent"');
    expect(res.text).toContain(`data-reminded="${String(people.late._id)}">None in the last 180 days`);
  });

  test('when the principal emails the overdue group, then it returns at once with everything queued, and the runner delivers exactly to the overdue active people in their language', async () => {
    const res = await send(principal, 'urgent');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/school/${String(lincoln._id)}/reminders`);
    const queued = await Reminder.find().lean();
    expect(queued.map((r) => String(r.user)).sort()).toEqual([String(people.late._id), String(people.tarde._id)].sort());
    expect(queued.every((r) => r.status === 'queued' && r.kind === 'manual')).toBe(true);
    expect(smtp.messages).toHaveLength(0);

    const page = await principal.get(res.headers.location);
    expect(page.text).toContain('Reminders queued for 2 people');

    const run = await runQueuedReminders();
    expect(run).toEqual({ sent: 2, cancelled: 0, retry: 0, failed: 0 });
    expect(smtp.users).toContain('mailer');
    const byTo = new Map(smtp.messages.map((m) => [m.to[0], m]));
    expect([...byTo.keys()].sort()).toEqual(['late@d.example', 'tarde@d.example']);
    const en = byTo.get('late@d.example')!;
    expect(en.subject).toBe('Reminder: complete "Foundations (EN)" (due Sep 30, 2024)');
    expect(en.from).toContain('training@d.example');
    expect(en.text).toContain('Hello Ben Late,');
    expect(en.text).toContain('https://training.d.example/training/foundations');
    expect(en.text).toContain('https://training.d.example/training');
    expect(en.text).toContain('Status: Overdue');
    expect(en.html).toContain('href="https://training.d.example/training/foundations"');
    // Nothing about anyone else.
    expect(en.text).not.toContain('Carla');
    expect(en.text).not.toContain('Ana Done');
    const es = byTo.get('tarde@d.example')!;
    expect(es.subject).toContain('Recordatorio: complete “Foundations (ES)”');
    expect(es.text).toContain('Fecha límite: ');
    expect(es.text).toContain('Hola, Carla Tarde:');
    expect(es.headers['content-language']).toBe('es');

    const stored = await Reminder.find().lean();
    expect(stored.every((r) => r.status === 'sent' && r.sentAt && r.attempts === 1)).toBe(true);
    // The retention period counts from the final status.
    expect(stored.every((r) => r.closedAt && r.closedAt.getTime() === r.sentAt!.getTime())).toBe(true);
    expect(stored.find((r) => String(r.user) === String(people.tarde._id))?.language).toBe('es');
    const audit = await AuditEvent.findOne({ action: 'reminders.queued' }).lean();
    expect(audit?.details).toMatchObject({ group: 'urgent', queued: 2, skippedRecent: 0, skippedNoEmail: 0 });
    expect(JSON.stringify(audit)).not.toContain('Foundations');
  });

  test('when the principal clicks again within 24 hours, then nothing new is sent and the page says who was skipped and why', async () => {
    const before = smtp.messages.length;
    const page = await principal.get(`/school/${String(lincoln._id)}/reminders`);
    expect(page.text).toContain('2 people with overdue or expired training were reminded by hand in the last 24 hours');
    expect(page.text).not.toContain('name="group" value="urgent"');
    expect(page.text).not.toContain(`data-reminded="${String(people.late._id)}">None in the last`);
    expect(page.text).toMatch(new RegExp(`data-reminded="${String(people.late._id)}">[^<]*by hand, sent`));

    const res = await send(principal, 'all');
    expect(res.status).toBe(303);
    const after = await principal.get(res.headers.location);
    expect(after.text).toContain('No new reminder was queued.');
    expect(after.text).toContain('2 people were skipped: reminded by hand in the last 24 hours.');
    expect(await Reminder.countDocuments()).toBe(2);
    await runQueuedReminders();
    expect(smtp.messages.length).toBe(before);
  });

  test('when a queued person completes the training before the runner sends, then no email goes out and the record says why', async () => {
    const district = { _id: people.late.district };
    const newcomer = await createUser(district, { name: 'Flo New', email: 'flo@d.example', schools: [lincoln] });
    await syncComplianceForUsers([String(newcomer._id)]);
    const admin = await signIn(t.app, 'admin@d.example');
    expect((await send(admin, 'urgent')).status).toBe(303);
    const record = await Reminder.findOne({ user: newcomer._id }).lean();
    expect(record?.status).toBe('queued');
    await complete(newcomer, 'foundations', 1, new Date());
    const before = smtp.messages.length;
    const run = await runQueuedReminders();
    expect(run.cancelled).toBe(1);
    expect(smtp.messages.length).toBe(before);
    expect((await Reminder.findById(record!._id).lean())?.cancelReason).toBe('completed');
  });

  test('when email is disabled (production without SMTP_URL), then the page says so, offers no button and a post is refused', async () => {
    configureMailer({ smtpUrl: undefined, mailFrom: 'x@d.example', dataDir: '/nonexistent', isProduction: true, baseUrl: 'https://training.d.example' });
    try {
      const page = await principal.get(`/school/${String(roosevelt._id)}/reminders`).catch(() => null);
      expect(page?.status).toBe(404);
      const own = await principal.get(`/school/${String(lincoln._id)}/reminders`);
      expect(own.text).toContain('Email reminders are turned off on this server');
      expect(own.text).not.toContain('/reminders/send');
      const admin = await signIn(t.app, 'admin@d.example');
      const count = await Reminder.countDocuments();
      expect((await send(admin, 'pending', String(roosevelt._id))).status).toBe(409);
      expect(await Reminder.countDocuments()).toBe(count);
    } finally {
      configureMailer({ smtpUrl: `smtp://mailer:s3cret-pass@127.0.0.1:${smtp.port}`, mailFrom: 'Training <training@d.example>', dataDir: '/nonexistent', isProduction: false, baseUrl: 'https://training.d.example' });
    }
  });
});
