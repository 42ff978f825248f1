import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { neutralizeCell, writeCsv } from '../../../src/components/reports/export-writers';
import type { ExportCell } from '../../../src/components/reports/export.service';

const HEADERS = ['Name', '=Formula header'];

/** Batches of `size` rows; records how many batches were taken and whether the producer was closed. */
function producer(batches: number, size: number) {
  const state = { taken: 0, closed: false };
  async function* gen(): AsyncGenerator<ExportCell[][]> {
    try {
      for (let b = 0; b < batches; b++) {
        state.taken += 1;
        yield Array.from({ length: size }, (_, i) => [`Person ${b}-${i}`, i % 2 ? '=HYPERLINK("x")' : 'plain, "quoted"']);
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, batches: gen() };
}

function collect(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  }) as Writable & { text: () => string };
  out.text = () => Buffer.concat(chunks).toString('utf8');
  return out;
}

describe('writeCsv', () => {
  test('when batches are written, then the file has a BOM, the header once, CRLF ends, quoting, and neutralized formula cells', async () => {
    const { batches } = producer(3, 4);
    const out = collect();
    await writeCsv(batches, HEADERS, out);
    const text = out.text();
    expect(text.startsWith('\ufeffName,\'=Formula header\r\n')).toBe(true);
    const rows = parse(text.slice(1), { record_delimiter: '\r\n' }) as string[][];
    expect(rows).toHaveLength(1 + 12);
    expect(rows[1]).toEqual(['Person 0-0', 'plain, "quoted"']);
    expect(rows[2]).toEqual(['Person 0-1', '\'=HYPERLINK("x")']);
    expect(text.endsWith('\r\n')).toBe(true);
  });

  test('when the client reads slowly, then the export waits for it instead of reading ahead', async () => {
    const { state, batches } = producer(50, 100);
    let release: () => void = () => undefined;
    const out = new Writable({
      highWaterMark: 1024,
      write(_chunk, _enc, done) {
        release = done; // held until the test lets it go
      },
    });
    const writing = writeCsv(batches, HEADERS, out);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(state.taken).toBeLessThanOrEqual(2);
    // Drain everything from here on.
    out._write = (_chunk, _enc, done) => done();
    release();
    await writing;
    expect(state.taken).toBe(50);
  });

  test('when the client goes away mid-download, then writeCsv fails and the record source is closed (its audit runs)', async () => {
    const { state, batches } = producer(50, 100);
    const out = new Writable({
      highWaterMark: 1024,
      write(_chunk, _enc, done) {
        setTimeout(done, 5);
      },
    });
    const writing = writeCsv(batches, HEADERS, out);
    setTimeout(() => out.destroy(), 20);
    await expect(writing).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(state.closed).toBe(true);
    expect(state.taken).toBeLessThan(50);
  });
});

describe('neutralizeCell', () => {
  test.each([['=1+1'], ['+1'], ['-1'], ['@SUM(A1)'], ['\tx'], ['\rx']])('when a cell starts like a formula (%j), then it is prefixed with an apostrophe', (value) => {
    expect(neutralizeCell(value)).toBe(`'${value}`);
  });
  test('when a cell is ordinary or empty, then it is unchanged', () => {
    expect(neutralizeCell('Lincoln Elementary')).toBe('Lincoln Elementary');
    expect(neutralizeCell('')).toBe('');
  });
});
