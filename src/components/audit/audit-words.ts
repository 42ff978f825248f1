/** The words the audit log's detail formatters are built from: codes, ids and dates turned into text. */
import type { TFunction } from 'i18next';
import type { Language } from '../users/user.model';

export type Details = Readonly<Record<string, unknown>>;

/** Names read now from the district's own records (audit.service.ts): never another district's, never stored. */
export type AuditRefs = Readonly<{
  schoolsById: ReadonlyMap<string, string>;
  schoolsByCode: ReadonlyMap<string, string>;
  moduleTitles: ReadonlyMap<string, Readonly<{ en: string; es: string }>>;
  /** The district's LMS (LTI) registrations by issuer: their names, when the issuer has exactly one. */
  ltiPlatformsByIssuer?: ReadonlyMap<string, string>;
}>;

export const NO_REFS: AuditRefs = Object.freeze({ schoolsById: new Map(), schoolsByCode: new Map(), moduleTitles: new Map() });

export type AuditFact = Readonly<{ label: string; value: string }>;

/** `text` empty and `raw` true: the key=value fallback in `facts`. */
export type AuditDescription = Readonly<{ text: string; facts: readonly AuditFact[]; isRaw: boolean }>;

type Formats = { numbers: Intl.NumberFormat; lists: Intl.ListFormat; date: Intl.DateTimeFormat; monthDay: Intl.DateTimeFormat; weekday: Intl.DateTimeFormat };

// Built once per language: an Intl formatter costs far more to build than to use (50 events a page).
const FORMATS = new Map<Language, Formats>();

function formatsFor(lang: Language): Formats {
  let formats = FORMATS.get(lang);
  if (!formats) {
    const locale = lang === 'es' ? 'es-US' : 'en-US';
    formats = {
      numbers: new Intl.NumberFormat(locale),
      lists: new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' }),
      date: new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }),
      monthDay: new Intl.DateTimeFormat(locale, { month: 'long', day: 'numeric', timeZone: 'UTC' }),
      weekday: new Intl.DateTimeFormat(locale, { weekday: 'long', timeZone: 'UTC' }),
    };
    FORMATS.set(lang, formats);
  }
  return formats;
}

/** What a formatter gets: the translator and small helpers that turn codes and ids into words. */
export class Words {
  private readonly formats: Formats;

  constructor(
    readonly t: TFunction,
    readonly lang: Language,
    private readonly refs: AuditRefs,
  ) {
    this.formats = formatsFor(lang);
  }

  /**
   * A key under audit.describe, its {{placeholders}} filled and, with a `count`, its plural form. The shared
   * translator answers such calls from the resource strings (shared/i18n.ts), not through i18next's slow path:
   * a page of 50 events makes hundreds.
   */
  say(key: string, options: Record<string, unknown> = {}): string {
    return this.t(`audit.describe.${key}`, options) as string;
  }

  /** A label of the app's locale files, or `fallback` when there is none. */
  label(key: string, fallback: string): string {
    return this.has(key) ? this.text(key) : fallback;
  }

  private text(key: string): string {
    return this.t(key) as string;
  }

  private has(key: string): boolean {
    return this.text(key) !== key;
  }

  num(n: number): string {
    return this.formats.numbers.format(n);
  }

  list(items: readonly string[]): string {
    return this.formats.lists.format(items);
  }

  role(code: string): string {
    return this.label(`roles.${code}`, code);
  }

  jobTitle(code: string): string {
    return this.label(`jobTitles.${code}`, code);
  }

  status(code: string): string {
    return this.label(`compliance.status.${code}`, code);
  }

  /** A file format code (csv, xlsx, pdf) as people write it. */
  format(code: string): string {
    return code.toUpperCase();
  }

  /** The module's title in the reader's language, quoted; its slug when no version of it is published here. */
  module(slug: string): string {
    const title = this.refs.moduleTitles.get(slug)?.[this.lang] ?? slug;
    return this.say('common.quoted', { text: title });
  }

  /** A school by id: its name, or "a school not found" — never the raw id. */
  school(id: string): string {
    return this.refs.schoolsById.get(id) ?? this.say('common.unknownSchool');
  }

