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

/** An org of orgs.csv: its type and identifier (our school code for type school). */
export type OrgInfo = { type: string; identifier: string };

/** What roles.csv says about one user, kept only for users with a staff, principal or admin role. */
export type UserRoles = {
  /** Staff roles with their org's sourcedId, primary first once sorted. */
  staff: { jobTitle: JobTitle; org: string; primary: boolean }[];
  principalOrgs: string[];
  admin: boolean;
  /** Also a student somewhere: never imported, whatever else they are. */
  student: boolean;
};

export function emptyRoles(): UserRoles {
  return { staff: [], principalOrgs: [], admin: false, student: false };
}

/** Adds one roles.csv record (already mapped) to the user's roles. */
export function addRole(roles: UserRoles, mapped: { kind: RoleKind; jobTitle?: JobTitle }, org: string, roleType: string): void {
  if (mapped.kind === 'staff' && mapped.jobTitle) roles.staff.push({ jobTitle: mapped.jobTitle, org, primary: roleType.trim().toLowerCase() === 'primary' });
  else if (mapped.kind === 'principal') roles.principalOrgs.push(org);
  else if (mapped.kind === 'admin') roles.admin = true;
  else if (mapped.kind === 'student') roles.student = true;
}

/**
 * A role's org as a school code. Roles at the district (or any non-school org) give no school; an org
 * missing from orgs.csv or a school without an identifier gives a value no school code can equal
 * (codes are [A-Z0-9_-]), so the row is reported "not a school code of this district" with the org's id.
 */
export function schoolCodeOf(orgs: ReadonlyMap<string, OrgInfo>, orgId: string): string | null {
  const org = orgs.get(orgId);
  const id = orgId.replace(/[;\s]+/g, '').slice(0, 60);
  if (!org) return `orgs.csv?${id}`;
  if (org.type.trim().toLowerCase() !== 'school') return null;
  return org.identifier.trim() || `orgs.csv:${id}:no-identifier`;
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

export type Skip = 'non_staff' | 'admin' | 'disabled';

/**
 * One users.csv record → the cells of a roster row (ONEROSTER_ROW_COLUMNS), or why it is skipped. A user
 * who is a student anywhere, or has no staff or principal role (parents, guardians, relatives, unknown
 * roles, no role at all), is "non_staff"; administrators only are "admin"; enabledUser=false or
 * status=tobedeleted is "disabled" (missing from the file: deactivated only in complete-roster mode).
 */
export function convertUser(user: OneRosterUser, roles: UserRoles | undefined, orgs: ReadonlyMap<string, OrgInfo>): { cells: string[] } | { skip: Skip } {
  if (!roles || roles.student) return { skip: 'non_staff' };
  if (roles.staff.length === 0 && roles.principalOrgs.length === 0) return { skip: roles.admin ? 'admin' : 'non_staff' };
  if (user.enabledUser.trim().toLowerCase() === 'false' || user.status.trim().toLowerCase() === 'tobedeleted') return { skip: 'disabled' };
  const employeeId = user.identifier.trim() || user.userMasterIdentifier.trim() || user.sourcedId.trim();
  const name = [user.preferredGivenName.trim() || user.givenName.trim(), user.familyName.trim()].filter(Boolean).join(' ');
  const codes = (orgIds: string[]) => [...new Set(orgIds.map((o) => schoolCodeOf(orgs, o)).filter((c): c is string => c !== null))].join(';');
  if (roles.principalOrgs.length > 0) {
    // A principal's scope is the schools they lead, not the ones where they also teach.
    return { cells: [employeeId, user.email.trim(), name, 'principal', '', codes(roles.principalOrgs)] };
  }
  const staff = [...roles.staff].sort((a, b) => Number(b.primary) - Number(a.primary));
  return { cells: [employeeId, user.email.trim(), name, 'staff', staff[0].jobTitle, codes(staff.map((s) => s.org))] };
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
