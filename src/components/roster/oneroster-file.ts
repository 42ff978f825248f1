/**
 * Reads a OneRoster 1.2 CSV bulk zip (manifest.csv, orgs.csv, roles.csv, users.csv; every other file is
 * ignored) as the same stream of rows readRosterFile yields for our own CSV: first a header in our columns,
 * then one row per staff user, with `line` = the user's line in users.csv — so validation, matching, the
 * problem list, the preview and the apply work unchanged (docs/roster.md, "OneRoster 1.2").
 *
 * Untrusted archive: entries are read one at a time as streams (yauzl, lazyEntries; nothing is extracted
 * to disk, no file is held in memory); names with `..`, absolute paths or backslashes, encrypted entries,
 * more than MAX_ZIP_ENTRIES entries and any entry larger than MAX_ENTRY_BYTES (declared, checked by yauzl
 * against the real inflated size, and counted again here) refuse the whole file. Only the staff's roles and
 * the orgs are kept in memory while reading; students' ids are never collected (only a 64-bit hash of each,
 * while roles.csv is read: StudentHashes). Each entry read is checked against the CRC-32 of the central
 * directory as it streams (yauzl does not check it): a damaged file is refused naming the entry.
 */
import { open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { CsvError, parse } from 'csv-parse';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { RosterFileProblem, Utf8Check, type FileRow } from './roster-file';
import type { RowError } from './roster-row';
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

// node:zlib has crc32 from Node 20.15 (package.json engines: >= 20.19): refuse to start without it rather than skip the check.
if (typeof crc32 !== 'function') throw new Error('node:zlib crc32 is missing: Node 20.15 or later is required');

/** A OneRoster bulk export has 3 to ~20 files: more entries than this is not one (or is built to hurt). */
export const MAX_ZIP_ENTRIES = 50;
/**
 * The largest uncompressed entry: 200 MiB, ten times the 20 MB upload limit (CSV deflates 4–10×), enough
 * for the users.csv of a district of ~74,000 staff and ~1,000,000 students. Bigger is a zip bomb.
 */
export const MAX_ENTRY_BYTES = 200 * 1024 * 1024;
/** More entries than this in the central directory are refused before looking for a manifest. */
const MAX_SCANNED_ENTRIES = 5_000;
const MAX_MANIFEST_ROWS = 200;

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

/** An upload that begins with "PK" is a zip: a OneRoster file or an office document. */
export async function isZip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer.toString('latin1') === 'PK';
  } finally {
    await handle.close();
  }
}

/** Counts the inflated bytes of an entry (yauzl checks them against the declared size too). */
class ByteLimit extends Transform {
  private bytes = 0;

  constructor(
    private readonly limit: number,
    private readonly file: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return done(new RosterFileProblem('zip_entry_too_large', undefined, undefined, this.file));
    done(null, chunk);
  }
}

/** Computes the entry's CRC-32 as it streams and compares it with the central directory's at the end. */
class Crc32Check extends Transform {
  private crc = 0;

  constructor(
    private readonly expected: number,
    private readonly file: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.crc >>> 0 !== this.expected >>> 0) return done(new RosterFileProblem('zip_crc', undefined, [this.file], this.file));
    done();
  }
}

const UNSAFE_NAME = /^(absolute path|invalid relative path|invalid characters in fileName): /;

/** Any failure while reading the archive, as the reason the file is refused. */
function zipProblem(err: unknown, file?: string): RosterFileProblem {
  if (err instanceof RosterFileProblem) return err.file || !file ? err : new RosterFileProblem(err.code, err.line, err.names, file);
  if (err instanceof CsvError) return new RosterFileProblem('malformed', (err as CsvError & { lines?: number }).lines, undefined, file);
  const message = err instanceof Error ? err.message : '';
  if (UNSAFE_NAME.test(message)) return new RosterFileProblem('zip_unsafe_path', undefined, [message.replace(UNSAFE_NAME, '').slice(0, 120)]);
  // yauzl: "too many bytes in the stream" — the entry inflates past its declared size.
  if (/too many bytes/.test(message)) return new RosterFileProblem('zip_entry_too_large', undefined, undefined, file);
  return new RosterFileProblem('zip_malformed', undefined, undefined, file);
}

