/**
 * Compliance exports: the scope and filters decided from the Actor, then the rows streamed from a
 * database cursor as plain records (the writers in export-writers.ts turn them into CSV/XLSX), or the
 * aggregated board summary for the PDF. Every export is audited with its filters and row count.
 */
import type { TFunction } from 'i18next';
import type { Actor } from '../../shared/actor';
import { AppError } from '../../shared/errors';
import {
  addCounts,
  compliancePercent,
  countsByModule,
  countsBySchool,
  emptyCounts,
  listModuleOptions,
  localDateFormatter,
  statusAt,
  streamRowBatches,
  streamRows,
  type StatusCounts,
} from '../assignments';
import { recordAudit } from '../audit';
import { districtOf, schoolDirectory, visibleSchool, type DistrictInfo, type VisibleSchool } from './report-scope';
import type { ExportQuery } from './reports.schemas';

export type ExportFormat = 'csv' | 'xlsx' | 'pdf';
export type ExportScope = { district: DistrictInfo; school?: VisibleSchool; filters: ExportQuery };

/** District admins: the district or any of its schools. Principals: one of their own schools. Others never get here (403). */
export async function resolveExportScope(actor: Actor, query: ExportQuery): Promise<ExportScope> {
  let schoolId = query.school;
  if (actor.role === 'principal' && !schoolId) {
    if (actor.schoolIds.length !== 1) throw new AppError(400, 'school_required', 'Choose a school to export');
    schoolId = actor.schoolIds[0];
  }
  const [district, school] = await Promise.all([districtOf(actor), schoolId ? visibleSchool(actor, schoolId) : Promise.resolve(undefined)]);
  return { district, school, filters: { ...query, school: school?.id } };
}

export const EXPORT_COLUMNS = [
  { key: 'employeeId', type: 'string', width: 14 },
  { key: 'name', type: 'string', width: 28 },
  { key: 'email', type: 'string', width: 32 },
  { key: 'schoolCode', type: 'string', width: 10 },
  { key: 'schoolName', type: 'string', width: 28 },
  { key: 'jobTitle', type: 'string', width: 18 },
  { key: 'module', type: 'string', width: 36 },
  { key: 'requiredVersion', type: 'number', width: 10 },
  { key: 'status', type: 'string', width: 14 },
  { key: 'dueDate', type: 'date', width: 12 },
  { key: 'completedAt', type: 'date', width: 12 },
  { key: 'completedVersion', type: 'number', width: 10 },
  { key: 'score', type: 'number', width: 8 },
  { key: 'certificateCode', type: 'string', width: 30 },
] as const;
export type ExportCell = string | number | null;

export function exportHeaders(t: TFunction): string[] {
  return EXPORT_COLUMNS.map((c) => t(`reports.columns.${c.key}`));
}

/** batchSize: only to compare cursor batch sizes in the benchmark (default EXPORT_BATCH_SIZE). */
type AuditContext = { format: ExportFormat; requestId?: string; batchSize?: number };

async function auditExport(actor: Actor, scope: ExportScope, ctx: AuditContext, rowCount: number, complete: boolean): Promise<void> {
  const { school, filters } = scope;
  await recordAudit(actor, {
    action: 'compliance.exported',
    target: school ? { kind: 'school', id: school.id } : { kind: 'district', id: scope.district.id },
    details: {
      format: ctx.format,
      filters: { school: school?.code ?? null, module: filters.module ?? null, status: filters.status ?? null, jobTitle: filters.jobTitle ?? null },
      rowCount,
      complete,
    },
    requestId: ctx.requestId,
  });
}

type SchoolCells = { codes: string; names: string };

/**
 * The export rows, one array of cells per (person, assignment), in batches as read from the cursor
 * (so memory stays flat and a slow download slows the reads: the next batch is only asked for when the
 * writer has taken this one). Lookups (schools, module titles, labels, local dates) are prepared once
 * per export; a row costs a few map lookups. The audit event is written when the stream ends — before
 * the response finishes — or when the download is abandoned (complete: false).
 */
