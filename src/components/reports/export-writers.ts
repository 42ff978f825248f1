/** Serializers from a stream of export records to a Writable (the HTTP response): CSV and XLSX, both streaming. */
import { once } from 'node:events';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import { EXPORT_COLUMNS, type ExportCell } from './export.service';

/**
 * Spreadsheet formula injection: a cell starting with = + - @ (or a tab or carriage return, which
 * some spreadsheets skip before a formula) is prefixed with an apostrophe so it is shown as text.
 */
export function neutralizeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** CSV: UTF-8 with a byte-order mark (so Excel reads accents), header row, CRLF line ends. */
export async function writeCsv(records: AsyncIterable<ExportCell[]>, headers: string[], out: Writable): Promise<void> {
  const stringifier = stringify({
    bom: true,
    header: true,
    columns: headers.map((h) => neutralizeCell(h)),
    record_delimiter: 'windows',
    cast: { string: (value) => neutralizeCell(value) },
  });
  await pipeline(Readable.from(records), stringifier, out);
}

function toDate(value: ExportCell): Date | null {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  return new Date(`${value}T00:00:00Z`);
}

/**
 * XLSX through exceljs's streaming WorkbookWriter: rows are committed (serialized) as they come and
 * the zip is written to `out`; when `out` pushes back, reading pauses until it drains.
 */
export async function writeXlsx(records: AsyncIterable<ExportCell[]>, headers: string[], out: Writable, sheetName: string): Promise<void> {
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
  for await (const record of records) {
    const values = record.map((cell, i) => (EXPORT_COLUMNS[i].type === 'date' ? toDate(cell) : cell));
    sheet.addRow(values).commit();
    rows += 1;
    if (out.writableNeedDrain) await once(out, 'drain');
  }
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: rows + 1, column: EXPORT_COLUMNS.length } };
  sheet.commit();
  await workbook.commit();
}
