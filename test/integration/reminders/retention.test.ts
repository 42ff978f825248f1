import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { createAssignment, publishModule } from '../assignments/compliance-fixtures';
import { pruneReminders, Reminder } from '../../../src/components/reminders';
import { createMailer } from '../../../src/shared/mailer';
import { startSmtpCapture, type SmtpCapture } from './smtp-capture';

const DAY = 86_400_000;
let smtp: SmtpCapture;
let t: TestApp;
let principal: Agent;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let people: Record<string, Awaited<ReturnType<typeof createUser>>>;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await startTestApp({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, REMINDER_RETENTION_DAYS: '30' });
  await publishModule('foundations', [1], 'Foundations');
  district = await createDistrict();
  school = await createSchool(district, { name: 'Lincoln Elementary' });
  await createUser(district, { role: 'principal', email: 'principal@rt.example', schools: [school] });
  people = {
    recent: await createUser(district, { name: 'Ana Recent', email: 'recent@rt.example', schools: [school] }),
    old: await createUser(district, { name: 'Ben Old', email: 'old@rt.example', schools: [school] }),
    waiting: await createUser(district, { name: 'Cy Waiting', email: 'waiting@rt.example', schools: [school] }),
  };
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2024-09-30' } });
  principal = await signIn(t.app, 'principal@rt.example');
});

afterAll(async () => {
  await t.close();
  await smtp.stop();
});

/** An outbox record as the runner leaves it; `closedAt: undefined` is a record from before closedAt existed. */
function record(user: { _id: Types.ObjectId }, status: string, createdAt: Date, closedAt: Date | null | undefined, cycle: string) {
  const doc: Record<string, unknown> = {
    _id: new Types.ObjectId(),
    district: district._id,
    school: school._id,
    user: user._id,
    kind: 'manual',
    assignment: null,
    cycle,
    language: 'en',
    status,
    attempts: 1,
    nextAttemptAt: createdAt,
    owner: null,
    leaseUntil: null,
    lastError: status === 'failed' ? 'Mailbox unavailable' : null,
    cancelReason: status === 'cancelled' ? 'completed' : null,
    requestedBy: null,
    createdAt,
    sentAt: status === 'sent' ? closedAt ?? createdAt : null,
  };
  if (closedAt !== undefined) doc.closedAt = closedAt;
  return doc;
}

describe('outbox retention (REMINDER_RETENTION_DAYS=30)', () => {
  test('when final records are older than the period, then they are deleted — queued ones and recent ones stay — and "last reminded" still shows the recent one', async () => {
    const now = new Date();
    const ago = (days: number) => new Date(now.getTime() - days * DAY);
    await Reminder.collection.insertMany([
      record(people.recent, 'sent', ago(10), ago(10), 'r-sent-10'),
      record(people.recent, 'sent', ago(45), ago(44), 'r-sent-44'),
      record(people.old, 'sent', ago(40), ago(40), 'o-sent-40'),
      record(people.old, 'failed', ago(41), ago(40), 'o-failed-40'),
      record(people.old, 'cancelled', ago(42), ago(41), 'o-cancelled-41'),
      // Closed 29 days ago although created 40 days ago: the period counts from closedAt.
      record(people.old, 'failed', ago(40), ago(29), 'o-failed-29'),
      // From before closedAt existed: the creation date decides.
      record(people.old, 'sent', ago(50), undefined, 'o-legacy-50'),
      record(people.waiting, 'sent', ago(5), undefined, 'w-legacy-5'),
      // Still queued (waiting for a retry): never pruned, whatever its age.
      record(people.waiting, 'queued', ago(60), null, 'w-queued-60'),
    ]);

    const pruned = await pruneReminders(now);
    expect(pruned.records).toBe(5);
    const left = (await Reminder.find().lean()).map((r) => r.cycle).sort();
    expect(left).toEqual(['o-failed-29', 'r-sent-10', 'w-legacy-5', 'w-queued-60']);
    expect((await pruneReminders(now)).records).toBe(0);

    const page = await principal.get(`/school/${String(school._id)}/reminders`);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(new RegExp(`data-reminded="${String(people.recent._id)}">[^<]*by hand, sent`));
    expect(page.text).toMatch(new RegExp(`data-reminded="${String(people.old._id)}">[^<]*by hand, failed`));
    expect(page.text).toMatch(new RegExp(`data-reminded="${String(people.waiting._id)}">[^<]*by hand, sent`));

    await Reminder.deleteMany({ user: people.old._id });
    const after = await principal.get(`/school/${String(school._id)}/reminders?lang=es`);
    expect(after.text).toContain(`data-reminded="${String(people.old._id)}">Ninguno en los últimos 30 días`);
    const en = await principal.get(`/school/${String(school._id)}/reminders?lang=en`);
    expect(en.text).toContain(`data-reminded="${String(people.old._id)}">None in the last 30 days`);
  });

  test('when the last reminder of someone is older than the 5,000 newest of the school, then it is still the one shown', async () => {
    await Reminder.deleteMany({});
    const now = Date.now();
    const filler = Array.from({ length: 5_001 }, (_, i) => record(people.recent, 'sent', new Date(now - i * 1000), new Date(now - i * 1000), `fill-${i}`));
    await Reminder.collection.insertMany([...filler, record(people.old, 'sent', new Date(now - 2 * DAY), new Date(now - 2 * DAY), 'old-2')]);
    const page = await principal.get(`/school/${String(school._id)}/reminders`);
    expect(page.text).toMatch(new RegExp(`data-reminded="${String(people.old._id)}">[^<]*by hand, sent`));
    await Reminder.deleteMany({});
  });

  test('when the development mailer wrote .eml files, then files older than the period are deleted with the records', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sst-retention-'));
    try {
      const mailer = createMailer({ smtpUrl: undefined, mailFrom: 'Training <t@rt.example>', dataDir: dir, isProduction: false, baseUrl: 'http://localhost' });
      for (const to of ['a@rt.example', 'b@rt.example']) await mailer.send({ to, subject: 's', text: 't', html: '<p>h</p>', language: 'en' });
      const outbox = path.join(dir, 'outbox');
      const [first, second] = (await readdir(outbox)).sort();
      const old = new Date(Date.now() - 31 * DAY);
      await utimes(path.join(outbox, first), old, old);
      expect(await pruneReminders(new Date(), { mailer })).toEqual({ records: 0, files: 1 });
      expect(await readdir(outbox)).toEqual([second]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
