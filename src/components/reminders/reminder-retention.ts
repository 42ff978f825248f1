/**
 * Least data kept: an outbox record that reached a final status (sent, cancelled, failed) is deleted once
 * its `closedAt` is older than the retention period (REMINDER_RETENTION_DAYS, default 180), and with it the
 * development .eml files of that age. A pruning step of the runner rather than a TTL index, because:
 *   - the period is configuration: a TTL index fixes it in the index (changing it needs a collMod on every
 *     deployment), while a query reads it at each run, and a shorter period applies at once to old records;
 *   - the same code removes the .eml files, which no database index can;
 *   - it is deterministic to test (`pruneReminders(now)`), where a TTL monitor runs when it likes.
 * Queued records are never pruned (not final). What reads the outbox keeps working for anything younger than
 * the period: "last reminded" on the school page (the page says "none in the last N days" rather than
 * "never"), the 24-hour rule for manual sends, the settings page's failures of the last 30 days — hence the
 * minimum of 30 days — and the unique key that stops a reminder being queued twice (the sweep only queues
 * reminders of the last CATCH_UP_DAYS days, far inside the period).
 */
import { getMailer, type Mailer } from '../../shared/mailer';
import { Reminder, FINAL_REMINDER_STATUSES } from './reminder.model';

export const DEFAULT_RETENTION_DAYS = 180;
const DAY_MS = 86_400_000;

let retentionDays = DEFAULT_RETENTION_DAYS;

/** Sets this process's retention period (buildApp does, from the config). */
export function configureReminderRetention(days: number): void {
  retentionDays = days;
}

export function reminderRetentionDays(): number {
  return retentionDays;
}

export type PruneResult = { records: number; files: number };

/** Deletes final outbox records (and .eml files) older than the retention period at `now`. */
export async function pruneReminders(now: Date = new Date(), options: { retentionDays?: number; mailer?: Mailer } = {}): Promise<PruneResult> {
  const cutoff = new Date(now.getTime() - (options.retentionDays ?? retentionDays) * DAY_MS);
  const final = { $in: [...FINAL_REMINDER_STATUSES] };
  // Index { closedAt }. The second statement covers records closed before closedAt existed (their creation date).
  const [closed, older] = await Promise.all([
    Reminder.deleteMany({ status: final, closedAt: { $lt: cutoff } }),
    Reminder.deleteMany({ status: final, closedAt: null, createdAt: { $lt: cutoff } }),
  ]);
  const files = await (options.mailer ?? getMailer()).pruneFiles(cutoff);
  return { records: closed.deletedCount + older.deletedCount, files };
}
