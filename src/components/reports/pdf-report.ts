/** The board summary as a PDF (pdfkit, streamed page by page to `out`): totals, per-module and per-school tables. */
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { TFunction } from 'i18next';
import PDFDocument from 'pdfkit';
import { COMPLIANCE_STATUSES, formatLocalDate, localDateOf, type StatusCounts } from '../assignments';
import type { BoardSummary } from './export.service';

type Column = { label: string; width: number; align?: 'left' | 'right' };

const MARGIN = 40;

export async function writeBoardPdf(summary: BoardSummary, t: TFunction, lang: string, out: Writable): Promise<void> {
  const doc = new PDFDocument({ size: 'LETTER', layout: 'landscape', margin: MARGIN, bufferPages: false, info: { Title: t('reports.pdf.title') } });
  doc.pipe(out);
  const pageBottom = () => doc.page.height - MARGIN;
  const fmt = (n: number | null) => (n === null ? t('compliance.noData') : t('modules.percent', { value: n }));

  doc.font('Helvetica-Bold').fontSize(18).text(t('reports.pdf.title'));
  const region = summary.region ? (summary.region.kind === 'none' ? t('reports.regions.none') : `${summary.region.region.name} (${summary.region.region.code})`) : null;
  doc.font('Helvetica').fontSize(11).text(summary.school ? `${summary.district.name} — ${summary.school.code} ${summary.school.name}` : region ? `${summary.district.name} — ${t('reports.regions.label')}: ${region}` : summary.district.name);
  const generated = `${formatLocalDate(localDateOf(summary.generatedAt, summary.district.timeZone), lang)} ${summary.generatedAt.toLocaleTimeString(lang === 'es' ? 'es-US' : 'en-US', { timeZone: summary.district.timeZone, hour: '2-digit', minute: '2-digit', timeZoneName: 'short' })}`;
  doc.fontSize(9).fillColor('#333333').text(t('reports.pdf.generated', { date: generated }));
  const f = summary.filters;
  const filters = [
    region ? `${t('reports.regions.label')}: ${region}` : null,
    f.module ? `${t('reports.filters.module')}: ${summary.modules[0]?.title ?? f.module}` : null,
    f.status ? `${t('reports.filters.status')}: ${t(`compliance.status.${f.status}`)}` : null,
    f.jobTitle ? `${t('reports.filters.jobTitle')}: ${t(`jobTitles.${f.jobTitle}`)}` : null,
  ].filter(Boolean);
  doc.text(`${t('reports.pdf.filters')}: ${filters.length ? filters.join('; ') : t('reports.pdf.noFilters')}`);
  if (summary.district.smallGroupThreshold > 0) doc.text(t('reports.pdf.suppression', { n: summary.district.smallGroupThreshold }));
  doc.fillColor('black').moveDown();

  doc.font('Helvetica-Bold').fontSize(13).text(summary.school ? t('reports.pdf.schoolTotals') : region ? t('reports.pdf.regionTotals') : t('reports.pdf.districtTotals'));
  doc.font('Helvetica').fontSize(11).text(summary.totalsSuppressed ? t('reports.pdf.totalsHidden', { n: summary.district.smallGroupThreshold }) : t('reports.pdf.totalsLine', { completed: summary.totals.completed, total: summary.totals.total, percent: fmt(summary.percent) }));
  doc.moveDown(0.5);

  // 64 points: the longest status label ("Desactualizado", bold 8 pt) fits on one line.
  const statusColumns: Column[] = COMPLIANCE_STATUSES.map((s) => ({ label: t(`compliance.status.${s}`), width: 64, align: 'right' }));
  const countCells = (c: StatusCounts) => COMPLIANCE_STATUSES.map((s) => String(c[s]));

  function table(columns: Column[], rows: string[][]): void {
    const x0 = MARGIN;
    const drawRow = (cells: string[], bold: boolean): void => {
      const y = doc.y;
      doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8);
      // A long module title or school name wraps inside its column; the row is as tall as its tallest cell,
      // so the next row starts below it instead of printing over it.
      const height = Math.max(13, ...cells.map((cell, i) => doc.heightOfString(cell, { width: columns[i].width - 4 }) + 4));
      if (y + height + 1 > pageBottom() && y > MARGIN + 1) {
        doc.addPage();
        drawRow(columns.map((c) => c.label), true);
        return drawRow(cells, bold);
      }
      let x = x0;
      cells.forEach((cell, i) => {
        doc.text(cell, x + 2, y, { width: columns[i].width - 4, align: columns[i].align ?? 'left' });
        x += columns[i].width;
      });
      doc.x = x0;
      doc.y = y + height;
      if (bold) doc.moveTo(x0, doc.y - 2).lineTo(x, doc.y - 2).lineWidth(0.5).stroke();
    };
    drawRow(columns.map((c) => c.label), true);
    for (const row of rows) drawRow(row, false);
    doc.moveDown();
  }

  if (!summary.totalsSuppressed) {
    table(
      [{ label: t('reports.pdf.statusTotals'), width: 160 }, ...statusColumns, { label: t('reports.pdf.required'), width: 62, align: 'right' }, { label: t('reports.pdf.compliant'), width: 62, align: 'right' }],
      [[summary.school ? summary.school.name : (region ?? summary.district.name), ...countCells(summary.totals), String(summary.totals.total), fmt(summary.percent)]],
    );
  }

  if (summary.regions.length) {
    doc.font('Helvetica-Bold').fontSize(13).text(t('reports.regions.title'), MARGIN);
    doc.font('Helvetica').fontSize(9).text(t('reports.regions.note'));
    doc.moveDown(0.3);
    table(
      [
        { label: t('reports.regions.region'), width: 170 },
        { label: t('reports.regions.schools'), width: 60, align: 'right' },
        { label: t('reports.regions.staff'), width: 70, align: 'right' },
        { label: t('reports.regions.assigned'), width: 80, align: 'right' },
        { label: t('reports.regions.completed'), width: 80, align: 'right' },
        { label: t('reports.regions.overdue'), width: 80, align: 'right' },
        { label: t('reports.regions.percent'), width: 80, align: 'right' },
      ],
      summary.regions.map((r) => {
        const name = r.regionId ? `${r.name} (${r.code})` : t('reports.regions.none');
        return r.suppressed
          ? [name, String(r.schools), '—', '—', '—', '—', t('reports.pdf.hidden')]
          : [name, String(r.schools), String(r.staff), String(r.counts.total), String(r.counts.completed), String(r.counts.overdue), fmt(r.percent)];
      }),
    );
  }

  if (summary.modules.length && !summary.totalsSuppressed) {
    doc.font('Helvetica-Bold').fontSize(13).text(t('reports.pdf.byModule'), MARGIN);
    table(
      [{ label: t('reports.columns.module'), width: 160 }, ...statusColumns, { label: t('reports.pdf.required'), width: 62, align: 'right' }, { label: t('reports.pdf.compliant'), width: 62, align: 'right' }],
      summary.modules.map((m) => [m.title, ...countCells(m.counts), String(m.counts.total), fmt(m.percent)]),
    );
  }

  // What the figures certify: the version learners play and whether the district's counsel reviewed it.
  if (summary.modules.length) {
    doc.font('Helvetica-Bold').fontSize(13).text(t('reports.pdf.content'), MARGIN);
    doc.font('Helvetica').fontSize(9).text(t('reports.pdf.contentNote'));
    doc.moveDown(0.3);
    table(
      [{ label: t('reports.columns.module'), width: 220 }, { label: t('reports.pdf.version'), width: 60, align: 'right' }, { label: t('counselReviews.column'), width: 300 }],
      summary.modules.map((m) => [
        m.title,
        `v${m.version}`,
        m.review ? t('counselReviews.short', { reviewer: m.review.reviewer, date: formatLocalDate(m.review.reviewedOn, lang) }) : t('reports.pdf.notReviewed'),
      ]),
    );
  }

  doc.font('Helvetica-Bold').fontSize(13).text(t('reports.pdf.bySchool'), MARGIN);
  doc.font('Helvetica').fontSize(9).text(t('reports.pdf.bySchoolNote'));
  doc.moveDown(0.3);
  // A district with regions: each school's region code after its name (the name column gives up the room).
  const withRegion = summary.regionCount > 0;
  table(
    [
      { label: t('reports.columns.schoolCode'), width: 50 },
      { label: t('reports.columns.schoolName'), width: withRegion ? 100 : 150 },
      ...(withRegion ? [{ label: t('reports.columns.regionCode'), width: 50 }] : []),
      ...statusColumns,
      { label: t('reports.pdf.required'), width: 50, align: 'right' as const },
      { label: t('reports.pdf.compliant'), width: 60, align: 'right' as const },
    ],
    summary.schools.map((s) => {
      const lead = withRegion ? [s.code, s.name, s.regionCode] : [s.code, s.name];
      return s.suppressed ? [...lead, ...COMPLIANCE_STATUSES.map(() => '—'), '—', t('reports.pdf.hidden')] : [...lead, ...countCells(s.counts), String(s.counts.total), fmt(s.percent)];
    }),
  );
  doc.end();
  await finished(out);
}
