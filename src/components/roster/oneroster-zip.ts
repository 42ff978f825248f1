/**
 * The untrusted archive under a OneRoster 1.2 upload (oneroster-file.ts reads its CSVs): entries are read one
 * at a time as streams (yauzl, lazyEntries; nothing is extracted to disk, no file is held in memory); names
 * with `..`, absolute paths or backslashes, encrypted entries, more than MAX_ZIP_ENTRIES entries and any entry
 * larger than MAX_ENTRY_BYTES (declared, checked by yauzl against the real inflated size, and counted again
 * here) refuse the whole file. Each entry read is checked against the CRC-32 of the central directory as it
 * streams (yauzl does not check it): a damaged file is refused naming the entry.
 */
import { open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { CsvError, parse } from 'csv-parse';
import type { Entry, ZipFile } from 'yauzl';
import { RosterFileProblem, Utf8Check, type FileRow } from './roster-file';

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

export type CsvRecord = { get: (column: string) => string; line: number };

/** A OneRoster CSV's records by column name (case-insensitive); missing required columns refuse the file. */
export async function* records(zip: ZipFile, entry: Entry, file: string, required: readonly string[]): AsyncGenerator<CsvRecord> {
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
export async function scan(zip: ZipFile): Promise<Entry[]> {
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
export function checkArchive(entries: Entry[]): Map<string, Entry> | null {
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

export async function readManifest(zip: ZipFile, entry: Entry): Promise<Map<string, string>> {
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
