import request from 'supertest';
import PDFDocument from 'pdfkit';
import { pdfText } from '../../helpers/pdf';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { signIn, type Agent } from '../../helpers/session';
import { createAssignment, publishModule } from '../assignments/compliance-fixtures';

/**
 * The board summary PDF is handed to a school board: long module titles wrap inside their column and the
 * next row starts below them (they used to print over each other), and Spanish column headings stay whole.
 */
let t: TestApp;
let admin: Agent;

function binary(res: request.Response, callback: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}

const LONG_TITLE = 'Foundations for all staff: when immigration enforcement officers come to a school, and what every adult on campus does';

beforeAll(async () => {
  t = await startTestApp();
  await publishModule('foundations', [1], LONG_TITLE);
  await publishModule('front-office', [1], 'Front office');
  const district = await createDistrict({ name: 'Board Unified' });
  const school = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  await createUser(district, { role: 'district_admin', email: 'admin@board.example' });
  await createUser(district, { email: 'staff@board.example', schools: [school], jobTitle: 'front_office' });
  await createAssignment(district, { moduleSlug: 'foundations', due: { kind: 'fixed', date: '2025-09-30' } });
  await createAssignment(district, { moduleSlug: 'front-office', due: { kind: 'fixed', date: '2025-09-30' } });
  admin = await signIn(t.app, 'admin@board.example');
});

afterAll(async () => {
  await t.close();
});

describe('GET /reports/compliance.pdf layout', () => {
  test('when a module title is longer than its column, then it wraps and the next row starts below its last line', async () => {
    // Where each table cell is drawn: its top, the bottom of its wrapped text, and the page it is on.
    type Cell = { text: string; page: unknown; top: number; bottom: number };
    const cells: Cell[] = [];
    const original = PDFDocument.prototype.text;
    const spy = jest.spyOn(PDFDocument.prototype, 'text').mockImplementation(function (this: PDFKit.PDFDocument, ...args: unknown[]) {
      const [text, x, y, options] = args as [string, unknown, unknown, { width?: number } | undefined];
      if (typeof x === 'number' && typeof y === 'number' && options?.width) {
        cells.push({ text, page: this.page, top: y, bottom: y + this.heightOfString(text, { width: options.width }) });
      }
      return (original as (...a: unknown[]) => PDFKit.PDFDocument).apply(this, args);
    });
    try {
      const res = await admin.get('/reports/compliance.pdf?lang=en').buffer(true).parse(binary as never);
      expect(res.status).toBe(200);
      const text = (await pdfText(res.body as never)).text.replace(/\s+/g, ' ');
      expect(text).toContain(`${LONG_TITLE} (EN)`);
    } finally {
      spy.mockRestore();
    }
    const title = cells.find((c) => c.text === `${LONG_TITLE} (EN)`);
    expect(title).toBeDefined();
    expect(title!.bottom - title!.top).toBeGreaterThan(20); // it wraps onto three lines
    // Every row on a page starts at or below the bottom of every cell of the row above it.
    const overlaps = cells.flatMap((cell) => {
      const below = cells.filter((c) => c.page === cell.page && c.top > cell.top).map((c) => c.top);
      const nextTop = below.length ? Math.min(...below) : Infinity;
      return cell.bottom > nextTop + 0.01 ? [`"${cell.text}" ends at ${cell.bottom.toFixed(1)}, the next row starts at ${nextTop.toFixed(1)}`] : [];
    });
    expect(overlaps).toEqual([]);
  });

  test('when the summary is in Spanish, then the "Desactualizado" column heading is not cut in two', async () => {
    const res = await admin.get('/reports/compliance.pdf?lang=es').buffer(true).parse(binary as never);
    expect(res.status).toBe(200);
    const text = (await pdfText(res.body as never)).text;
    expect(text).toContain('Desactualizado');
    expect(text).not.toMatch(/Desactualizad\s*\n/);
  });
});
