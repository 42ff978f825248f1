/**
 * Reads an uploaded roster file as a stream of rows (flat memory whatever its size): checks that it is
 * UTF-8 text (not a workbook, not UTF-16, no NUL bytes) and parses it with csv-parse, yielding each row's
 * cells and the line it ends on. Quotes inside an unquoted value (Robert "Bob" Smith) are kept as text.
 */
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import type { RowError } from './roster-row';

export type FileProblemCode =
  | 'empty'
  | 'no_rows'
  | 'spreadsheet'
  | 'utf16'
  | 'not_utf8'
  | 'binary'
  | 'malformed'
  | 'too_many_rows'
  // A OneRoster 1.2 zip (oneroster-file.ts) refused as a whole:
  | 'zip_unreadable'
  | 'zip_malformed'
  | 'zip_encrypted'
  | 'zip_unsafe_path'
  | 'zip_too_many_entries'
  | 'zip_entry_too_large'
  | 'zip_crc'
  | 'oneroster_version'
  | 'oneroster_delta'
  | 'oneroster_missing_file'
  | 'oneroster_columns';

/**
 * The whole file is refused (422) with this reason; `line` where the parser stopped; `names` what the
 * reason names (columns, files); `file` the file inside a OneRoster zip where it happened.
 */
export class RosterFileProblem extends Error {
  constructor(
    readonly code: FileProblemCode,
    readonly line?: number,
    readonly names?: string[],
    readonly file?: string,
  ) {
    super(`roster file: ${code}${file ? ` in ${file}` : ''}${line ? ` at line ${line}` : ''}`);
  }
}

/** Refuses what is not UTF-8 text before the CSV parser sees it. */
export class Utf8Check extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private first = true;
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.first) {
      this.first = false;
      if (chunk.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])) || chunk.subarray(0, 4).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0]))) return done(new RosterFileProblem('spreadsheet'));
      if ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff)) return done(new RosterFileProblem('utf16'));
    }
    if (chunk.includes(0)) return done(new RosterFileProblem('binary'));
    try {
      this.decoder.decode(chunk, { stream: true });
    } catch {
      return done(new RosterFileProblem('not_utf8'));
    }
    this.bytes += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.decoder.decode();
    } catch {
      return done(new RosterFileProblem('not_utf8'));
    }
    if (this.bytes === 0) return done(new RosterFileProblem('empty'));
    done();
  }
}

/** One row of cells and the line it ends on; `problems` found by the reader itself (a OneRoster role date that is not a date). */
export type FileRow = { cells: string[]; line: number; problems?: RowError[] };

/** The file's rows (the header first); throws RosterFileProblem for a file that is not a readable CSV. */
export async function* readRosterFile(path: string, maxRows: number): AsyncGenerator<FileRow> {
  const check = new Utf8Check();
  const parser = parse({ bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, info: true, max_record_size: 16_000 });
  const source = createReadStream(path);
  source.on('error', (err) => parser.destroy(err));
  check.on('error', (err) => parser.destroy(err));
  source.pipe(check).pipe(parser);
  let count = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (item.record.every((c) => c.trim() === '')) continue;
      if (++count > maxRows + 1) throw new RosterFileProblem('too_many_rows');
      yield { cells: item.record, line: item.info.lines };
    }
  } catch (err) {
    if (err instanceof RosterFileProblem) throw err;
    if (err instanceof CsvError) throw new RosterFileProblem('malformed', (err as CsvError & { lines?: number }).lines);
    throw err;
  } finally {
    source.destroy();
  }
  if (count === 0) throw new RosterFileProblem('empty');
}
