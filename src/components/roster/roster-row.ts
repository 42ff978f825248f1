/**
 * Pure rules for one roster CSV: the header and each row, with no database (unit-tested). The service adds
 * the rules that need the district's people (matching, emails in use, district administrators).
 */
import { z } from 'zod';
import { JOB_TITLES, LANGUAGES, type JobTitle, type Language } from '../users';

/** The only columns a roster file may have: nothing else (dates of birth, status, notes) can ever be stored. */
export const ROSTER_COLUMNS = ['employee_id', 'email', 'name', 'role', 'job_title', 'school_codes', 'language', 'start_date'] as const;
export type RosterColumn = (typeof ROSTER_COLUMNS)[number];
export const REQUIRED_COLUMNS: readonly RosterColumn[] = ['employee_id', 'email', 'name', 'role', 'job_title', 'school_codes'];
/** Only these roles come from HR; district administrators are never created or changed by an import. */
export const IMPORT_ROLES = ['staff', 'principal'] as const;
export type ImportRole = (typeof IMPORT_ROLES)[number];

/**
 * The role column's words: `staff` / `principal`, or a district administrator — named only so that it can be
 * refused (never created or changed by an import). Any letter case; spaces and dashes read as `_`.
 * Provisioning (SCIM roles) reads role values through this too.
 */
export function rosterRoleOf(text: string): ImportRole | 'district_admin' | 'region_admin' | null {
  const key = text.trim().toLowerCase().replace(/[\s-]+/g, '_');
  if (key === 'district_admin' || key === 'district_administrator') return 'district_admin';
  // A region administrator needs the region(s) they oversee, which HR files do not carry: named only to be refused.
  if (key === 'region_admin' || key === 'region_administrator') return 'region_admin';
  return (IMPORT_ROLES as readonly string[]).includes(key) ? (key as ImportRole) : null;
}

export const EMPLOYEE_ID_PATTERN = /^[A-Za-z0-9._-]{1,40}$/;
const emailSchema = z.email();

export type RowErrorCode =
  | 'required'
  | 'employee_id_invalid'
  | 'email_invalid'
  | 'name_too_long'
  | 'role_invalid'
  | 'role_admin'
  | 'role_region_admin'
  | 'job_title_unknown'
  | 'job_title_required'
  | 'school_unknown'
  | 'school_inactive'
  | 'school_required'
  | 'language_invalid'
  | 'start_date_invalid'
  // A OneRoster roles.csv beginDate/endDate that is not a date (value: the text; other: the roles.csv line).
  | 'role_date_invalid'
  | 'column_count'
  | 'duplicate_employee_id'
  | 'duplicate_email'
  | 'email_taken'
  | 'district_admin'
  | 'region_admin'
  | 'value_too_long';

/** One problem of one row: the file's line number, the column and a reason (an i18n key suffix) with its values. */
export type RowError = { line: number; column: RosterColumn | ''; code: RowErrorCode; value?: string; other?: string };

export type RosterRow = {
  line: number;
  employeeId: string;
  email: string;
  name: string;
  role: ImportRole;
  /** Staff only; principals have none (the column is ignored for them). */
  jobTitle: JobTitle | null;
  schoolIds: string[];
  /** Absent: keep the stored value (English for new people). */
  language: Language | null;
  /** Absent: keep the stored value. YYYY-MM-DD. */
  startDate: string | null;
};

export type HeaderResult = { ok: true; columns: (RosterColumn | null)[] } | { ok: false; code: 'unknown_columns' | 'missing_columns' | 'duplicate_columns'; names: string[] };

/** "Employee ID", " employee-id " and "EMPLOYEE_ID" all name employee_id. */
export function normaliseHeader(name: string): string {
  return name.replace(/^\uFEFF/, '').trim().toLowerCase().replace(/[\s-]+/g, '_');
}

/** Maps each header cell to a known column; unknown, missing or repeated columns refuse the whole file. */
export function parseHeader(cells: readonly string[]): HeaderResult {
  const names = cells.map(normaliseHeader);
  const unknown = cells.filter((_, i) => !(ROSTER_COLUMNS as readonly string[]).includes(names[i]) && names[i] !== '');
  if (unknown.length) return { ok: false, code: 'unknown_columns', names: unknown };
  const seen = new Set<string>();
  const repeated = names.filter((n) => n !== '' && (seen.has(n) || !seen.add(n)));
  if (repeated.length) return { ok: false, code: 'duplicate_columns', names: [...new Set(repeated)] };
  const missing = REQUIRED_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length) return { ok: false, code: 'missing_columns', names: missing };
  return { ok: true, columns: names.map((n) => (n === '' ? null : (n as RosterColumn))) };
}

