/**
 * Reads a OneRoster 1.2 CSV bulk zip (manifest.csv, orgs.csv, roles.csv, users.csv; every other file is
 * ignored) as the same stream of rows readRosterFile yields for our own CSV: first a header in our columns,
 * then one row per staff user, with `line` = the user's line in users.csv — so validation, matching, the
 * problem list, the preview and the apply work unchanged (docs/roster.md, "OneRoster 1.2"). The archive
 * itself (limits, names, CRC-32) is oneroster-zip.ts. Only the staff's roles and the orgs are kept in memory
 * while reading; students' ids are never collected (only a 64-bit hash of each, while roles.csv is read:
 * StudentHashes).
 */
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { RosterFileProblem, type FileRow } from './roster-file';
import type { RowError } from './roster-row';
import { checkArchive, readManifest, records, scan } from './oneroster-zip';
import {
  addRole,
  checkManifest,
  convertUser,
  emptyRoles,
  matchOrg,
  ONEROSTER_ROW_COLUMNS,
  roleDatesOf,
  roleKindOf,
  scopeOrgsOf,
  type OrgInfo,
  type OrgMismatch,
  type SchoolCodes,
  type UserRoles,
} from './oneroster-map';

export { isZip, MAX_ENTRY_BYTES, MAX_ZIP_ENTRIES } from './oneroster-zip';

export const ONEROSTER_FORMAT = 'oneroster_1_2';

/** At most this many orgs that matched no school are listed on the preview (all are counted). */
export const MAX_UNMATCHED_ORGS = 2_000;

/**
 * A school org of orgs.csv (or an org id missing from it) that matched no school of the district, listed once
 * with the number of imported people whose schools it gives. About schools only: nothing about a person.
 */
export type UnmatchedOrg = { sourcedId: string; name: string; identifier: string; reason: OrgMismatch; people: number };

/** What the preview page says about a OneRoster file besides the usual counts (never who was skipped). */
export type OneRosterSummary = {
  principals: number;
  skippedNonStaff: number;
  skippedAdmins: number;
  skippedDisabled: number;
  /** People whose staff and principal roles all lie outside their beginDate–endDate today. */
  skippedNotCurrent: number;
  /** Staff, principal and administrator roles of roles.csv skipped because today is outside their dates. */
  rolesNotCurrent: number;
  /** Orgs that matched no school (the first MAX_UNMATCHED_ORGS, most people first) and how many there were. */
  unmatchedOrgs: UnmatchedOrg[];
  unmatchedOrgCount: number;
};

export function emptySummary(): OneRosterSummary {
  return { principals: 0, skippedNonStaff: 0, skippedAdmins: 0, skippedDisabled: 0, skippedNotCurrent: 0, rolesNotCurrent: 0, unmatchedOrgs: [], unmatchedOrgCount: 0 };
}

/** What the reader needs to know about the district: today's local date (role dates) and its school codes (org matching). */
export type OneRosterContext = { today?: string; schoolCodes?: SchoolCodes };

async function readOrgs(zip: ZipFile, entry: Entry): Promise<Map<string, OrgInfo>> {
  const orgs = new Map<string, OrgInfo>();
  for await (const r of records(zip, entry, 'orgs.csv', ['sourcedId', 'type', 'identifier'])) {
    orgs.set(r.get('sourcedId').trim(), { type: r.get('type'), identifier: r.get('identifier'), name: r.get('name').trim().slice(0, 120) });
  }
  return orgs;
}

/**
 * 64-bit hashes of the students' userSourcedIds, kept only while roles.csv is read: a student role may come
 * before the same user's staff role, and roles.csv is read once. Two 32-bit hashes (FNV-1a and a
 * murmur-style mix; 8 bytes a student in growing typed arrays, ~8 MB for a million students). A collision
 * (odds ~4 × 10⁻⁹ for 74,000 staff and a million students) would skip one staff member as non-staff.
 */
class StudentHashes {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  size = 0;

