/**
 * Pure rules turning OneRoster 1.2 CSV records (orgs.csv, roles.csv, users.csv) into rows of our own roster
 * columns (docs/roster.md, "OneRoster 1.2"), unit-tested without a zip or a database. Only staff become
 * rows: students and family members are counted and dropped here, so nothing about them reaches the
 * validation, the problem list or any stored record.
 */
import type { JobTitle } from '../users';
import type { RosterColumn } from './roster-row';

/** The columns the converted rows have, in this order (a subset of ROSTER_COLUMNS). */
export const ONEROSTER_ROW_COLUMNS: readonly RosterColumn[] = ['employee_id', 'email', 'name', 'role', 'job_title', 'school_codes'];

export type RoleKind = 'staff' | 'principal' | 'admin' | 'student' | 'family';

/**
 * OneRoster 1.2 role vocabulary → ours. Staff roles carry their job title; principal and site
 * administrator become principals; district and system administrators are never made by an import;
 * students and family members are never stored. Keys are lower-cased (SIS exports vary in case).
 */
export const ROLE_MAP: ReadonlyMap<string, { kind: RoleKind; jobTitle?: JobTitle }> = new Map([
  ['teacher', { kind: 'staff', jobTitle: 'teacher' }],
  ['counselor', { kind: 'staff', jobTitle: 'counselor' }],
  ['aide', { kind: 'staff', jobTitle: 'paraeducator' }],
  ['proctor', { kind: 'staff', jobTitle: 'other' }],
  ['principal', { kind: 'principal' }],
  ['siteadministrator', { kind: 'principal' }],
  ['districtadministrator', { kind: 'admin' }],
  ['systemadministrator', { kind: 'admin' }],
  ['student', { kind: 'student' }],
  ['parent', { kind: 'family' }],
  ['guardian', { kind: 'family' }],
  ['relative', { kind: 'family' }],
] as const);

export function roleKindOf(role: string): { kind: RoleKind; jobTitle?: JobTitle } | null {
  return ROLE_MAP.get(role.trim().toLowerCase()) ?? null;
}

/** An org of orgs.csv: its type, identifier (our school code for type school, when filled) and name (for the preview). */
export type OrgInfo = { type: string; identifier: string; name?: string };

/** What roles.csv says about one user, kept only for users with a staff, principal or admin role. */
export type UserRoles = {
  /** Staff roles with their org's sourcedId, primary first once sorted. */
  staff: { jobTitle: JobTitle; org: string; primary: boolean }[];
  principalOrgs: string[];
  admin: boolean;
  /** Also a student somewhere: never imported, whatever else they are. */
  student: boolean;
  /** A staff, principal or admin role was skipped because today is outside its beginDate–endDate. */
  notCurrent: boolean;
  /** Staff or principal roles whose beginDate or endDate is not a date: the roles.csv line and the text (a few at most). */
  dateProblems: { line: number; value: string }[];
};

export function emptyRoles(): UserRoles {
  return { staff: [], principalOrgs: [], admin: false, student: false, notCurrent: false, dateProblems: [] };
}

/** Adds one roles.csv record (already mapped) to the user's roles. */
export function addRole(roles: UserRoles, mapped: { kind: RoleKind; jobTitle?: JobTitle }, org: string, roleType: string): void {
  if (mapped.kind === 'staff' && mapped.jobTitle) roles.staff.push({ jobTitle: mapped.jobTitle, org, primary: roleType.trim().toLowerCase() === 'primary' });
  else if (mapped.kind === 'principal') roles.principalOrgs.push(org);
  else if (mapped.kind === 'admin') roles.admin = true;
  else if (mapped.kind === 'student') roles.student = true;
}

/** A calendar date YYYY-MM-DD that exists (no 2026-02-30). */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

export type RoleDates = { status: 'current' | 'not_current' } | { status: 'invalid'; value: string };

