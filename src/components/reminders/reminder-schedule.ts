/**
 * Which automatic reminder is due for one (person, training) on a given local day. Pure: no database, no
 * clock. A reminder point is the due date plus an offset in days (−7, −1, 0, +7, +14 …). A point is due from
 * its day for CATCH_UP_DAYS more days (so a sweep missed while every server was down is made up), but never
 * once the next point has come, and a point whose window passed is never sent late: a person assigned
 * 3 days before the due date gets the 1-day reminder, not a late "7 days left" one.
 */
import type { ReminderKind } from './reminder.model';

export type ReminderSchedule = {
  enabled: boolean;
  daysBefore: number[];
  onDueDate: boolean;
  afterEveryDays: number;
  afterTimes: number;
};

export type DueReminder = { kind: Extract<ReminderKind, 'before_due' | 'on_due' | 'after_due'>; offset: number; cycle: string };

export const CATCH_UP_DAYS = 2;
/** The local hour from which a day's automatic reminders go out, unless the district chose another (reminder-send-hour.ts). */
export const DEFAULT_SEND_HOUR = 7;
const DAY_MS = 86_400_000;

/** Whole days from `from` to `to` ('YYYY-MM-DD' local dates): 2026-06-30 → 2026-07-02 is 2. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** The schedule's reminder offsets in ascending order (negative: before the due date). */
export function reminderOffsets(schedule: ReminderSchedule): number[] {
  const offsets = new Set<number>();
  for (const days of schedule.daysBefore) if (Number.isInteger(days) && days > 0) offsets.add(-days);
  if (schedule.onDueDate) offsets.add(0);
  for (let i = 1; i <= schedule.afterTimes; i++) offsets.add(i * schedule.afterEveryDays);
  return [...offsets].sort((a, b) => a - b);
}

export function cycleOf(dueDate: string, offset: number): string {
  return `${dueDate}@${offset > 0 ? '+' : ''}${offset}`;
}

/** The reminder due on `today` for a training due on `dueDate`, or null. Completed people are filtered by the caller. */
export function dueReminder(schedule: ReminderSchedule, dueDate: string, today: string, offsets = reminderOffsets(schedule)): DueReminder | null {
  if (!schedule.enabled) return null;
  const now = daysBetween(dueDate, today);
  for (let i = offsets.length - 1; i >= 0; i--) {
    const offset = offsets[i];
    if (offset > now) continue;
    const next = offsets[i + 1];
    if (next !== undefined && next <= now) return null;
    if (now - offset > CATCH_UP_DAYS) return null;
    return { kind: offset < 0 ? 'before_due' : offset === 0 ? 'on_due' : 'after_due', offset, cycle: cycleOf(dueDate, offset) };
  }
  return null;
}

/** ISO weekday of a local date: 1 = Monday … 7 = Sunday. */
export function weekdayOf(date: string): number {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}
