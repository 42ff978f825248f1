/**
 * Sends the outbox (reminder.model.ts). A runner in every app process:
 *   - claims one queued reminder whose time has come — or whose lease lapsed (its process died mid-send) —
 *     with one findOneAndUpdate that sets a lease, so two processes never send the same message;
 *   - renders it from the current records and sends it; an SMTP failure puts it back with exponential
 *     backoff, and after MAX_SEND_ATTEMPTS it is 'failed' with the error shown to the district admin;
 *   - sweeps every SWEEP_EVERY_MS for automatic reminders (reminder-sweep.ts), and each minute for the
 *     districts whose send hour just came;
 *   - deletes final records older than the retention period (reminder-retention.ts).
 * runQueuedReminders does the same in-process until nothing is left (tests, scripts).
 */
import { logger } from '../../shared/logger';
import { startPollingRunner } from '../../shared/polling-runner';
import { newOwnerId } from '../../shared/lease-jobs';
import { getMailer, type Mailer } from '../../shared/mailer';
import { Reminder, type ReminderRecord } from './reminder.model';
import { buildReminderMessage } from './reminder-email';
import { sweepReminders, type SweepResult } from './reminder-sweep';
import { pruneReminders } from './reminder-retention';

export const SEND_LEASE_MS = 120_000;
export const MAX_SEND_ATTEMPTS = 5;
/** Backoff after a failure: 1 min, 2, 4, 8 … at most an hour. */
export const RETRY_BASE_MS = 60_000;
const MAX_RETRY_MS = 3_600_000;
const DEFAULT_POLL_MS = 10_000;
const SWEEP_EVERY_MS = 3_600_000;
/** How often the runner looks for districts whose send hour just came (a cheap read of the schedules). */
const SEND_HOUR_CHECK_MS = 60_000;
const PRUNE_EVERY_MS = 3_600_000;

export type SendOptions = { mailer?: Mailer; now?: () => Date; leaseMs?: number; maxAttempts?: number; concurrency?: number; isStopping?: () => boolean };

export function retryDelayMs(attempts: number): number {
  return Math.min(MAX_RETRY_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/** Claims the queued reminder due longest ago, or one whose lease lapsed; null when there is none. */
export async function claimReminder(owner: string, now: Date, leaseMs = SEND_LEASE_MS): Promise<ReminderRecord | null> {
  return (await Reminder.findOneAndUpdate(
    { status: 'queued', nextAttemptAt: { $lte: now }, $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }] },
    { $set: { owner, leaseUntil: new Date(now.getTime() + leaseMs) }, $inc: { attempts: 1 } },
    { sort: { nextAttemptAt: 1 }, returnDocument: 'after', lean: true },
  )) as ReminderRecord | null;
}

/** Sends one claimed reminder; every write is conditional on still holding it. */
async function sendClaimed(reminder: ReminderRecord, owner: string, mailer: Mailer, now: Date, maxAttempts: number): Promise<'sent' | 'cancelled' | 'retry' | 'failed'> {
  const mine = { _id: reminder._id, owner, status: 'queued' as const };
  const log = logger.child({ reminderId: String(reminder._id), kind: reminder.kind });
  try {
    const built = await buildReminderMessage(reminder, mailer.baseUrl, now);
    if (!built.ok) {
      await Reminder.updateOne(mine, { $set: { status: 'cancelled', cancelReason: built.reason, owner: null, leaseUntil: null, closedAt: new Date() } });
      log.info({ reason: built.reason }, 'reminder not sent');
      return 'cancelled';
    }
    await mailer.send(built.message);
    const sentAt = new Date();
    await Reminder.updateOne(mine, { $set: { status: 'sent', sentAt, closedAt: sentAt, owner: null, leaseUntil: null, lastError: null, language: built.message.language } });
    return 'sent';
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 500) || 'Unknown error';
    if (reminder.attempts >= maxAttempts) {
      await Reminder.updateOne(mine, { $set: { status: 'failed', lastError: message, owner: null, leaseUntil: null, closedAt: new Date() } });
      log.error({ attempts: reminder.attempts, error: message }, 'reminder failed; giving up');
      return 'failed';
    }
    await Reminder.updateOne(mine, { $set: { lastError: message, owner: null, leaseUntil: null, nextAttemptAt: new Date(now.getTime() + retryDelayMs(reminder.attempts)) } });
    log.warn({ attempts: reminder.attempts, error: message }, 'reminder not sent; will retry');
    return 'retry';
  }
}