  static of(id: string): [number, number] {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193 ^ id.length;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    return [h1 >>> 0, Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35) >>> 0];
  }

  add(id: string): void {
    if (this.size === this.hi.length) {
      const grow = (a: Uint32Array) => {
        const b = new Uint32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.hi = grow(this.hi);
      this.lo = grow(this.lo);
    }
    const [hi, lo] = StudentHashes.of(id);
    this.hi[this.size] = hi;
    this.lo[this.size] = lo;
    this.size += 1;
  }

  /** Marks as students the staff users whose id hashes to a student's. */
  markStudents(roles: ReadonlyMap<string, UserRoles>): void {
    const byHash = new Map<number, { lo: number; user: UserRoles }[]>();
    for (const [id, user] of roles) {
      const [hi, lo] = StudentHashes.of(id);
      const list = byHash.get(hi);
      if (list) list.push({ lo, user });
      else byHash.set(hi, [{ lo, user }]);
    }
    for (let i = 0; i < this.size; i++) for (const c of byHash.get(this.hi[i]) ?? []) if (c.lo === this.lo[i]) c.user.student = true;
  }
}

/** Date problems kept per user (one is enough to refuse the file; a few help fix it). */
const MAX_DATE_PROBLEMS = 5;

/**
 * roles.csv, read once → the roles of every user with a staff, principal or admin role that counts today
 * (beginDate ≤ today ≤ endDate, district time). A student role marks such a user — at once when the staff
 * role came first, else through the students' id hashes after the pass; students' ids themselves are never
 * kept. Roles outside their dates are counted and leave the user "not current"; a staff or principal role
 * whose dates are not dates is kept with a problem for the user's line.
 */
async function readRoles(zip: ZipFile, entry: Entry, maxUsers: number, today: string, summary: OneRosterSummary): Promise<Map<string, UserRoles>> {
  const roles = new Map<string, UserRoles>();
  const students = new StudentHashes();
  const userOf = (userId: string): UserRoles => {
    let user = roles.get(userId);
    if (!user) {
      if (roles.size >= maxUsers) throw new RosterFileProblem('too_many_rows', undefined, undefined, 'roles.csv');
      roles.set(userId, (user = emptyRoles()));
    }
    return user;
  };
  for await (const r of records(zip, entry, 'roles.csv', ['userSourcedId', 'roleType', 'role', 'orgSourcedId'])) {
    const mapped = roleKindOf(r.get('role'));
    if (!mapped || mapped.kind === 'family' || r.get('status').trim().toLowerCase() === 'tobedeleted') continue;
    const userId = r.get('userSourcedId').trim();
    if (mapped.kind === 'student') {
      // Whatever its dates: someone who is, was or will be a student here is never imported.
      const known = roles.get(userId);
      if (known) known.student = true;
      else students.add(userId);
      continue;
    }
    const dates = roleDatesOf(r.get('beginDate'), r.get('endDate'), today);
    if (dates.status === 'not_current') {
      summary.rolesNotCurrent += 1;
      userOf(userId).notCurrent = true;
      continue;
    }
    const user = userOf(userId);
    if (dates.status === 'invalid' && mapped.kind !== 'admin' && user.dateProblems.length < MAX_DATE_PROBLEMS) user.dateProblems.push({ line: r.line, value: dates.value });
    addRole(user, mapped, r.get('orgSourcedId').trim(), r.get('roleType'));
  }
  if (students.size > 0 && roles.size > 0) students.markStudents(roles);
  return roles;
}

/** Tallies, per org that matched no school, the imported people it affects (one count per person). */
class UnmatchedOrgTally {
  private readonly people = new Map<string, { reason: OrgMismatch; people: number }>();

  add(orgs: ReadonlyMap<string, OrgInfo>, roles: UserRoles, codes: SchoolCodes | undefined): void {
    for (const orgId of scopeOrgsOf(roles)) {
      const match = matchOrg(orgs, orgId, codes);
      if (!match || 'code' in match) continue;
      const known = this.people.get(orgId);
      if (known) known.people += 1;
      else this.people.set(orgId, { reason: match.unmatched, people: 1 });
    }
  }