export async function* exportRecordBatches(actor: Actor, scope: ExportScope, t: TFunction, lang: string, ctx: AuditContext, now = new Date()): AsyncGenerator<ExportCell[][]> {
  const [directory, modules] = await Promise.all([
    scope.school ? Promise.resolve(new Map([[scope.school.id, { code: scope.school.code, name: scope.school.name, active: true }]])) : schoolDirectory(scope.district.id),
    listModuleOptions(),
  ]);
  const titleOf = new Map(modules.map((m) => [m.slug, lang === 'es' ? m.title.es : m.title.en]));
  const memo = (f: (key: string) => string) => {
    const cache = new Map<string, string>();
    return (key: string) => {
      let value = cache.get(key);
      if (value === undefined) cache.set(key, (value = f(key)));
      return value;
    };
  };
  const statusLabel = memo((status) => t(`compliance.status.${status}`));
  const jobLabel = memo((job) => t(`jobTitles.${job}`));
  const roleLabel = memo((role) => t(`roles.${role}`));
  const moduleTitle = memo((slug) => titleOf.get(slug) ?? slug);
  // A facilitated completion has no score: the cell says so instead of staying blank.
  const facilitated = t('sessions.scoreFacilitated');
  // An update completion's score is over the changed scenarios only: the cell says so, as for facilitated.
  const updateScore = (score: number | null | undefined, from: number) => t('updates.scoreLabel', { score, from });
  // School cells by the row's school ids (one or two ids; a few thousand distinct combinations at most).
  const schoolCells = new Map<string, SchoolCells>();
  const only = scope.school ? { codes: scope.school.code, names: scope.school.name } : undefined;
  const schoolsOf = (ids: readonly { toHexString(): string }[]): SchoolCells => {
    if (only) return only;
    const key = ids.length === 1 ? ids[0].toHexString() : ids.map((id) => id.toHexString()).join(',');
    let cells = schoolCells.get(key);
    if (!cells) {
      const found = ids.map((id) => directory.get(id.toHexString()));
      cells = { codes: found.map((s) => s?.code ?? '').join('; '), names: found.map((s) => s?.name ?? '').join('; ') };
      schoolCells.set(key, cells);
    }
    return cells;
  };
  const localDate = localDateFormatter(scope.district.timeZone);
  const { filters } = scope;
  let rowCount = 0;
  let complete = false;
  try {
    for await (const rows of streamRowBatches({ districtId: scope.district.id, schoolId: scope.school?.id }, { moduleSlug: filters.module, status: filters.status, jobTitle: filters.jobTitle }, now, ctx.batchSize)) {
      const records: ExportCell[][] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i];
        const schools = schoolsOf(row.schools ?? []);
        const completion = row.completion;
        records[i] = [
          row.employeeId ?? '',
          row.name,
          row.email,
          schools.codes,
          schools.names,
          // Principals have no job title: their role stands in that column (as on the school page).
          row.jobTitle ? jobLabel(row.jobTitle) : row.role && row.role !== 'staff' ? roleLabel(row.role) : '',
          moduleTitle(row.moduleSlug),
          row.minVersion,
          statusLabel(statusAt(row, now)),
          row.dueDate,
          completion ? localDate(completion.completedAt) : null,
          completion ? completion.moduleVersion : null,
          completion
            ? completion.method === 'facilitated'
              ? facilitated
              : completion.method === 'update' && completion.updatedFrom
                ? updateScore(completion.score, completion.updatedFrom)
                : completion.score
            : null,
          completion?.certificateCode ?? '',
        ];
      }
      rowCount += rows.length;
      yield records;
    }
    complete = true;
  } finally {
    await auditExport(actor, scope, ctx, rowCount, complete);
  }
}

export type SummaryLine = { code: string; name: string; counts: StatusCounts; percent: number | null; suppressed: boolean };