  /** Schools by id: the names found, then how many were not (removed, or never this district's). */
  schools(ids: readonly string[]): string {
    if (ids.length === 0) return this.say('common.noSchools');
    const names = ids.map((id) => this.refs.schoolsById.get(id)).filter((n): n is string => Boolean(n));
    const missing = ids.length - names.length;
    return this.list(missing > 0 ? [...names, this.say('common.schoolsNotFound', { count: missing, n: this.num(missing) })] : names);
  }

  /** The name of the district's LMS registration with this issuer; null when it has none (removed) or several. */
  ltiPlatform(issuer: string): string | null {
    return this.refs.ltiPlatformsByIssuer?.get(issuer) ?? null;
  }

  /** A school by code: "Lincoln (LIN)" when the district has it, else the code. */
  schoolCode(code: string): string {
    const name = this.refs.schoolsByCode.get(code);
    return name ? this.say('common.schoolWithCode', { name, code }) : code;
  }

  /** A local date "YYYY-MM-DD" in words, in the reader's language (no time zone shift: it is a calendar date). */
  date(ymd: string): string {
    const at = new Date(`${ymd}T12:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(ymd) || Number.isNaN(at.getTime())) return ymd;
    return this.formats.date.format(at);
  }

  /** A month and day "MM-DD" in words ("June 30" / "30 de junio"). */
  monthDay(md: string): string {
    const at = new Date(`2000-${md}T12:00:00Z`);
    if (!/^\d{2}-\d{2}$/.test(md) || Number.isNaN(at.getTime())) return md;
    return this.formats.monthDay.format(at);
  }

  /** ISO weekday 1 (Monday) … 7 (Sunday). */
  weekday(day: number): string {
    // 2024-01-01 was a Monday.
    return this.formats.weekday.format(new Date(Date.UTC(2024, 0, day)));
  }

  /**
   * A web address an administrator typed, without anything that could be a credential (user:password@, query,
   * fragment); null when it is not an http(s) URL. Shown as typed (host case, non-ASCII names) when that is the same
   * address with nothing more, else as parsed; either way without a lone "/" after a bare origin
   * ("https://lrs.example", not "https://lrs.example/"). A path keeps its slashes: "https://lrs.example/xapi/".
   */
  url(value: string): string | null {
    const typed = value.trim();
    const parsed = URL.parse(typed);
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) return null;
    const clean = `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
    // Scheme, a host part with no "@" (user info) and a path with no "?", "#" or "\\" (which URL reads as "/").
    const plain = /^(https?:\/\/[^/?#@\\\s]+)(\/[^?#\\\s]*)?$/i.exec(typed);
    if (!plain) return clean;
    const asTyped = plain[2] === '/' || plain[2] === undefined ? plain[1] : typed;
    return URL.parse(asTyped)?.href === URL.parse(clean)?.href ? asTyped : clean;
  }
}

/** Reads a detail value of one expected type; undefined when it is missing or of another shape. */
export const read = {
  str: (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined),
  code: (v: unknown): string | undefined => (typeof v === 'string' && /^[a-z][a-z0-9_-]{0,60}$/.test(v) ? v : undefined),
  num: (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined),
  count: (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined),
  bool: (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined),
  strs: (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined),
  /** A list of ids as stored: strings or ObjectIds. */
  ids: (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string' || isObjectId(x)) ? v.map(String) : undefined),
  obj: (v: unknown): Record<string, unknown> | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) && !isObjectId(v) && !(v instanceof Date) ? (v as Record<string, unknown>) : undefined),
};

function isObjectId(v: unknown): boolean {
  return v !== null && typeof v === 'object' && typeof (v as { toHexString?: unknown }).toHexString === 'function';
}

/** A formatter: the detail keys it knows, and the words (null when the values are not what it expects). */
export type AuditFormatter = Readonly<{
  keys: readonly string[];
  describe(d: Details, w: Words): { text: string; facts?: AuditFact[] } | null;
}>;

/** An action that stores no details: one fixed sentence. */
export function plain(key: string): AuditFormatter {
  return { keys: [], describe: (_d, w) => ({ text: w.say(key) }) };
}

/** "5 rows" — a counted noun in the reader's language. */
export function counted(w: Words, key: string, count: number): string {
  return w.say(key, { count, n: w.num(count) });
}