/**
 * One CSV entry as rows of cells with their line, streamed: inflate → byte limit → CRC-32 → UTF-8 check →
 * csv-parse. The CRC is known only at the entry's end: a consumer has had its rows by then, so the whole
 * file is refused at that point (the preview's stored rows and problems are removed with the refusal).
 */
async function* entryRows(zip: ZipFile, entry: Entry, file: string): AsyncGenerator<FileRow> {
  let raw;
  try {
    raw = await zip.openReadStreamPromise(entry);
  } catch (err) {
    throw zipProblem(err, file);
  }
  const limit = new ByteLimit(MAX_ENTRY_BYTES, file);
  const crc = new Crc32Check(entry.crc32, file);
  const check = new Utf8Check();
  const parser = parse({ bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, info: true, max_record_size: 16_000 });
  for (const stream of [raw, limit, crc, check]) stream.on('error', (err) => parser.destroy(err));
  raw.pipe(limit).pipe(crc).pipe(check).pipe(parser);
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (item.record.every((c) => c.trim() === '')) continue;
      yield { cells: item.record, line: item.info.lines };
    }
  } catch (err) {
    throw zipProblem(err, file);
  } finally {
    raw.destroy();
    parser.destroy();
  }
}

type CsvRecord = { get: (column: string) => string; line: number };

/** A OneRoster CSV's records by column name (case-insensitive); missing required columns refuse the file. */
async function* records(zip: ZipFile, entry: Entry, file: string, required: readonly string[]): AsyncGenerator<CsvRecord> {
  let index: Map<string, number> | undefined;
  for await (const { cells, line } of entryRows(zip, entry, file)) {
    if (!index) {
      index = new Map(cells.map((c, i) => [c.replace(/^\uFEFF/, '').trim().toLowerCase(), i] as const).reverse());
      const missing = required.filter((c) => !index!.has(c.toLowerCase()));
      if (missing.length) throw new RosterFileProblem('oneroster_columns', undefined, missing, file);
      continue;
    }
    const at = index;
    yield { line, get: (column) => String(cells[at.get(column.toLowerCase()) ?? -1] ?? '') };
  }
  if (!index) throw new RosterFileProblem('empty', undefined, undefined, file);
}

/** Every entry of the central directory (names validated by yauzl), without reading any data. */
async function scan(zip: ZipFile): Promise<Entry[]> {
  if (zip.entryCount > MAX_SCANNED_ENTRIES) throw new RosterFileProblem('zip_too_many_entries', undefined, [String(zip.entryCount)]);
  const entries: Entry[] = [];
  try {
    for await (const entry of zip.eachEntry()) entries.push(entry);
  } catch (err) {
    throw zipProblem(err);
  }
  return entries;
}

/** The root entries we read, after the archive-wide checks; null when there is no root manifest.csv. */
function checkArchive(entries: Entry[]): Map<string, Entry> | null {
  const root = new Map<string, Entry>();
  for (const entry of entries) {
    if (entry.fileName.includes('/')) continue;
    // Two entries with one name: which one a reader sees differs between tools.
    if (root.has(entry.fileName)) throw new RosterFileProblem('zip_malformed', undefined, undefined, entry.fileName);
    root.set(entry.fileName, entry);
  }
  if (!root.has('manifest.csv')) return null;
  if (entries.length > MAX_ZIP_ENTRIES) throw new RosterFileProblem('zip_too_many_entries', undefined, [String(entries.length)]);
  const encrypted = entries.find((e) => e.isEncrypted());
  if (encrypted) throw new RosterFileProblem('zip_encrypted', undefined, undefined, encrypted.fileName);
  const large = entries.find((e) => e.uncompressedSize > MAX_ENTRY_BYTES);
  if (large) throw new RosterFileProblem('zip_entry_too_large', undefined, undefined, large.fileName);
  return root;
}

async function readManifest(zip: ZipFile, entry: Entry): Promise<Map<string, string>> {
  const manifest = new Map<string, string>();
  let count = 0;
  for await (const { cells } of entryRows(zip, entry, 'manifest.csv')) {
    if (++count > MAX_MANIFEST_ROWS) throw new RosterFileProblem('zip_malformed', undefined, undefined, 'manifest.csv');
    const key = String(cells[0] ?? '').replace(/^\uFEFF/, '').trim();
    if (count === 1 && key.toLowerCase() === 'propertyname') continue;
    manifest.set(key, String(cells[1] ?? '').trim());
  }
  return manifest;
}

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
