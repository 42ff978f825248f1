/**
 * Calendar dates in a district's time zone, without a date library: a due date "D" means the end of
 * day D where the district is, whatever the server's own zone. Local dates are 'YYYY-MM-DD' strings.
 */

export type LocalDate = string;

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

function wallClock(instant: number, timeZone: string): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return { y: parts.year, m: parts.month, d: parts.day, h: parts.hour, mi: parts.minute, s: parts.second };
}

const QUARTER_HOUR = 900_000;
const offsets = new Map<string, number>();

/**
 * Local wall time minus UTC at that instant, in ms (e.g. −7 h in Los Angeles in summer). Offsets only
 * change on quarter-hour boundaries, so they are cached per zone and quarter hour (Intl is slow, and
 * a district rebuild asks this hundreds of thousands of times).
 */
function offsetAt(instant: number, timeZone: string): number {
  const bucket = Math.floor(instant / QUARTER_HOUR);
  const key = `${timeZone}|${bucket}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    const at = bucket * QUARTER_HOUR;
    const w = wallClock(at, timeZone);
    offset = Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - at;
    if (offsets.size > 100_000) offsets.clear();
    offsets.set(key, offset);
  }
  return offset;
}

export function parseLocalDate(value: LocalDate): { y: number; m: number; d: number } {
  const match = LOCAL_DATE.exec(value);
  if (!match) throw new RangeError(`not a YYYY-MM-DD date: ${value}`);
  return { y: Number(match[1]), m: Number(match[2]), d: Number(match[3]) };
}

/** Whether a 'YYYY-MM-DD' string names a real calendar date (no 2026-02-30). */
export function isLocalDate(value: string): boolean {
  const match = LOCAL_DATE.exec(value);
  if (!match) return false;
  const utc = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return utc.getUTCFullYear() === Number(match[1]) && utc.getUTCMonth() === Number(match[2]) - 1 && utc.getUTCDate() === Number(match[3]);
}

function formatUtcDate(utc: Date): LocalDate {
  return utc.toISOString().slice(0, 10);
}

/** The calendar date of an instant in the zone. */
export function localDateOf(instant: Date, timeZone: string): LocalDate {
  const t = instant.getTime();
  return formatUtcDate(new Date(t + offsetAt(t, timeZone)));
}

/** The hour (0–23) an instant shows on the zone's wall clock (a reminder send hour is compared with it). */
export function localHourOf(instant: Date, timeZone: string): number {
  const t = instant.getTime();
  return new Date(t + offsetAt(t, timeZone)).getUTCHours();
}

/**
 * localDateOf for many instants in one zone (an export's completion dates): offsets cached per quarter
 * hour and dates per local day in numeric maps of a few hundred entries, so a row costs two lookups.
 */
export function localDateFormatter(timeZone: string): (instant: Date) => LocalDate {
  const offsetOf = new Map<number, number>();
  const dateOf = new Map<number, LocalDate>();
  return (instant) => {
    const t = instant.getTime();
    const bucket = Math.floor(t / QUARTER_HOUR);
    let offset = offsetOf.get(bucket);
    if (offset === undefined) {
      offset = offsetAt(t, timeZone);
      if (offsetOf.size > 50_000) offsetOf.clear();
      offsetOf.set(bucket, offset);
    }
    const day = Math.floor((t + offset) / DAY_MS);
    let date = dateOf.get(day);
    if (date === undefined) {
      date = formatUtcDate(new Date(day * DAY_MS));
      if (dateOf.size > 50_000) dateOf.clear();
      dateOf.set(day, date);
    }
    return date;
  };
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const { y, m, d } = parseLocalDate(date);
  return formatUtcDate(new Date(Date.UTC(y, m - 1, d) + days * DAY_MS));
}

/** Same month and day `years` later; 29 February becomes 28 February in a common year. */
export function addYears(date: LocalDate, years: number): LocalDate {
  const { y, m, d } = parseLocalDate(date);
  const lastDay = new Date(Date.UTC(y + years, m, 0)).getUTCDate();
  return formatUtcDate(new Date(Date.UTC(y + years, m - 1, Math.min(d, lastDay))));
}

/** The first instant of the local day (midnight where the district is; DST-safe). */
export function startOfLocalDay(date: LocalDate, timeZone: string): Date {
  const { y, m, d } = parseLocalDate(date);
  const utcMidnight = Date.UTC(y, m - 1, d);
  let instant = utcMidnight - offsetAt(utcMidnight, timeZone);
  // The offset at the guess may differ from the offset at the true instant across a DST change.
  const corrected = utcMidnight - offsetAt(instant, timeZone);
  if (corrected !== instant) instant = corrected;
  return new Date(instant);
}

/** The instant day D ends locally (= the start of D + 1): a deadline of D has passed when now ≥ this. */
export function endOfLocalDay(date: LocalDate, timeZone: string): Date {
  return startOfLocalDay(addDays(date, 1), timeZone);
}

/** The first date on or after `date` whose month-day is `monthDay` ('MM-DD'); 02-29 falls back to 02-28. */
export function nextMonthDayOnOrAfter(date: LocalDate, monthDay: string): LocalDate {
  const { y } = parseLocalDate(date);
  const [mm, dd] = monthDay.split('-').map(Number);
  const candidate = (year: number) => {
    const lastDay = new Date(Date.UTC(year, mm, 0)).getUTCDate();
    return formatUtcDate(new Date(Date.UTC(year, mm - 1, Math.min(dd, lastDay))));
  };
  const thisYear = candidate(y);
  return thisYear >= date ? thisYear : candidate(y + 1);
}

const displayFormats = new Map<string, Intl.DateTimeFormat>();

/** A local date for people: "30 Jun 2026" / "30 jun 2026" (the calendar date itself, no zone shift). */
const monthDayFormats = new Map<string, Intl.DateTimeFormat>();

/** A school year's cycle end "06-30" → "June 30" (en) / "30 de junio" (es); the raw value if it is not MM-DD. */
export function formatMonthDay(monthDay: string | null | undefined, lang: string): string {
  if (!monthDay || !/^\d{2}-\d{2}$/.test(monthDay)) return monthDay ?? '';
  let format = monthDayFormats.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(lang === 'es' ? 'es-US' : 'en-US', { month: 'long', day: 'numeric', timeZone: 'UTC' });
    monthDayFormats.set(lang, format);
  }
  const date = new Date(`2000-${monthDay}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? monthDay : format.format(date);
}

export function formatLocalDate(date: LocalDate | null | undefined, lang: string): string {
  if (!date) return '';
  let format = displayFormats.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(lang === 'es' ? 'es-US' : 'en-US', { dateStyle: 'medium', timeZone: 'UTC' });
    displayFormats.set(lang, format);
  }
  return format.format(new Date(`${date}T00:00:00Z`));
}
