/**
 * Roster import, the dry run: validate every row of an uploaded CSV against the district and store what
 * applying it would do (roster-apply.ts applies it). Batched: one lookup per 1,000 rows, never per person.
 */
import { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import { translator } from '../../shared/i18n';
import { localDateOf } from '../assignments';
import { District } from '../districts';
import { School } from '../schools';
import { JOB_TITLES, User } from '../users';
import { actionFor, changedFields, snapshotOf, targetOf, type StoredPerson } from './roster-diff';
import { readRosterFile, RosterFileProblem, type FileRow } from './roster-file';
import { emptySummary, isZip, ONEROSTER_FORMAT, readOneRosterFile, type OneRosterContext, type OneRosterSummary } from './oneroster-file';
import { jobTitleLookup, parseHeader, validateRow, ROSTER_COLUMNS, type RosterColumn, type RosterRow, type RowContext, type RowError, type RowErrorCode } from './roster-row';
import { RosterProblem, type RosterProblemRecord } from './roster-problem.model';
import { RosterPreview, RosterPreviewRow, type RosterPreviewRecord, type RosterPreviewRowRecord, type RowAction } from './roster.model';

/** A preview can be applied for this long after it was made; after that the admin uploads the file again. */
export const PREVIEW_TTL_MS = 60 * 60 * 1000;
/** Previews (counts only, no rows) are kept this long for the "recent imports" list. */
export const SUMMARY_KEEP_MS = 90 * 24 * 60 * 60 * 1000;
/**
 * The guard against a partial file deactivating the district (Microsoft SDS / Canvas failures): when a
 * complete-roster import would deactivate more than this share of the district's active people, the admin
 * must type the number of people to confirm.
 */
export const DEACTIVATION_CONFIRM_SHARE = 0.1;
/** At most this many data rows per file (a district of 74,000 staff fits with room to spare). */
export const MAX_ROWS = 200_000;
/** At most this many problems (with the values they quote) are listed on the page; all are counted and kept value-free for the CSV. */
export const MAX_STORED_ERRORS = 1_000;
/** A preview's rows (and problems) are kept this long after it expires: a failed import can be applied again until then. */
export const ROWS_KEEP_MS = 24 * 60 * 60 * 1000;
export const BATCH_SIZE = 1_000;

export const PERSON_FIELDS = 'employeeId email name role jobTitle schools preferredLanguage startDate active';

export type Context = { requestId?: string };
export type PreviewInput = { path: string; fileName: string; completeRoster: boolean };
export type PreviewOutcome =
  | { ok: true; id: string; valid: boolean }
  | { ok: false; problem: string; names?: string[]; line?: number; file?: string };

/** Our own CSV, or a OneRoster 1.2 CSV bulk zip converted to our rows (oneroster-file.ts). */
export type RosterFormat = 'csv' | typeof ONEROSTER_FORMAT;

/**
 * The rows of an uploaded file, whichever its format: a zip ("PK…") is read as OneRoster 1.2 or refused.
 * A OneRoster file needs today's date where the district is (which roles count) and its school codes.
 */
async function openRosterFile(path: string, oneRosterContext: () => Promise<OneRosterContext>): Promise<{ format: RosterFormat; rows: AsyncGenerator<FileRow>; oneRoster: OneRosterSummary | null }> {
  if (await isZip(path)) {
    const oneRoster = emptySummary();
    return { format: ONEROSTER_FORMAT, rows: readOneRosterFile(path, MAX_ROWS, oneRoster, await oneRosterContext()), oneRoster };
  }
  return { format: 'csv', rows: readRosterFile(path, MAX_ROWS), oneRoster: null };
}

/** Deactivations above this number need the typed confirmation. */
export function deactivationThreshold(activeCount: number): number {
  return Math.floor(activeCount * DEACTIVATION_CONFIRM_SHARE);
}

export function needsDeactivationConfirm(preview: Pick<RosterPreviewRecord, 'counts' | 'activeCount'>): boolean {
  return preview.counts.deactivate > deactivationThreshold(preview.activeCount);
}

async function rowContext(actor: Actor): Promise<RowContext> {
  const schools = await School.find({ district: actor.districtId }).select('code active').lean();
  const schoolsByCode = new Map(schools.map((s) => [s.code.toUpperCase(), { id: s._id.toString(), active: s.active !== false }]));
  const labels = (['en', 'es'] as const).map((lang) => {
    const t = translator(lang);
    return Object.fromEntries(JOB_TITLES.map((title) => [title, String(t(`jobTitles.${title}`))]));
  });
  return { schoolsByCode, jobTitlesByName: jobTitleLookup(labels) };
}

/** Reasons whose details are numbers (a line, a count): kept. Every other detail would be a cell's content: dropped. */
const NUMERIC_DETAILS: Partial<Record<RowErrorCode, readonly ('value' | 'other')[]>> = {
  duplicate_employee_id: ['other'],
  duplicate_email: ['other'],
  column_count: ['value', 'other'],
  role_date_invalid: ['other'],
};

export function valueFreeProblem(error: RowError): RosterProblemRecord['problems'][number] {
  const problem: RosterProblemRecord['problems'][number] = { column: error.column, code: error.code };
  for (const key of NUMERIC_DETAILS[error.code] ?? []) {
    const detail = error[key];
    if (detail !== undefined && /^\d{1,9}$/.test(detail)) problem[key] = detail;
  }
  return problem;
}

type Tally = { create: number; update: number; unchanged: number; reactivate: number; deactivate: number };

/** Accumulates the preview's rows, counts and problems; writes rows a batch at a time. */
class PreviewBuilder {
  readonly counts: Tally = { create: 0, update: 0, unchanged: 0, reactivate: 0, deactivate: 0 };
  readonly changed: Record<string, number> = {};
  readonly errors: RowError[] = [];
  errorCount = 0;
  private seq = 0;
  private pending: Omit<RosterPreviewRowRecord, '_id'>[] = [];
  private problems: Omit<RosterProblemRecord, '_id'>[] = [];

  constructor(
    readonly previewId: Types.ObjectId,
    readonly purgeAt: Date,
  ) {}

  async fail(error: RowError): Promise<void> {
    this.errorCount += 1;
    if (this.errors.length < MAX_STORED_ERRORS) this.errors.push(error);
    // A line's problems are found together (one row's checks, or its match): they share one record.
    const last = this.problems[this.problems.length - 1];
    if (last && last.line === error.line) last.problems.push(valueFreeProblem(error));
    else {
      if (this.problems.length >= BATCH_SIZE) await this.flushProblems();
      this.problems.push({ preview: this.previewId, line: error.line, problems: [valueFreeProblem(error)] });
    }
  }

  async flushProblems(): Promise<void> {
    if (this.problems.length === 0) return;
    const docs = this.problems.map((d) => ({ ...d, purgeAt: this.purgeAt }));
    this.problems = [];
    await RosterProblem.insertMany(docs, { ordered: false, lean: true });
  }

  async add(action: RowAction, line: number | null, person: StoredPerson | null, row: Omit<RosterPreviewRowRecord, '_id' | 'preview' | 'seq' | 'line' | 'action' | 'user'>): Promise<void> {
    this.counts[action] += 1;
    if (action === 'update' || action === 'reactivate') for (const f of row.changes) this.changed[f] = (this.changed[f] ?? 0) + 1;
    // Rows of a file with problems can never be applied: count them, do not store them.
    if (this.errorCount > 0) return;
    this.pending.push({ preview: this.previewId, seq: ++this.seq, line, action, user: person ? new Types.ObjectId(person._id.toString()) : null, ...row });
    if (this.pending.length >= BATCH_SIZE) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const docs = this.pending.map((d) => ({ ...d, purgeAt: this.purgeAt }));
    this.pending = [];
    await RosterPreviewRow.insertMany(docs, { ordered: false, lean: true });
  }
}

/** Matches a batch of valid rows to the district's people (two indexed lookups) and records each change. */
async function matchBatch(actor: Actor, rows: RosterRow[], builder: PreviewBuilder, matched: Set<string>): Promise<void> {
  if (rows.length === 0) return;
  const [byId, byEmail] = await Promise.all([
    User.find({ district: actor.districtId, employeeId: { $in: rows.map((r) => r.employeeId) } }).select(PERSON_FIELDS).lean<StoredPerson[]>(),
    User.find({ district: actor.districtId, email: { $in: rows.map((r) => r.email) } }).select(PERSON_FIELDS).lean<StoredPerson[]>(),
  ]);
  const employee = new Map(byId.map((u) => [u.employeeId as string, u]));
  const emailOwner = new Map(byEmail.map((u) => [u.email, u]));
  for (const row of rows) {
    const owner = emailOwner.get(row.email);
    // A person added by hand before the first import (no employee id yet) is linked by email.
    const person = employee.get(row.employeeId) ?? (owner && !owner.employeeId ? owner : undefined);
    if (owner && (!person || owner._id.toString() !== person._id.toString())) {
      await builder.fail({ line: row.line, column: 'email', code: 'email_taken', value: row.email, other: owner.employeeId ?? '' });
      continue;
    }
    const before = person ? snapshotOf(person) : null;
    const after = targetOf(row, before);
    if (person) matched.add(person._id.toString());
    if (person && (person.role === 'district_admin' || person.role === 'region_admin')) {
      // District and region administrators are managed by hand (a region administrator's region is not in HR
      // files): a row may list one only if it changes nothing.
      const changes = changedFields(before!, { ...after, role: before!.role, jobTitle: before!.jobTitle });
      if (changes.length || !before!.active) await builder.fail({ line: row.line, column: 'employee_id', code: person.role, value: row.employeeId });
      else builder.counts.unchanged += 1;
      continue;
    }
    const changes = before ? changedFields(before, after) : [];
    const action = actionFor(before, changes);
    if (!action) {
      builder.counts.unchanged += 1;
      continue;
    }
    await builder.add(action, row.line, person ?? null, { before, after, changes });
  }
}

/** Everyone active (but district and region administrators) not matched by a row: deactivated in complete-roster mode. */
async function addDeactivations(actor: Actor, builder: PreviewBuilder, matched: Set<string>, completeRoster: boolean): Promise<number> {
  let active = 0;
  const cursor = User.find({ district: actor.districtId, active: true, role: { $nin: ['district_admin', 'region_admin'] } })
    .select(PERSON_FIELDS)
    .lean<StoredPerson[]>()
    .cursor({ batchSize: BATCH_SIZE });
  for await (const person of cursor as AsyncIterable<StoredPerson>) {
    active += 1;
    if (!completeRoster || matched.has(person._id.toString())) continue;
    const before = snapshotOf(person);
    await builder.add('deactivate', null, person, { before, after: { ...before, active: false }, changes: ['active'] });
  }
  return active;
}

/**
 * Validates the uploaded file completely and stores the preview. A file that cannot be read as a roster
 * (not CSV, wrong encoding, empty, unknown columns) is refused without a preview; row problems give a
 * preview that lists them and cannot be applied.
 */
export async function createPreview(actor: Actor, input: PreviewInput, now = new Date()): Promise<PreviewOutcome> {
  const previewId = new Types.ObjectId();
  const expiresAt = new Date(now.getTime() + PREVIEW_TTL_MS);
  const builder = new PreviewBuilder(previewId, new Date(expiresAt.getTime() + ROWS_KEEP_MS));
  const ctx = await rowContext(actor);
  const matched = new Set<string>();
  const seenIds = new Map<string, number>();
  const seenEmails = new Map<string, number>();
  let columns: (RosterColumn | null)[] | undefined;
  let rows = 0;
  let batch: RosterRow[] = [];
  try {
    const file = await openRosterFile(input.path, async () => ({ today: localDateOf(now, await districtTimeZone(actor)), schoolCodes: new Set(ctx.schoolsByCode.keys()) }));
    for await (const { cells, line, problems } of file.rows) {
      if (!columns) {
        const header = parseHeader(cells);
        if (!header.ok) return { ok: false, problem: header.code, names: header.names };
        columns = header.columns;
        continue;
      }
      rows += 1;
      const { row, errors } = validateRow(cells, columns, line, ctx);
      for (const e of problems ? [...errors, ...problems] : errors) await builder.fail(e);
      if (!row || problems?.length) continue;
      const firstId = seenIds.get(row.employeeId);
      const firstEmail = seenEmails.get(row.email);
      if (firstId !== undefined) await builder.fail({ line, column: 'employee_id', code: 'duplicate_employee_id', value: row.employeeId, other: String(firstId) });
      if (firstEmail !== undefined) await builder.fail({ line, column: 'email', code: 'duplicate_email', value: row.email, other: String(firstEmail) });
      if (firstId !== undefined || firstEmail !== undefined) continue;
      seenIds.set(row.employeeId, line);
      seenEmails.set(row.email, line);
      batch.push(row);
      if (batch.length >= BATCH_SIZE) {
        await matchBatch(actor, batch, builder, matched);
        batch = [];
      }
    }
    if (rows === 0) return { ok: false, problem: file.oneRoster ? 'oneroster_no_staff' : 'no_rows' };
    await matchBatch(actor, batch, builder, matched);
    const activeCount = await addDeactivations(actor, builder, matched, input.completeRoster);
    await builder.flush();
    await builder.flushProblems();
    const valid = builder.errorCount === 0;
    if (!valid) await RosterPreviewRow.deleteMany({ preview: previewId });
    await RosterPreview.create({
      _id: previewId,
      district: actor.districtId,
      createdBy: actor.userId,
      fileName: input.fileName.slice(0, 200),
      completeRoster: input.completeRoster,
      format: file.format,
      ...(file.oneRoster ? { oneRoster: file.oneRoster } : {}),
      state: valid ? 'ready' : 'invalid',
      counts: { rows, ...builder.counts, errors: builder.errorCount },
      changedFields: builder.changed,
      rowErrors: builder.errors.sort((a, b) => a.line - b.line),
      activeCount,
      expiresAt,
      // A file with problems is kept only as long as its rows would be: its problem list quotes values.
      purgeAt: valid ? new Date(now.getTime() + SUMMARY_KEEP_MS) : builder.purgeAt,
    });
    return { ok: true, id: previewId.toString(), valid };
  } catch (err) {
    await RosterPreviewRow.deleteMany({ preview: previewId });
    await RosterProblem.deleteMany({ preview: previewId });
    if (err instanceof RosterFileProblem) return { ok: false, problem: err.code, line: err.line, names: err.names, file: err.file };
    throw err;
  }
}

/** One preview of the actor's district; another district's (or a malformed id) is "not found". */
export async function getPreview(actor: Actor, id: string): Promise<RosterPreviewRecord> {
  if (!Types.ObjectId.isValid(id)) throw notFound();
  const preview = await RosterPreview.findOne({ _id: id, district: actor.districtId }).lean<RosterPreviewRecord>();
  if (!preview) throw notFound();
  return preview;
}

export type SampleRow = { line: number | null; action: RowAction; name: string; employeeId: string | null; changes: { field: string; from: unknown; to: unknown }[] };

/** The first few people of each kind of change, for the preview page (the counts cover everyone). */
export async function previewSamples(actor: Actor, preview: RosterPreviewRecord, perAction = 25): Promise<Record<RowAction, SampleRow[]>> {
  const result = {} as Record<RowAction, SampleRow[]>;
  await Promise.all(
    (['create', 'update', 'reactivate', 'deactivate'] as const).map(async (action) => {
      const docs = await RosterPreviewRow.find({ preview: preview._id, action }).sort({ seq: 1 }).limit(perAction).lean<RosterPreviewRowRecord[]>();
      result[action] = docs.map((d) => ({
        line: d.line,
        action,
        name: d.after.name,
        employeeId: d.after.employeeId,
        changes: d.changes.map((field) => ({ field, from: d.before?.[field as keyof typeof d.before] ?? null, to: d.after[field as keyof typeof d.after] ?? null })),
      }));
    }),
  );
  return result;
}

/** The district's latest imports (previews someone pressed Apply on), whatever their state, newest first. */
export async function listRecentImports(actor: Actor, limit = 10): Promise<RosterPreviewRecord[]> {
  // Index { district, createdAt }: a district has a few previews a day at most.
  return RosterPreview.find({ district: actor.districtId, requestedAt: { $ne: null } }).sort({ createdAt: -1 }).limit(limit).lean<RosterPreviewRecord[]>();
}

/** The district's time zone, for the times on the roster pages. */
export async function districtTimeZone(actor: Actor): Promise<string> {
  const district = await District.findById(actor.districtId).select('timeZone').lean();
  return district?.timeZone ?? 'UTC';
}

/** School id → code, for showing school changes in the preview. */
export async function schoolCodes(actor: Actor): Promise<Map<string, string>> {
  const schools = await School.find({ district: actor.districtId }).select('code').lean();
  return new Map(schools.map((s) => [s._id.toString(), s.code]));
}

/** The template: the header and one example row. */
export function templateCsv(exampleSchoolCodes: string[]): string {
  const codes = exampleSchoolCodes.length ? exampleSchoolCodes.slice(0, 2).join(';') : 'LIN;ROO';
  const example = ['E000123', 'maria.lopez@district.example', 'María López', 'staff', 'front_office', codes, 'es', '2026-08-17'];
  return `\uFEFF${ROSTER_COLUMNS.join(',')}\r\n${example.join(',')}\r\n`;
}
