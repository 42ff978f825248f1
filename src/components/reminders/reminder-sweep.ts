/**
 * The automatic-reminder sweep: for each district whose schedule is on, one indexed scan of its compliance
 * rows (index { district, name, user }) picks the (person, training) pairs with a reminder due today in
 * the district's time zone (reminder-schedule.ts), and one insert queues them — once the district's send
 * hour has come (reminder-send-hour.ts); before it the district is left for a later sweep. The unique key
 * (user, assignment, kind, cycle) makes the sweep idempotent: running it twice, or in two processes at once,
 * queues each reminder once. On the digest weekday each principal with overdue staff gets one digest.
 */
import { Types } from 'mongoose';
import { logger } from '../../shared/logger';
import { localDateOf, statusAt, streamRowBatches } from '../assignments';
import { District } from '../districts';
import { User } from '../users';
import { Reminder } from './reminder.model';
import { ReminderSettings, type ReminderSettingsRecord } from './reminder-settings.model';
import { DEFAULT_SEND_HOUR, dueReminder, reminderOffsets, weekdayOf } from './reminder-schedule';
import { hasReachedSendHour, reachedSendHourSince } from './reminder-send-hour';

/** districts: swept; beforeSendHour: schedule on, but the district's send hour has not come yet today. */
export type SweepResult = { districts: number; beforeSendHour: number; queued: number; alreadyQueued: number };
export type SweepOptions = {
  /** Only this district. */
  districtId?: string;
  /** Only districts whose send hour came after this instant (the runner's minute check). */
  reachedSince?: Date;
};

type NewReminder = Record<string, unknown> & { user: Types.ObjectId };

function isDuplicateKeyOnly(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: { code?: number }[] | { code?: number } } | null;
  if (!e) return false;
  if (e.code === 11000 && !e.writeErrors) return true;
  const list = Array.isArray(e.writeErrors) ? e.writeErrors : e.writeErrors ? [e.writeErrors] : [];
  return list.length > 0 && list.every((w) => w.code === 11000);
}

/**
 * Inserts outbox records, each at most once: duplicates of the unique key are counted, not errors.
 * Shared with the manual send. Returns the ids of the people newly queued.
 */
export async function insertReminders(docs: NewReminder[]): Promise<{ inserted: Set<string>; duplicates: number }> {
  if (docs.length === 0) return { inserted: new Set(), duplicates: 0 };
  const withIds = docs.map((d) => ({ _id: new Types.ObjectId(), ...d }));
  let failedIndexes = new Set<number>();
  try {
    await Reminder.collection.insertMany(withIds, { ordered: false });
  } catch (err) {
    if (!isDuplicateKeyOnly(err)) throw err;
    const writeErrors = (err as { writeErrors?: { index: number }[] | { index: number } }).writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    failedIndexes = new Set(list.map((w) => w.index));
  }
  const inserted = new Set<string>();
  withIds.forEach((d, i) => {
    if (!failedIndexes.has(i)) inserted.add(String(d.user));
  });
  return { inserted, duplicates: failedIndexes.size };
}

export function baseReminder(now: Date): Record<string, unknown> {
  return { status: 'queued', attempts: 0, nextAttemptAt: now, owner: null, leaseUntil: null, lastError: null, cancelReason: null, createdAt: now, sentAt: null, closedAt: null };
}

type DistrictSweep = { outcome: 'swept' | 'before_send_hour' | 'not_due'; queued: number; alreadyQueued: number };

async function sweepDistrict(settings: ReminderSettingsRecord, now: Date, reachedSince?: Date): Promise<DistrictSweep> {
  const district = await District.findById(settings.district, { timeZone: 1 }).lean();
  if (!district) return { outcome: 'not_due', queued: 0, alreadyQueued: 0 };
  const sendHour = settings.sendHour ?? DEFAULT_SEND_HOUR;
  if (!hasReachedSendHour(now, district.timeZone, sendHour)) return { outcome: 'before_send_hour', queued: 0, alreadyQueued: 0 };
  if (reachedSince && !reachedSendHourSince(reachedSince, now, district.timeZone, sendHour)) return { outcome: 'not_due', queued: 0, alreadyQueued: 0 };
  const districtId = String(district._id);
  const today = localDateOf(now, district.timeZone);
  const offsets = reminderOffsets(settings);
  const isDigestDay = settings.principalDigest && weekdayOf(today) === settings.digestWeekday;
  const candidates: NewReminder[] = [];
  const overdueSchools = new Set<string>();
  for await (const batch of streamRowBatches({ districtId }, {}, now)) {
    for (const row of batch) {
      const status = statusAt(row, now);
      if (status === 'completed') continue;
      if (isDigestDay && (status === 'overdue' || status === 'expired')) for (const s of row.schools) overdueSchools.add(String(s));
      const due = dueReminder(settings, row.dueDate, today, offsets);
      if (!due) continue;
      candidates.push({ district: district._id, school: row.primarySchool ?? null, user: row.user, kind: due.kind, assignment: row.assignment, moduleSlug: row.moduleSlug, dueDate: row.dueDate, cycle: due.cycle, requestedBy: null });
    }
  }
  if (isDigestDay && overdueSchools.size > 0) {
    const principals = await User.find(
      { district: district._id, role: 'principal', active: true, schools: { $in: [...overdueSchools].map((id) => new Types.ObjectId(id)) } },
      { _id: 1 },
    ).lean();
    for (const p of principals) candidates.push({ district: district._id, school: null, user: p._id, kind: 'digest', assignment: null, moduleSlug: null, dueDate: null, cycle: today, requestedBy: null });
  }
  if (candidates.length === 0) return { outcome: 'swept', queued: 0, alreadyQueued: 0 };
  // The person's language and address at queue time (the send re-reads both); people without an email are skipped.
  const people = await User.find({ _id: { $in: [...new Set(candidates.map((c) => String(c.user)))].map((id) => new Types.ObjectId(id)) } }, { email: 1, active: 1, preferredLanguage: 1 }).lean();
  const byId = new Map(people.map((p) => [String(p._id), p]));
  const base = baseReminder(now);
  const docs = candidates
    .filter((c) => {
      const p = byId.get(String(c.user));
      return p && p.active !== false && p.email;
    })
    .map((c) => ({ ...base, ...c, language: byId.get(String(c.user))?.preferredLanguage === 'es' ? 'es' : 'en' }));
  const { duplicates } = await insertReminders(docs);
  return { outcome: 'swept', queued: docs.length - duplicates, alreadyQueued: duplicates };
}

/**
 * Queues the automatic reminders due at `now` in every district whose schedule is on and whose send hour has
 * come today (local time), or only `districtId`.
 */
export async function sweepReminders(now: Date = new Date(), options: SweepOptions = {}): Promise<SweepResult> {
  const filter: Record<string, unknown> = { enabled: true };
  if (options.districtId) filter.district = new Types.ObjectId(options.districtId);
  const all = (await ReminderSettings.find(filter).lean()) as unknown as ReminderSettingsRecord[];
  const result: SweepResult = { districts: 0, beforeSendHour: 0, queued: 0, alreadyQueued: 0 };
  for (const settings of all) {
    try {
      const r = await sweepDistrict(settings, now, options.reachedSince);
      if (r.outcome === 'before_send_hour') result.beforeSendHour += 1;
      if (r.outcome !== 'swept') continue;
      result.districts += 1;
      result.queued += r.queued;
      result.alreadyQueued += r.alreadyQueued;
    } catch (err) {
      logger.error({ err, district: String(settings.district) }, 'reminder sweep failed for a district');
    }
  }
  return result;
}
