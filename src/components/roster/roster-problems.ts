/**
 * "Download every problem (CSV)": every bad line of a roster file with its column and reason in the
 * admin's language — never the cell's value (the preview page quotes values for its first 1,000; the
 * file may travel further). Streamed from the stored problems in line order, a batch at a time; the
 * download is audited like other exports, when the stream ends or is abandoned.
 */
import type { TFunction } from 'i18next';
import type { Actor } from '../../shared/actor';
import { recordAudit } from '../audit';
import { RosterProblem, type RosterProblemRecord } from './roster-problem.model';
import { BATCH_SIZE, getPreview } from './roster.service';

export function problemHeaders(t: TFunction): string[] {
  return [t('roster.problemsCsv.line'), t('roster.problemsCsv.column'), t('roster.problemsCsv.code'), t('roster.problemsCsv.reason')];
}

export function problemFileName(preview: { fileName: string }): string {
  const base = preview.fileName.replace(/\.[A-Za-z0-9]{1,5}$/, '').replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80) || 'roster';
  return `${base}-problems.csv`;
}

/**
 * The preview of the actor's district (another district's: 404) and its problems as CSV rows of
 * line, column, reason code and reason. Cells are ours (numbers, column names, messages): none starts
 * with = + - @, and the writer neutralises such cells anyway.
 */
export async function openProblemList(actor: Actor, id: string, t: TFunction, ctx: { requestId?: string } = {}) {
  const preview = await getPreview(actor, id);
  async function* batches(): AsyncGenerator<(string | number)[][]> {
    let lines = 0;
    let problems = 0;
    let complete = false;
    try {
      let afterLine = 0;
      for (;;) {
        // Index { preview, line }: read in index order from where the last batch ended.
        const docs = await RosterProblem.find({ preview: preview._id, line: { $gt: afterLine } }).sort({ line: 1 }).limit(BATCH_SIZE).lean<RosterProblemRecord[]>();
        if (docs.length === 0) break;
        const rows: (string | number)[][] = [];
        for (const doc of docs) {
          for (const p of doc.problems) rows.push([doc.line, p.column || t('roster.preview.wholeRow'), p.code, t(`roster.problemsCsv.reasons.${p.code}`, { value: p.value ?? '', other: p.other ?? '' })]);
          problems += doc.problems.length;
        }
        lines += docs.length;
        afterLine = docs[docs.length - 1].line;
        yield rows;
      }
      complete = true;
    } finally {
      await recordAudit(actor, {
        action: 'roster.problems_exported',
        target: { kind: 'roster_import', id: preview._id.toString() },
        details: { format: 'csv', fileName: preview.fileName, lines, problems, complete },
        requestId: ctx.requestId,
      });
    }
  }
  return { fileName: problemFileName(preview), batches: batches() };
}