export type RunResult = { sent: number; cancelled: number; retry: number; failed: number };

/**
 * Sends queued reminders in this process until none is left to claim at `now` (a reminder put back for a
 * retry waits for its backoff). With a disabled mailer nothing is claimed.
 */
export async function runQueuedReminders(options: SendOptions = {}): Promise<RunResult> {
  const mailer = options.mailer ?? getMailer();
  const result: RunResult = { sent: 0, cancelled: 0, retry: 0, failed: 0 };
  if (mailer.mode === 'disabled') return result;
  const owner = newOwnerId();
  const clock = options.now ?? (() => new Date());
  const worker = async () => {
    while (!options.isStopping?.()) {
      const now = clock();
      const reminder = await claimReminder(owner, now, options.leaseMs);
      if (!reminder) return;
      result[await sendClaimed(reminder, owner, mailer, now, options.maxAttempts ?? MAX_SEND_ATTEMPTS)] += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  return result;
}

const wakers = new Set<() => void>();
let sweepRequested = false;

/** Asks this process's runner to sweep at its next turn (the district just changed its schedule). */
export function requestReminderSweep(): void {
  sweepRequested = true;
  pokeReminderRunner();
}

/** Wakes this process's runner (a principal just queued reminders). */
export function pokeReminderRunner(): void {
  for (const wake of wakers) wake();
}

export type ReminderRunner = { stop(): Promise<void> };

/**
 * Polls the outbox every `pollMs` (at once when poked); sweeps for automatic reminders every `sweepEveryMs`,
 * and every minute in between the districts whose send hour just came (so 07:00 means about 07:00, not up
 * to an hour later); prunes old final records hourly.
 */
export function startReminderRunner(options: { pollMs?: number; sweepEveryMs?: number } = {}): ReminderRunner {
  const sweepEveryMs = options.sweepEveryMs ?? SWEEP_EVERY_MS;
  let lastSweep = 0;
  let lastCheck = 0;
  let lastPrune = 0;
  const runner = startPollingRunner('reminders', options.pollMs ?? DEFAULT_POLL_MS, async (isStopping) => {
    const now = Date.now();
    if (now - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now;
      const pruned = await pruneReminders(new Date(now));
      if (pruned.records + pruned.files > 0) logger.info(pruned, 'old reminder records deleted (retention period)');
    }
    if (getMailer().mode !== 'disabled') {
      let swept: SweepResult | undefined;
      if (sweepRequested || now - lastSweep >= sweepEveryMs) {
        sweepRequested = false;
        lastSweep = lastCheck = now;
        swept = await sweepReminders(new Date(now));
      } else if (now - lastCheck >= SEND_HOUR_CHECK_MS) {
        const since = new Date(lastCheck);
        lastCheck = now;
        swept = await sweepReminders(new Date(now), { reachedSince: since });
      }
      if (swept && swept.queued > 0) logger.info(swept, 'automatic reminders queued');
    }
    const sent = await runQueuedReminders({ isStopping });
    if (sent.sent + sent.failed + sent.retry > 0) logger.info(sent, 'reminder outbox run');
    // The outbox was drained (or the rest waits for its retry time): wait for the next poll or a poke.
    return false;
  });
  wakers.add(runner.wake);
  return {
    async stop() {
      wakers.delete(runner.wake);
      await runner.stop();
    },
  };
}
