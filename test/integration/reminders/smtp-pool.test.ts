import { Types } from 'mongoose';
import { loadConfig } from '../../../src/config';
import { startServer, type RunningServer } from '../../../src/server';
import { pokeReminderRunner, Reminder } from '../../../src/components/reminders';
import { SMTP_POOL_CONNECTIONS } from '../../../src/shared/mailer';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { createAssignment, publishModule } from '../assignments/compliance-fixtures';
import { startSmtpCapture, type SmtpCapture } from './smtp-capture';

// The real server (src/server.ts) with its reminder runner, against a real smtp-server that waits as long as
// it takes for clients to hang up: if the app left a pooled connection open, stopping it would never end.
let smtp: SmtpCapture;
let running: RunningServer;

beforeAll(async () => {
  smtp = await startSmtpCapture(0, { closeTimeoutMs: 600_000 });
  running = await startServer(loadConfig({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, BASE_URL: 'https://training.pool.example' }));
});

afterAll(async () => {
  await running.close();
  await smtp.stop();
});

describe('pooled SMTP connections', () => {
  test('when the runner sends 12 reminders, then they share at most the pool\'s few connections', async () => {
    await publishModule('foundations', [1], 'Foundations');
    const district = await createDistrict();
    const school = await createSchool(district);
    const people = [];
    for (let i = 0; i < 12; i++) people.push(await createUser(district, { name: `Person ${i}`, email: `p${i}@pool.example`, schools: [school] }));
    await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2024-09-30' } });
    const now = new Date();
    await Reminder.collection.insertMany(
      people.map((p) => ({
        _id: new Types.ObjectId(), district: district._id, school: school._id, user: p._id, kind: 'manual', assignment: null, moduleSlug: null, dueDate: null,
        cycle: 'pool', language: 'en', status: 'queued', attempts: 0, nextAttemptAt: now, owner: null, leaseUntil: null, lastError: null,
        cancelReason: null, requestedBy: null, createdAt: now, sentAt: null, closedAt: null,
      })),
    );
    pokeReminderRunner();
    await smtp.waitForMessages(12);
    // The server has the last message; the runner records it as sent a moment later.
    while ((await Reminder.countDocuments({ status: 'sent' })) < 12) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(smtp.messages.map((m) => m.to[0]).sort()).toEqual(people.map((p) => p.email).sort());
    expect(smtp.connections).toBeGreaterThanOrEqual(1);
    expect(smtp.connections).toBeLessThanOrEqual(SMTP_POOL_CONNECTIONS);
    expect(smtp.openConnections()).toBeGreaterThanOrEqual(1);
  });

  test('when the server stops, then it closes its SMTP connections, so the mail server stops at once', async () => {
    expect(smtp.openConnections()).toBeGreaterThanOrEqual(1);
    await running.close();
    await smtp.stop();
    expect(smtp.openConnections()).toBe(0);
    await smtp.restart();
  });
});