export type BoardSummary = {
  district: DistrictInfo;
  school?: VisibleSchool;
  generatedAt: Date;
  filters: ExportQuery;
  totals: StatusCounts;
  percent: number | null;
  modules: { title: string; counts: StatusCounts; percent: number | null }[];
  schools: SummaryLine[];
};

/**
 * The board summary behind the PDF: district (or school) totals, per-module and per-school figures
 * from the summaries (cheap at any size). The job-title filter is not in the summaries, so with it the
 * rows are streamed once and counted in memory (one counter per school).
 */
export async function getBoardSummary(actor: Actor, scope: ExportScope, lang: string, ctx: AuditContext, now = new Date()): Promise<BoardSummary> {
  const { filters } = scope;
  const [directory, modules] = await Promise.all([schoolDirectory(scope.district.id), listModuleOptions()]);
  const titleOf = new Map(modules.map((m) => [m.slug, lang === 'es' ? m.title.es : m.title.en]));
  const bySchool = new Map<string, { all: StatusCounts; primary: StatusCounts; people: Set<string> | number }>();
  const byModule = new Map<string, StatusCounts>();

  if (!filters.jobTitle) {
    for (const [id, c] of await countsBySchool(scope.district.id, { moduleSlug: filters.module, schoolId: scope.school?.id }, now)) {
      bySchool.set(id, { all: c.all, primary: c.primary, people: c.people });
    }
    for (const [slug, c] of await countsByModule(scope.district.id, { schoolId: scope.school?.id }, now)) {
      if (!filters.module || filters.module === slug) byModule.set(slug, c);
    }
  } else {
    const rows = streamRows({ districtId: scope.district.id, schoolId: scope.school?.id }, { moduleSlug: filters.module, jobTitle: filters.jobTitle }, now);
    for await (const row of rows) {
      const status = statusAt(row, now);
      const schools = scope.school ? [scope.school.id] : row.schools.length ? row.schools.map(String) : ['null'];
      for (const school of schools) {
        const entry = bySchool.get(school) ?? { all: emptyCounts(), primary: emptyCounts(), people: new Set<string>() };
        entry.all[status] += 1;
        entry.all.total += 1;
        if (scope.school || school === String(row.primarySchool)) {
          entry.primary[status] += 1;
          entry.primary.total += 1;
        }
        (entry.people as Set<string>).add(String(row.user));
        bySchool.set(school, entry);
      }
      const moduleCounts = byModule.get(row.moduleSlug) ?? emptyCounts();
      moduleCounts[status] += 1;
      moduleCounts.total += 1;
      byModule.set(row.moduleSlug, moduleCounts);
    }
  }

  const threshold = scope.district.smallGroupThreshold;
  const totals = emptyCounts();
  const schools: SummaryLine[] = [];
  for (const [id, entry] of bySchool) {
    addCounts(totals, scope.school ? entry.all : entry.primary);
    const people = typeof entry.people === 'number' ? entry.people : entry.people.size;
    const info = directory.get(id);
    schools.push({
      code: info?.code ?? '—',
      name: info?.name ?? '',
      counts: entry.all,
      percent: compliancePercent(entry.all),
      suppressed: threshold > 0 && people < threshold,
    });
  }
  const status = filters.status;
  const listed = status ? schools.filter((s) => !s.suppressed && s.counts[status] > 0) : schools;
  listed.sort((a, b) => Number(a.suppressed) - Number(b.suppressed) || (a.percent ?? 101) - (b.percent ?? 101) || a.code.localeCompare(b.code));
  const summary: BoardSummary = {
    district: scope.district,
    school: scope.school,
    generatedAt: now,
    filters,
    totals,
    percent: compliancePercent(totals),
    modules: [...byModule.entries()].map(([slug, counts]) => ({ title: titleOf.get(slug) ?? slug, counts, percent: compliancePercent(counts) })),
    schools: listed,
  };
  await auditExport(actor, scope, ctx, listed.length, true);
  return summary;
}
