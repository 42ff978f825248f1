import { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { canSeeSchool } from '../../shared/actor';
import { AppError, notFound } from '../../shared/errors';
import { getMailer, type MailMode } from '../../shared/mailer';
import { recordAudit } from '../audit';
import { findSchoolRows, localDateOf, statusAt } from '../assignments';
import { District } from '../districts';
import { School } from '../schools';
import { User } from '../users';
import { Reminder } from './reminder.model';
import { ReminderSettings, type ReminderSettingsRecord } from './reminder-settings.model';
import { pokeReminderRunner, requestReminderSweep } from './reminder-runner';
import { baseReminder, insertReminders } from './reminder-sweep';
import type { ReminderGroup, ReminderSettingsInput } from './reminders.schemas';
import { reminderGroupOf } from './reminder-groups';
import { DEFAULT_SEND_HOUR } from './reminder-schedule';
import { reminderRetentionDays } from './reminder-retention';

/** A person reminded by hand within this window is not emailed again by hand. */
export const MANUAL_COOLDOWN_MS = 24 * 3_600_000;

/** The school, if the actor may see it (404 otherwise), with its district's time zone. */
export async function visibleSchool(actor: Actor, schoolId: string): Promise<{ id: string; name: string; timeZone: string }> {
  const school = await School.findOne({ _id: schoolId, district: actor.districtId }, { name: 1, district: 1, region: 1 }).lean();
  if (!school || !canSeeSchool(actor, String(school._id), String(school.district), school.region ? String(school.region) : null)) throw notFound();
  const district = await District.findById(actor.districtId, { timeZone: 1 }).lean();
  if (!district) throw notFound();
  return { id: String(school._id), name: school.name, timeZone: district.timeZone };
}

export type LastReminder = { at: Date; status: string; isManual: boolean };

export type ReminderOverview = {
  mode: MailMode;
  /** The district's zone, to show when people were reminded. */
  timeZone: string;
  /** Latest reminder per person (any kind, not cancelled) within the retention period. */
  last: Record<string, LastReminder>;
  /** How long the outbox keeps final records: a person absent from `last` was not reminded in that time. */
  retentionDays: number;
  /** Per group: people who would be emailed now, and those skipped because reminded by hand in the last 24 h. */
  groups: Record<'urgent' | 'pending', { toEmail: number; recent: number }>;
};

type Groups = { urgent: Set<string>; pending: Set<string> };

/** Who is in each group at `now` (a person with anything urgent is in urgent only). Rows are of active people only. */
function groupPeople(rows: Awaited<ReturnType<typeof findSchoolRows>>, now: Date): Groups {
  const urgent = new Set<string>();
  const pending = new Set<string>();
  for (const row of rows) {
    const group = reminderGroupOf(statusAt(row, now));
    if (group === 'urgent') urgent.add(String(row.user));
    else if (group === 'pending') pending.add(String(row.user));
  }
  for (const id of urgent) pending.delete(id);
  return { urgent, pending };
}

async function recentlyRemindedByHand(userIds: string[], now: Date): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const recent = await Reminder.find(
    { user: { $in: userIds.map((id) => new Types.ObjectId(id)) }, kind: 'manual', status: { $in: ['queued', 'sent'] }, createdAt: { $gt: new Date(now.getTime() - MANUAL_COOLDOWN_MS) } },
    { user: 1 },
  ).lean();
  return new Set(recent.map((r) => String(r.user)));
}

/** The reminder state of a school's people for the reminders page: last reminded, and what a send would do. */
export async function getReminderOverview(actor: Actor, schoolId: string, now = new Date()): Promise<ReminderOverview> {
  const school = await visibleSchool(actor, schoolId);
  const rows = await findSchoolRows(actor.districtId, school.id, {});
  const groups = groupPeople(rows, now);
  const everyone = [...new Set(rows.map((r) => String(r.user)))];
  // Index { user, createdAt }: the latest per person of the school, one result each. The outbox keeps final
  // records for the retention period only, so "none" means none in that period (the page says so).
  const latest = everyone.length
    ? await Reminder.aggregate<{ _id: Types.ObjectId; at: Date; status: string; kind: string }>([
        { $match: { user: { $in: everyone.map((id) => new Types.ObjectId(id)) }, status: { $ne: 'cancelled' } } },
        { $sort: { user: 1, createdAt: -1 } },
        { $group: { _id: '$user', at: { $first: { $ifNull: ['$sentAt', '$createdAt'] } }, status: { $first: '$status' }, kind: { $first: '$kind' } } },
      ])
    : [];
  const last: Record<string, LastReminder> = {};
  for (const r of latest) last[String(r._id)] = { at: r.at, status: r.status, isManual: r.kind === 'manual' };
  const recent = await recentlyRemindedByHand([...groups.urgent, ...groups.pending], now);
  const count = (set: Set<string>) => ({ toEmail: [...set].filter((id) => !recent.has(id)).length, recent: [...set].filter((id) => recent.has(id)).length });
  return { mode: getMailer().mode, timeZone: school.timeZone, last, retentionDays: reminderRetentionDays(), groups: { urgent: count(groups.urgent), pending: count(groups.pending) } };
}

export type SendResult = { queued: number; skippedRecent: number; skippedNoEmail: number; alreadyQueued: number };