/**
 * Whether a role counts today (the district's local date, YYYY-MM-DD): today within [beginDate, endDate],
 * both inclusive, either may be blank (OneRoster 1.2 roles.csv). A bound that is not a date is "invalid"
 * (a problem on the person's line), never guessed.
 */
export function roleDatesOf(beginDate: string, endDate: string, today: string): RoleDates {
  const begin = beginDate.trim();
  const end = endDate.trim();
  for (const value of [begin, end]) if (value && !isCalendarDate(value)) return { status: 'invalid', value: value.slice(0, 40) };
  if (begin && today < begin) return { status: 'not_current' };
  if (end && today > end) return { status: 'not_current' };
  return { status: 'current' };
}

/** The district's school codes, upper-cased (codes are [A-Z0-9_-]; an import compares them in any case). */
export type SchoolCodes = ReadonlySet<string>;

/** Why a role's org gives no school of the district. */
export type OrgMismatch = 'not_in_orgs' | 'no_identifier' | 'unknown_code';
export type OrgMatch = { code: string } | { unmatched: OrgMismatch; value: string } | null;

/**
 * A role's org as a school code of the district: the org's `identifier` when it is one, else its
 * `sourcedId` when that is one (many SIS exports leave identifier blank and put the school number in
 * sourcedId); never by name. Roles at the district (or any non-school org) give no school (null). Without
 * `codes` (unit tests of the mapping alone) the identifier is taken as it is. An org that matches nothing
 * gives a `value` no school code can equal unless it is the identifier itself, so validation reports the
 * person "not a school code of this district" rather than silently losing a school.
 */
export function matchOrg(orgs: ReadonlyMap<string, OrgInfo>, orgId: string, codes?: SchoolCodes): OrgMatch {
  const org = orgs.get(orgId);
  const id = orgId.replace(/[;\s]+/g, '').slice(0, 60);
  if (!org) return { unmatched: 'not_in_orgs', value: `orgs.csv?${id}` };
  if (org.type.trim().toLowerCase() !== 'school') return null;
  const identifier = org.identifier.trim();
  if (!codes) return identifier ? { code: identifier } : { unmatched: 'no_identifier', value: `orgs.csv:${id}:no-identifier` };
  if (identifier && codes.has(identifier.toUpperCase())) return { code: identifier };
  if (id && codes.has(id.toUpperCase())) return { code: id };
  if (identifier) return { unmatched: 'unknown_code', value: identifier.replace(/;/g, ' ') };
  return { unmatched: 'no_identifier', value: `orgs.csv:${id}:no-identifier` };
}

/** matchOrg as the roster cell: the school code, or the value that validation reports, or null for no school. */
export function schoolCodeOf(orgs: ReadonlyMap<string, OrgInfo>, orgId: string, codes?: SchoolCodes): string | null {
  const match = matchOrg(orgs, orgId, codes);
  if (!match) return null;
  return 'code' in match ? match.code : match.value;
}

/** Staff roles, the primary ones first (its job title is the person's). */
function byPrimary(roles: UserRoles): UserRoles['staff'] {
  return [...roles.staff].sort((a, b) => Number(b.primary) - Number(a.primary));
}

/**
 * The orgs whose schools become the person's schools, primary role first: a principal's are the schools
 * they lead, not the ones where they also teach.
 */
export function scopeOrgsOf(roles: UserRoles): string[] {
  return [...new Set(roles.principalOrgs.length > 0 ? roles.principalOrgs : byPrimary(roles).map((s) => s.org))];
}

/** users.csv fields we read (all others are never looked at). */
export type OneRosterUser = {
  sourcedId: string;
  status: string;
  enabledUser: string;
  identifier: string;
  userMasterIdentifier: string;
  givenName: string;
  preferredGivenName: string;
  familyName: string;
  email: string;
};

export type Skip = 'non_staff' | 'admin' | 'disabled' | 'not_current';

