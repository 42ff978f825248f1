/**
 * Serializers from batches of export records to a Writable (the HTTP response): CSV and XLSX, both
 * streaming, both waiting for the response to drain when it pushes back (a slow client slows the reads).
 */
import { stringify, type Options as CsvOptions } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { EXPORT_COLUMNS, type ExportCell } from './export.service';

/**
 * Spreadsheet formula injection: a cell starting with = + - @ (or a tab or carriage return, which
 * some spreadsheets skip before a formula) is prefixed with an apostrophe so it is shown as text.
 */
export function neutralizeCell(value: string): string {
  const c = value.charCodeAt(0);
  return c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13 ? `'${value}` : value;
}

function abandoned(): Error {
  return Object.assign(new Error('the download was closed before the export finished'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** Writes a chunk; when the destination pushes back, waits until it drains (or fails if it closes first). */
async function write(out: Writable, chunk: string | Buffer): Promise<void> {
  if (out.destroyed || out.writableEnded) throw abandoned();
  if (out.write(chunk)) return;
  await waitForDrain(out);
}

function waitForDrain(out: Writable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (err?: Error) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', settle);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(abandoned());
    out.on('drain', onDrain);
    out.on('close', onClose);
    out.on('error', settle);
  });
}

const CSV_OPTIONS: CsvOptions = { record_delimiter: 'windows', cast: { string: (value) => neutralizeCell(value) } };

/**
 * CSV: UTF-8 with a byte-order mark (so Excel reads accents), header row, CRLF line ends. Each batch
 * of records becomes one string through csv-stringify's synchronous API (the same quoting rules as its
 * stream, without a stream hop and a callback per row), written as one chunk.
 */
export async function writeCsv(batches: AsyncIterable<ExportCell[][]>, headers: string[], out: Writable): Promise<void> {
  await write(out, stringify([headers], { ...CSV_OPTIONS, bom: true }));
  for await (const records of batches) {
    if (records.length) await write(out, stringify(records, CSV_OPTIONS));
  }
  out.end();
  await finished(out);
}

function toDate(value: ExportCell): Date | null {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  return new Date(`${value}T00:00:00Z`);
}

/**
 * XLSX through exceljs's streaming WorkbookWriter: rows are committed (serialized) as they come and
 * the zip is written to `out`; when `out` pushes back, reading pauses until it drains.
 */
export async function writeXlsx(batches: AsyncIterable<ExportCell[][]>, headers: string[], out: Writable, sheetName: string): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet(sheetName.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = EXPORT_COLUMNS.map((column, i) => ({
    header: headers[i],
    key: column.key,
    width: column.width,
    style: column.type === 'date' ? { numFmt: 'yyyy-mm-dd' } : {},
  }));
  sheet.getRow(1).font = { bold: true };
  let rows = 0;
  for await (const records of batches) {
    for (const record of records) {
      const values = record.map((cell, i) => (EXPORT_COLUMNS[i].type === 'date' ? toDate(cell) : cell));
      sheet.addRow(values).commit();
      rows += 1;
    }
    if (out.destroyed) throw abandoned();
    if (out.writableNeedDrain) await waitForDrain(out);
  }
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: rows + 1, column: EXPORT_COLUMNS.length } };
  sheet.commit();
  await workbook.commit();
}