/** What the validator needs to know about the district: its schools by code and the job-title labels. */
export type RowContext = {
  /** Upper-cased School.code → school id and whether it is active. */
  schoolsByCode: ReadonlyMap<string, { id: string; active: boolean }>;
  /** Lower-cased stored value or English/Spanish label → job title. */
  jobTitlesByName: ReadonlyMap<string, JobTitle>;
};

/** Stored values and their English (and Spanish) labels, lower-cased, all naming the same job title. */
export function jobTitleLookup(labels: readonly Record<string, string>[]): Map<string, JobTitle> {
  const map = new Map<string, JobTitle>();
  for (const title of JOB_TITLES) map.set(title, title);
  for (const table of labels) for (const title of JOB_TITLES) if (table[title]) map.set(table[title].trim().toLowerCase(), title);
  return map;
}

const LANGUAGE_NAMES = new Map<string, Language>([
  ['en', 'en'], ['english', 'en'], ['inglés', 'en'], ['ingles', 'en'],
  ['es', 'es'], ['spanish', 'es'], ['español', 'es'], ['espanol', 'es'],
]);

function isValidDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

const MAX_CELL = 400;

/**
 * Validates one data row (cells in header order). Returns the row or every problem found in it, each with
 * its line and column. Values are only ever strings: nothing here can become a query operator.
 */
export function validateRow(cells: readonly string[], columns: readonly (RosterColumn | null)[], line: number, ctx: RowContext): { row?: RosterRow; errors: RowError[] } {
  const errors: RowError[] = [];
  if (cells.length !== columns.length) {
    return { errors: [{ line, column: '', code: 'column_count', value: String(cells.length), other: String(columns.length) }] };
  }
  const v = {} as Record<RosterColumn, string>;
  for (const c of ROSTER_COLUMNS) v[c] = '';
  columns.forEach((c, i) => { if (c) v[c] = String(cells[i] ?? '').trim(); });
  const fail = (column: RosterColumn, code: RowErrorCode, value?: string) => errors.push({ line, column, code, ...(value !== undefined ? { value: value.slice(0, 80) } : {}) });
  for (const c of ROSTER_COLUMNS) if (v[c].length > MAX_CELL) { fail(c, 'value_too_long'); v[c] = ''; }

  for (const c of ['employee_id', 'email', 'name', 'role'] as const) if (v[c] === '') fail(c, 'required');
  if (v.employee_id && !EMPLOYEE_ID_PATTERN.test(v.employee_id)) fail('employee_id', 'employee_id_invalid', v.employee_id);
  const email = v.email.toLowerCase();
  if (email && (email.length > 254 || !emailSchema.safeParse(email).success)) fail('email', 'email_invalid', v.email);
  if (v.name.length > 200) fail('name', 'name_too_long');

  const named = rosterRoleOf(v.role);
  let role: ImportRole | null = null;
  if (named === 'district_admin') fail('role', 'role_admin', v.role);
  else if (named === 'region_admin') fail('role', 'role_region_admin', v.role);
  else if (named) role = named;
  else if (v.role) fail('role', 'role_invalid', v.role);

  let jobTitle: JobTitle | null = null;
  if (role === 'staff') {
    if (!v.job_title) fail('job_title', 'job_title_required');
    else {
      jobTitle = ctx.jobTitlesByName.get(v.job_title.toLowerCase().replace(/\s+/g, ' ')) ?? ctx.jobTitlesByName.get(v.job_title.toLowerCase().replace(/[\s-]+/g, '_')) ?? null;
      if (!jobTitle) fail('job_title', 'job_title_unknown', v.job_title);
    }
  }

  const codes = [...new Set(v.school_codes.split(';').map((s) => s.trim()).filter(Boolean))];
  const schoolIds: string[] = [];
  for (const code of codes) {
    const school = ctx.schoolsByCode.get(code.toUpperCase());
    if (!school) fail('school_codes', 'school_unknown', code);
    else if (!school.active) fail('school_codes', 'school_inactive', code);
    else if (!schoolIds.includes(school.id)) schoolIds.push(school.id);
  }
  if (codes.length === 0 && role) fail('school_codes', 'school_required', role);

  let language: Language | null = null;
  if (v.language) {
    language = LANGUAGE_NAMES.get(v.language.toLowerCase()) ?? null;
    if (!language || !(LANGUAGES as readonly string[]).includes(language)) fail('language', 'language_invalid', v.language);
  }
  if (v.start_date && !isValidDate(v.start_date)) fail('start_date', 'start_date_invalid', v.start_date);

  if (errors.length || !role) return { errors };
  return {
    errors,
    row: {
      line,
      employeeId: v.employee_id,
      email,
      name: v.name,
      role,
      jobTitle,
      // In the file's order: the first school is the person's first (their default "Working at", docs/contacts.md).
      schoolIds,
      language,
      startDate: v.start_date || null,
    },
  };
}