/**
 * One users.csv record → the cells of a roster row (ONEROSTER_ROW_COLUMNS), or why it is skipped. A user
 * who is a student anywhere, or has no staff or principal role (parents, guardians, relatives, unknown
 * roles, no role at all), is "non_staff"; administrators only are "admin"; someone whose staff and
 * principal roles all lie outside their dates is "not_current"; enabledUser=false or status=tobedeleted is
 * "disabled". Every skipped user is treated as missing from the file: deactivated only in complete-roster mode.
 */
export function convertUser(user: OneRosterUser, roles: UserRoles | undefined, orgs: ReadonlyMap<string, OrgInfo>, codes?: SchoolCodes): { cells: string[] } | { skip: Skip } {
  if (!roles || roles.student) return { skip: 'non_staff' };
  if (roles.staff.length === 0 && roles.principalOrgs.length === 0) return { skip: roles.admin ? 'admin' : roles.notCurrent ? 'not_current' : 'non_staff' };
  if (user.enabledUser.trim().toLowerCase() === 'false' || user.status.trim().toLowerCase() === 'tobedeleted') return { skip: 'disabled' };
  const employeeId = user.identifier.trim() || user.userMasterIdentifier.trim() || user.sourcedId.trim();
  const name = [user.preferredGivenName.trim() || user.givenName.trim(), user.familyName.trim()].filter(Boolean).join(' ');
  const schools = [...new Set(scopeOrgsOf(roles).map((o) => schoolCodeOf(orgs, o, codes)).filter((c): c is string => c !== null))].join(';');
  if (roles.principalOrgs.length > 0) return { cells: [employeeId, user.email.trim(), name, 'principal', '', schools] };
  return { cells: [employeeId, user.email.trim(), name, 'staff', byPrimary(roles)[0].jobTitle, schools] };
}

export type ManifestCheck = { ok: true } | { ok: false; code: 'oneroster_version' | 'oneroster_delta' | 'oneroster_missing_file'; names?: string[] };

/** The files we read; each must be "bulk" in the manifest and present in the zip. */
export const ONEROSTER_FILES = ['orgs', 'users', 'roles'] as const;

/** manifest.csv (propertyName → value; names in any case): version 1.2, bulk only, orgs/users/roles present. */
export function checkManifest(properties: ReadonlyMap<string, string>): ManifestCheck {
  const manifest = new Map([...properties].map(([k, v]) => [k.toLowerCase(), v] as const));
  const version = (manifest.get('oneroster.version') ?? '').trim();
  if (version !== '1.2') return { ok: false, code: 'oneroster_version', names: [version.slice(0, 20) || '—'] };
  const delta = [...properties].filter(([k, v]) => k.toLowerCase().startsWith('file.') && v.trim().toLowerCase() === 'delta').map(([k]) => `${k.slice(5, 45)}.csv`);
  if (delta.length) return { ok: false, code: 'oneroster_delta', names: delta.slice(0, 20) };
  const missing = ONEROSTER_FILES.filter((f) => (manifest.get(`file.${f}`) ?? '').trim().toLowerCase() !== 'bulk').map((f) => `${f}.csv`);
  if (missing.length) return { ok: false, code: 'oneroster_missing_file', names: missing };
  return { ok: true };
}

/**
 * What the admin can do about an org that matched no school (an i18n key under roster.preview.orgFixes and
 * the code to give): an identifier, else a sourcedId, that could be a school code ([A-Z0-9_-], 20 at most)
 * can be given to the school in Schools; anything else (GUIDs, blanks) needs identifier filled in orgs.csv.
 */
export function orgFixOf(org: { reason: string; identifier: string; sourcedId: string }): { key: 'not_in_orgs' | 'give_code' | 'fill_identifier'; code?: string } {
  if (org.reason === 'not_in_orgs') return { key: 'not_in_orgs' };
  const candidate = (org.identifier.trim() || org.sourcedId.trim()).toUpperCase();
  return /^[A-Z0-9_-]{1,20}$/.test(candidate) ? { key: 'give_code', code: candidate } : { key: 'fill_identifier' };
}
