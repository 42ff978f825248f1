/**
 * One-off measurement (not a `npm run bench` target): reminder emails per second to a real smtp-server on
 * localhost, on the embedded MongoDB in memory, with one SMTP connection per message (the mailer before
 * pooling) against the app's pooled mailer, alternated in the same process so machine load hits both alike:
 *   - mailer:     N messages straight through the mailer, 4 at a time (the runner's workers);
 *   - end to end: N queued manual reminders sent by runQueuedReminders (claim, render from the records, send).
 * The server does a reverse DNS lookup of each new connection, as smtp-server (and most real servers) do by
 * default; NO_REVERSE=1 turns it off to see the bare cost of a connection.
 * Run: npx tsx bench/oneoff/reminder-smtp-throughput.ts [N] [rounds]
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Types } from 'mongoose';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { startTestApp } from '../../test/helpers/app';
import { createDistrict, createSchool, createUser } from '../../test/helpers/factories';
import { createAssignment, publishModule } from '../../test/integration/assignments/compliance-fixtures';
import { Reminder, runQueuedReminders } from '../../src/components/reminders';
import { createMailer, type Mailer } from '../../src/shared/mailer';

/** The SMTP mailer as it was before pooling: nodemailer's default transport, a connection per message. */
function unpooledMailer(url: string, base: Mailer): Mailer {
  const transport = nodemailer.createTransport(url, { from: base.from });
  return {
    ...base,
    async send(message) {
      const info = await transport.sendMail({ to: message.to, subject: message.subject, text: message.text, html: message.html, headers: { 'Content-Language': message.language } });
      return { messageId: String(info.messageId) };
    },
    close: () => transport.close(),
  };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 300);
  const rounds = Number(process.argv[3] ?? 2);
  let received = 0;
  let connections = 0;
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: process.env.NO_REVERSE === '1',
    logger: false,
    onConnect: (_session, callback) => {
      connections += 1;
      callback();
    },
    onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received += 1;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `smtp://bench:pw@127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  const t = await startTestApp({ SMTP_URL: url, BASE_URL: 'https://training.example' });

  await publishModule('foundations', [1], 'Foundations');
  const district = await createDistrict();
  const school = await createSchool(district);
  const people: Awaited<ReturnType<typeof createUser>>[] = [];
  for (let i = 0; i < n; i++) people.push(await createUser(district, { name: `Person ${i}`, email: `person${i}@d.example`, schools: [school] }));
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2024-09-30' } });

  const mailerRun = async (mailer: Mailer) => {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < n) {
          const i = next++;
          await mailer.send({ to: `p${i}@d.example`, subject: `Reminder ${i}`, text: 'Hello\n'.repeat(20), html: '<p>Hello</p>'.repeat(20), language: 'en' });
        }
      }),
    );
    return n / ((performance.now() - started) / 1000);
  };
  const endToEnd = async (mailer: Mailer) => {
    await Reminder.deleteMany({});
    const now = new Date();
    await Reminder.insertMany(
      people.map((p) => ({
        district: district._id, school: school._id, user: p._id, kind: 'manual', assignment: null, cycle: 'bench', language: 'en', status: 'queued',
        attempts: 0, nextAttemptAt: now, createdAt: now, requestedBy: new Types.ObjectId(),
      })),
    );
    const started = performance.now();
    const run = await runQueuedReminders({ mailer });
    if (run.sent !== n) throw new Error(`sent ${run.sent} of ${n}`);
    return n / ((performance.now() - started) / 1000);
  };

  const results: Record<string, number[]> = {};
  const record = (key: string, value: number) => (results[key] ??= []).push(value);
  for (let round = 0; round < rounds; round++) {
    for (const kind of ['unpooled', 'pooled'] as const) {
      const pooled = createMailer(t.config);
      const mailer = kind === 'pooled' ? pooled : unpooledMailer(url, pooled);
      const before = connections;
      record(`${kind} mailer`, await mailerRun(mailer));
      record(`${kind} end to end`, await endToEnd(mailer));
      record(`${kind} connections per ${2 * n} messages`, connections - before);
      mailer.close();
      pooled.close();
    }
  }
  for (const [key, values] of Object.entries(results)) process.stdout.write(`${key}: ${values.map((v) => (Number.isInteger(v) ? String(v) : v.toFixed(1))).join(', ')}\n`);
  process.stdout.write(`server received ${received}\n`);
  await t.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