  writeTo(summary: OneRosterSummary, orgs: ReadonlyMap<string, OrgInfo>): void {
    summary.unmatchedOrgCount = this.people.size;
    summary.unmatchedOrgs = [...this.people]
      .sort((a, b) => b[1].people - a[1].people || a[0].localeCompare(b[0]))
      .slice(0, MAX_UNMATCHED_ORGS)
      .map(([id, { reason, people }]) => {
        const org = orgs.get(id);
        return { sourcedId: id.slice(0, 120), name: org?.name ?? '', identifier: (org?.identifier ?? '').trim().slice(0, 120), reason, people };
      });
  }
}

/**
 * The OneRoster zip's staff as roster rows (the header first). Throws RosterFileProblem for a file that is
 * not a readable OneRoster 1.2 bulk zip ("spreadsheet" for a zip without a root manifest.csv, e.g. .xlsx).
 * `summary` is filled while reading. A row may carry problems found in roles.csv (a role date that is not
 * a date), reported on the user's users.csv line. `context.today` (YYYY-MM-DD, the district's date) decides
 * which roles count; `context.schoolCodes` which orgs are schools of the district (matchOrg).
 */
export async function* readOneRosterFile(path: string, maxRows: number, summary: OneRosterSummary, context: OneRosterContext = {}): AsyncGenerator<FileRow> {
  const today = context.today ?? new Date().toISOString().slice(0, 10);
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: false });
  } catch {
    // No readable central directory: a damaged zip, or an office file that only looks like one.
    throw new RosterFileProblem('zip_unreadable');
  }
  try {
    const root = checkArchive(await scan(zip));
    if (!root) throw new RosterFileProblem('spreadsheet');
    const check = checkManifest(await readManifest(zip, root.get('manifest.csv')!));
    if (!check.ok) throw new RosterFileProblem(check.code, undefined, check.names, 'manifest.csv');
    const missing = ['orgs.csv', 'roles.csv', 'users.csv'].filter((f) => !root.has(f));
    if (missing.length) throw new RosterFileProblem('oneroster_missing_file', undefined, missing);
    const orgs = await readOrgs(zip, root.get('orgs.csv')!);
    const roles = await readRoles(zip, root.get('roles.csv')!, maxRows, today, summary);
    const unmatched = new UnmatchedOrgTally();
    yield { cells: [...ONEROSTER_ROW_COLUMNS], line: 1 };
    let rows = 0;
    for await (const r of records(zip, root.get('users.csv')!, 'users.csv', ['sourcedId', 'enabledUser', 'givenName', 'familyName'])) {
      const userRoles = roles.get(r.get('sourcedId').trim());
      const result = convertUser(
        {
          sourcedId: r.get('sourcedId'),
          status: r.get('status'),
          enabledUser: r.get('enabledUser'),
          identifier: r.get('identifier'),
          userMasterIdentifier: r.get('userMasterIdentifier'),
          givenName: r.get('givenName'),
          preferredGivenName: r.get('preferredGivenName'),
          familyName: r.get('familyName'),
          email: r.get('email'),
        },
        userRoles,
        orgs,
        context.schoolCodes,
      );
      if ('skip' in result) {
        if (result.skip === 'admin') summary.skippedAdmins += 1;
        else if (result.skip === 'disabled') summary.skippedDisabled += 1;
        else if (result.skip === 'not_current') summary.skippedNotCurrent += 1;
        else summary.skippedNonStaff += 1;
        continue;
      }
      if (++rows > maxRows) throw new RosterFileProblem('too_many_rows', undefined, undefined, 'users.csv');
      if (result.cells[3] === 'principal') summary.principals += 1;
      unmatched.add(orgs, userRoles!, context.schoolCodes);
      const problems: RowError[] = userRoles!.dateProblems.map((p) => ({ line: r.line, column: 'role', code: 'role_date_invalid', value: p.value, other: String(p.line) }));
      yield problems.length ? { cells: result.cells, line: r.line, problems } : { cells: result.cells, line: r.line };
    }
    unmatched.writeTo(summary, orgs);
  } finally {
    zip.close();
  }
}
