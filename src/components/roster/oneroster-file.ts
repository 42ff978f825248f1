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
 * the orgs are kept in memory while reading; students' ids are never collected.
 */
import { open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { RosterFileProblem, Utf8Check, type FileRow } from './roster-file';
import { addRole, checkManifest, convertUser, emptyRoles, ONEROSTER_ROW_COLUMNS, roleKindOf, type OrgInfo, type UserRoles } from './oneroster-map';

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

/** What the preview page says about a OneRoster file besides the usual counts (never who was skipped). */
export type OneRosterSummary = { principals: number; skippedNonStaff: number; skippedAdmins: number; skippedDisabled: number };

export function emptySummary(): OneRosterSummary {
  return { principals: 0, skippedNonStaff: 0, skippedAdmins: 0, skippedDisabled: 0 };
}

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

/** One CSV entry as rows of cells with their line, streamed: inflate → byte limit → UTF-8 check → csv-parse. */
async function* entryRows(zip: ZipFile, entry: Entry, file: string): AsyncGenerator<FileRow> {
  let raw;
  try {
    raw = await zip.openReadStreamPromise(entry);
  } catch (err) {
    throw zipProblem(err, file);
  }
  const limit = new ByteLimit(MAX_ENTRY_BYTES, file);
  const check = new Utf8Check();
  const parser = parse({ bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, info: true, max_record_size: 16_000 });
  for (const stream of [raw, limit, check]) stream.on('error', (err) => parser.destroy(err));
  raw.pipe(limit).pipe(check).pipe(parser);
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
    orgs.set(r.get('sourcedId').trim(), { type: r.get('type'), identifier: r.get('identifier') });
  }
  return orgs;
}

/**
 * roles.csv → the roles of every user with a staff, principal or admin role. A student role marks such a
 * user; students' own ids are not collected (a second pass marks the staff users whose student role came
 * before their staff roles in the file).
 */
async function readRoles(zip: ZipFile, entry: Entry, maxUsers: number): Promise<Map<string, UserRoles>> {
  const roles = new Map<string, UserRoles>();
  let studentBefore = false;
  for await (const r of records(zip, entry, 'roles.csv', ['userSourcedId', 'roleType', 'role', 'orgSourcedId'])) {
    const mapped = roleKindOf(r.get('role'));
    if (!mapped || mapped.kind === 'family' || r.get('status').trim().toLowerCase() === 'tobedeleted') continue;
    const userId = r.get('userSourcedId').trim();
    if (mapped.kind === 'student') {
      const known = roles.get(userId);
      if (known) known.student = true;
      else studentBefore = true;
      continue;
    }
    let user = roles.get(userId);
    if (!user) {
      if (roles.size >= maxUsers) throw new RosterFileProblem('too_many_rows', undefined, undefined, 'roles.csv');
      roles.set(userId, (user = emptyRoles()));
    }
    addRole(user, mapped, r.get('orgSourcedId').trim(), r.get('roleType'));
  }
  if (studentBefore && roles.size > 0) {
    for await (const r of records(zip, entry, 'roles.csv', ['userSourcedId', 'role'])) {
      if (roleKindOf(r.get('role'))?.kind !== 'student') continue;
      const known = roles.get(r.get('userSourcedId').trim());
      if (known) known.student = true;
    }
  }
  return roles;
}

/**
 * The OneRoster zip's staff as roster rows (the header first). Throws RosterFileProblem for a file that is
 * not a readable OneRoster 1.2 bulk zip ("spreadsheet" for a zip without a root manifest.csv, e.g. .xlsx).
 * `summary` is filled while reading.
 */
export async function* readOneRosterFile(path: string, maxRows: number, summary: OneRosterSummary): AsyncGenerator<FileRow> {
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
    const roles = await readRoles(zip, root.get('roles.csv')!, maxRows);
    yield { cells: [...ONEROSTER_ROW_COLUMNS], line: 1 };
    let rows = 0;
    for await (const r of records(zip, root.get('users.csv')!, 'users.csv', ['sourcedId', 'enabledUser', 'givenName', 'familyName'])) {
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
        roles.get(r.get('sourcedId').trim()),
        orgs,
      );
      if ('skip' in result) {
        if (result.skip === 'admin') summary.skippedAdmins += 1;
        else if (result.skip === 'disabled') summary.skippedDisabled += 1;
        else summary.skippedNonStaff += 1;
        continue;
      }
      if (++rows > maxRows) throw new RosterFileProblem('too_many_rows', undefined, undefined, 'users.csv');
      if (result.cells[3] === 'principal') summary.principals += 1;
      yield { cells: result.cells, line: r.line };
    }
  } finally {
    zip.close();
  }
}
