import { addDays, localDateOf } from '../assignments';

/**
 * Calendar rules of a session (pure). A session date is a district-local day: sessions may be recorded
 * up to SESSION_DAYS_BACK days after they were held, and prepared up to SESSION_DAYS_AHEAD days early;
 * attendance can only be finished on or after the day itself.
 */
export const SESSION_DAYS_BACK = 60;
export const SESSION_DAYS_AHEAD = 60;

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether a 'YYYY-MM-DD' string names a real calendar date (no 2026-02-30). */
export function isCalendarDate(value: string): boolean {
  const match = LOCAL_DATE.exec(value);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const utc = new Date(Date.UTC(y, m - 1, d));
  return utc.getUTCFullYear() === y && utc.getUTCMonth() === m - 1 && utc.getUTCDate() === d;
}

export type SessionDateCheck = 'ok' | 'too_early' | 'too_late';

/** Whether a session may be scheduled on `date`, seen from the district's `today`. */
export function checkSessionDate(date: string, today: string): SessionDateCheck {
  if (date < addDays(today, -SESSION_DAYS_BACK)) return 'too_early';
  if (date > addDays(today, SESSION_DAYS_AHEAD)) return 'too_late';
  return 'ok';
}

/**
 * When a facilitated completion counts from: now when the session is held today; for a session recorded
 * later, midday of its own day in the district (so certificates, validity and recertification count from
 * the day people were actually trained, not from the day the principal got to the paperwork).
 */
export function completedAtFor(sessionDate: string, now: Date, timeZone: string): Date {
  if (localDateOf(now, timeZone) === sessionDate) return now;
  const match = LOCAL_DATE.exec(sessionDate);
  if (!match) throw new RangeError(`not a YYYY-MM-DD date: ${sessionDate}`);
  let instant = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 12);
  // Noon UTC is the same calendar day in most zones; step half a day toward it where it is not.
  for (let i = 0; i < 2; i++) {
    const local = localDateOf(new Date(instant), timeZone);
    if (local === sessionDate) break;
    instant += local > sessionDate ? -12 * 3600_000 : 12 * 3600_000;
  }
  return new Date(instant);
}