/**
 * Queues one reminder email per person of the chosen group(s) at the school, listing their open trainings.
 * Never for people whose training is completed (not in the groups), inactive (no rows) or without an email;
 * not for people reminded by hand in the last 24 hours. Returns at once: the runner sends.
 */
export async function sendSchoolReminders(actor: Actor, schoolId: string, group: ReminderGroup, requestId?: string, now = new Date()): Promise<SendResult> {
  const school = await visibleSchool(actor, schoolId);
  if (getMailer().mode === 'disabled') throw new AppError(409, 'email_disabled', 'Email is not configured on this server.');
  const rows = await findSchoolRows(actor.districtId, school.id, {});
  const groups = groupPeople(rows, now);
  const chosen = [...(group === 'pending' ? [] : groups.urgent), ...(group === 'urgent' ? [] : groups.pending)];
  const recent = await recentlyRemindedByHand(chosen, now);
  const candidates = chosen.filter((id) => !recent.has(id));
  const people = candidates.length
    ? await User.find({ _id: { $in: candidates.map((id) => new Types.ObjectId(id)) }, district: actor.districtId, active: true }, { email: 1, preferredLanguage: 1 }).lean()
    : [];
  const withEmail = people.filter((p) => p.email);
  const base = baseReminder(now);
  // One manual reminder per person per local day (the unique key), on top of the 24-hour rule: two clicks at once queue one.
  const cycle = localDateOf(now, school.timeZone);
  const { inserted, duplicates } = await insertReminders(
    withEmail.map((p) => ({
      ...base,
      district: new Types.ObjectId(actor.districtId),
      school: new Types.ObjectId(school.id),
      user: p._id,
      kind: 'manual',
      assignment: null,
      moduleSlug: null,
      dueDate: null,
      cycle,
      language: p.preferredLanguage === 'es' ? 'es' : 'en',
      requestedBy: new Types.ObjectId(actor.userId),
    })),
  );
  const result: SendResult = { queued: inserted.size, skippedRecent: recent.size, skippedNoEmail: candidates.length - withEmail.length, alreadyQueued: duplicates };
  await recordAudit(actor, { action: 'reminders.queued', target: { kind: 'school', id: school.id }, details: { group, ...result }, requestId });
  if (inserted.size > 0) pokeReminderRunner();
  return result;
}

export const DEFAULT_REMINDER_SETTINGS: ReminderSettingsInput = { enabled: false, daysBefore: [7, 1], onDueDate: true, afterEveryDays: 7, afterTimes: 3, principalDigest: true, digestWeekday: 1, sendHour: DEFAULT_SEND_HOUR };

export async function getReminderSettings(districtId: string): Promise<ReminderSettingsInput> {
  const stored = (await ReminderSettings.findOne({ district: districtId }).lean()) as unknown as ReminderSettingsRecord | null;
  if (!stored) return { ...DEFAULT_REMINDER_SETTINGS };
  return {
    enabled: stored.enabled,
    daysBefore: [...stored.daysBefore],
    onDueDate: stored.onDueDate,
    afterEveryDays: stored.afterEveryDays,
    afterTimes: stored.afterTimes,
    principalDigest: stored.principalDigest,
    digestWeekday: stored.digestWeekday,
    // Records saved before the send hour existed: the default.
    sendHour: stored.sendHour ?? DEFAULT_SEND_HOUR,
  };
}

/** The settings page's reminder section: form values (as posted), mail mode, recent failures. */
export async function getReminderSettingsView(actor: Actor, now = new Date()): Promise<{ values: Record<string, string>; mode: MailMode; failed: { count: number; lastError: string | null } }> {
  const s = await getReminderSettings(actor.districtId);
  const since = new Date(now.getTime() - 30 * 86_400_000);
  const [count, latest] = await Promise.all([
    Reminder.countDocuments({ district: actor.districtId, status: 'failed', createdAt: { $gte: since } }),
    Reminder.findOne({ district: actor.districtId, status: 'failed', createdAt: { $gte: since } }, { lastError: 1 }).sort({ createdAt: -1 }).lean(),
  ]);
  return { values: reminderFormValues(s), mode: getMailer().mode, failed: { count, lastError: latest?.lastError ?? null } };
}

export function reminderFormValues(s: ReminderSettingsInput): Record<string, string> {
  return {
    reminders_enabled: s.enabled ? 'on' : '',
    reminders_daysBefore: s.daysBefore.join(', '),
    reminders_onDueDate: s.onDueDate ? 'on' : '',
    reminders_afterEveryDays: String(s.afterEveryDays),
    reminders_afterTimes: String(s.afterTimes),
    reminders_principalDigest: s.principalDigest ? 'on' : '',
    reminders_digestWeekday: String(s.digestWeekday),
    reminders_sendHour: String(s.sendHour),
  };
}

/** Saves the district's automatic reminder schedule (a district admin's own district) and audits it. */
export async function updateReminderSettings(actor: Actor, input: ReminderSettingsInput, requestId?: string): Promise<void> {
  await ReminderSettings.updateOne({ district: actor.districtId }, { $set: { ...input, updatedAt: new Date() } }, { upsert: true, runValidators: true });
  await recordAudit(actor, { action: 'reminders.settings_updated', target: { kind: 'district', id: actor.districtId }, details: { ...input }, requestId });
  // A schedule just turned on (or changed) applies today, not at the next hourly sweep.
  if (input.enabled) requestReminderSweep();
}
