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
import { getCounselReviews, reviewOf, type CounselReviewView } from '../counsel-reviews';
import type { RegionOption } from '../regions';
import { regionFilterValue, resolveRegion, rollUpRegions, schoolIdsIn, type RegionLine, type RegionScope } from './report-regions';
import { districtOf, schoolDirectory, visibleSchool, type DirectoryEntry, type DistrictInfo, type VisibleSchool } from './report-scope';
import type { ExportQuery } from './reports.schemas';

export type ExportFormat = 'csv' | 'xlsx' | 'pdf';
/** region: the region filter of a district-wide export (with a school the school is the scope); regions: the district's, for the region cells. */
export type ExportScope = { district: DistrictInfo; school?: VisibleSchool; region?: RegionScope; regions: RegionOption[]; filters: ExportQuery };

/**
 * District admins: the district or any of its schools. Principals: one of their own schools. Region administrators:
 * one of their region(s) (their first when none is asked for: resolveRegion) or a school in it. Others never get here (403).
 */
export async function resolveExportScope(actor: Actor, query: ExportQuery): Promise<ExportScope> {
  let schoolId = query.school;
  if (actor.role === 'principal' && !schoolId) {
    if (actor.schoolIds.length !== 1) throw new AppError(400, 'school_required', 'Choose a school to export');
    schoolId = actor.schoolIds[0];
  }
  const [district, school, { regions, scope: region }] = await Promise.all([
    districtOf(actor),
    schoolId ? visibleSchool(actor, schoolId) : Promise.resolve(undefined),
    resolveRegion(actor, schoolId ? undefined : query.region),
  ]);
  // A school export has no region filter (a region administrator's region is their default filter, not the school's).
  return { district, school, region: school ? undefined : region, regions, filters: { ...query, school: school?.id, region: school ? undefined : region?.kind === 'region' ? region.region.id : query.region } };
}

/** The schools of a region-filtered export, read from the directory (the background job's row count). */
export async function regionSchoolIds(scope: ExportScope): Promise<string[] | undefined> {
  return scope.region && !scope.school ? schoolIdsIn(scope.region, await schoolDirectory(scope.district.id)) : undefined;
}

/** The schools of a region-filtered export (undefined: no region filter). */
function schoolIdsOf(scope: ExportScope, directory: ReadonlyMap<string, DirectoryEntry>): string[] | undefined {
  return scope.region && !scope.school ? schoolIdsIn(scope.region, directory) : undefined;
}

export const EXPORT_COLUMNS = [
  { key: 'employeeId', type: 'string', width: 14 },
  { key: 'name', type: 'string', width: 28 },
  { key: 'email', type: 'string', width: 32 },
  { key: 'schoolCode', type: 'string', width: 10 },
  { key: 'schoolName', type: 'string', width: 28 },
  { key: 'regionCode', type: 'string', width: 10 },
  { key: 'region', type: 'string', width: 24 },
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
      filters: { school: school?.code ?? null, region: regionFilterValue(scope.region), module: filters.module ?? null, status: filters.status ?? null, jobTitle: filters.jobTitle ?? null },
      rowCount,
      complete,
    },
    requestId: ctx.requestId,
  });
}

type SchoolCells = { codes: string; names: string; regionCodes: string; regionNames: string };

/**
 * The export rows, one array of cells per (person, assignment), in batches as read from the cursor
 * (so memory stays flat and a slow download slows the reads: the next batch is only asked for when the
 * writer has taken this one). Lookups (schools, module titles, labels, local dates) are prepared once
 * per export; a row costs a few map lookups. The audit event is written when the stream ends — before
 * the response finishes — or when the download is abandoned (complete: false).
 */
export async function* exportRecordBatches(actor: Actor, scope: ExportScope, t: TFunction, lang: string, ctx: AuditContext, now = new Date()): AsyncGenerator<ExportCell[][]> {
  const [directory, modules] = await Promise.all([
    scope.school ? Promise.resolve(new Map([[scope.school.id, { code: scope.school.code, name: scope.school.name, active: true, region: scope.school.region }]])) : schoolDirectory(scope.district.id),
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
  // Region cells: the regions of the row's schools, each once ('' for a school without one).
  const regionOf = new Map(scope.regions.map((r) => [r.id, r]));
  const regionCells = (schools: readonly (DirectoryEntry | undefined)[]) => {
    const found = [...new Set(schools.map((s) => s?.region ?? ''))].map((id) => regionOf.get(id)).filter((r) => r !== undefined);
    return { regionCodes: found.map((r) => r.code).join('; '), regionNames: found.map((r) => r.name).join('; ') };
  };
  // School cells by the row's school ids (one or two ids; a few thousand distinct combinations at most).
  const schoolCells = new Map<string, SchoolCells>();
  const only = scope.school ? { codes: scope.school.code, names: scope.school.name, ...regionCells([directory.get(scope.school.id)]) } : undefined;
  const schoolsOf = (ids: readonly { toHexString(): string }[]): SchoolCells => {
    if (only) return only;
    const key = ids.length === 1 ? ids[0].toHexString() : ids.map((id) => id.toHexString()).join(',');
    let cells = schoolCells.get(key);
    if (!cells) {
      const found = ids.map((id) => directory.get(id.toHexString()));
      cells = { codes: found.map((s) => s?.code ?? '').join('; '), names: found.map((s) => s?.name ?? '').join('; '), ...regionCells(found) };
      schoolCells.set(key, cells);
    }
    return cells;
  };
  const localDate = localDateFormatter(scope.district.timeZone);
  const { filters } = scope;
  let rowCount = 0;
  let complete = false;
  try {
    const rowScope = { districtId: scope.district.id, schoolId: scope.school?.id, schoolIds: schoolIdsOf(scope, directory) };
    for await (const rows of streamRowBatches(rowScope, { moduleSlug: filters.module, status: filters.status, jobTitle: filters.jobTitle }, now, ctx.batchSize)) {
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
          schools.regionCodes,
          schools.regionNames,
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

/** regionCode: the school's region's code ('' for none, and for the no-school line). */
export type SummaryLine = { code: string; name: string; regionCode: string; counts: StatusCounts; percent: number | null; suppressed: boolean };

export type BoardSummary = {
  district: DistrictInfo;
  school?: VisibleSchool;
  /** The region filter (district-wide exports). */
  region?: RegionScope;
  generatedAt: Date;
  filters: ExportQuery;
  totals: StatusCounts;
  percent: number | null;
  /** The region filter's own figures are below the small-group threshold: the totals are hidden too. */
  totalsSuppressed: boolean;
  /** version: the one learners play (the latest); review: counsel's review of it recorded by the district, if any. */
  modules: { title: string; version: number; review?: CounselReviewView; counts: StatusCounts; percent: number | null }[];
  /** Per-region rollup: district-wide exports without a region filter, when the district has regions. */
  regions: RegionLine[];
  /** How many regions the district has (a region administrator: theirs): with any, the school table has a region column. */
  regionCount: number;
  schools: SummaryLine[];
};

type Count = Set<string> | number;
const sizeOf = (c: Count) => (typeof c === 'number' ? c : c.size);

/**
 * The board summary behind the PDF: district (or region, or school) totals, per-module, per-region and
 * per-school figures from the summaries (cheap at any size). The job-title filter is not in the summaries,
 * so with it the rows are streamed once and counted in memory (one counter per school).
 */
export async function getBoardSummary(actor: Actor, scope: ExportScope, lang: string, ctx: AuditContext, now = new Date()): Promise<BoardSummary> {
  const { filters } = scope;
  const [directory, modules, reviews] = await Promise.all([schoolDirectory(scope.district.id), listModuleOptions(), getCounselReviews(scope.district.id)]);
  const titleOf = new Map(modules.map((m) => [m.slug, lang === 'es' ? m.title.es : m.title.en]));
  const latestOf = new Map(modules.map((m) => [m.slug, m.latest]));
  const schoolIds = schoolIdsOf(scope, directory);
  const inScope = schoolIds ? new Set(schoolIds) : undefined;
  const bySchool = new Map<string, { all: StatusCounts; primary: StatusCounts; people: Count; primaryPeople: Count }>();
  const byModule = new Map<string, StatusCounts>();

  if (!filters.jobTitle) {
    for (const [id, c] of await countsBySchool(scope.district.id, { moduleSlug: filters.module, schoolId: scope.school?.id }, now)) {
      if (inScope && !inScope.has(id)) continue;
      bySchool.set(id, { all: c.all, primary: c.primary, people: c.people, primaryPeople: c.primaryPeople });
    }
    for (const [slug, c] of await countsByModule(scope.district.id, { schoolId: scope.school?.id, schoolIds }, now)) {
      if (!filters.module || filters.module === slug) byModule.set(slug, c);
    }
  } else {
    const rows = streamRows({ districtId: scope.district.id, schoolId: scope.school?.id, schoolIds }, { moduleSlug: filters.module, jobTitle: filters.jobTitle }, now);
    for await (const row of rows) {
      const status = statusAt(row, now);
      const schools = scope.school ? [scope.school.id] : row.schools.length ? row.schools.map(String) : ['null'];
      let counted = false;
      for (const school of schools) {
        if (inScope && !inScope.has(school)) continue;
        counted = true;
        const entry = bySchool.get(school) ?? { all: emptyCounts(), primary: emptyCounts(), people: new Set<string>(), primaryPeople: new Set<string>() };
        entry.all[status] += 1;
        entry.all.total += 1;
        if (scope.school || school === String(row.primarySchool)) {
          entry.primary[status] += 1;
          entry.primary.total += 1;
          (entry.primaryPeople as Set<string>).add(String(row.user));
        }
        (entry.people as Set<string>).add(String(row.user));
        bySchool.set(school, entry);
      }
      if (!counted) continue;
      const moduleCounts = byModule.get(row.moduleSlug) ?? emptyCounts();
      moduleCounts[status] += 1;
      moduleCounts.total += 1;
      byModule.set(row.moduleSlug, moduleCounts);
    }
  }

  const threshold = scope.district.smallGroupThreshold;
  const totals = emptyCounts();
  const schools: SummaryLine[] = [];
  const regionCodeOf = new Map(scope.regions.map((r) => [r.id, r.code]));
  for (const [id, entry] of bySchool) {
    addCounts(totals, scope.school ? entry.all : entry.primary);
    const info = directory.get(id);
    schools.push({
      code: info?.code ?? '—',
      name: info?.name ?? '',
      regionCode: regionCodeOf.get(info?.region ?? '') ?? '',
      counts: entry.all,
      percent: compliancePercent(entry.all),
      suppressed: threshold > 0 && sizeOf(entry.people) < threshold,
    });
  }
  const status = filters.status;
  const listed = status ? schools.filter((s) => !s.suppressed && s.counts[status] > 0) : schools;
  listed.sort((a, b) => Number(a.suppressed) - Number(b.suppressed) || (a.percent ?? 101) - (b.percent ?? 101) || a.code.localeCompare(b.code));
  const schoolFigures = [...bySchool].filter(([id]) => id !== 'null').map(([id, e]) => ({ region: directory.get(id)?.region ?? '', primary: e.primary, primaryPeople: sizeOf(e.primaryPeople) }));
  const regions = !scope.school && !scope.region && scope.regions.length ? rollUpRegions(scope.regions, schoolFigures, threshold) : [];
  // A region's totals are the region's figures: below the threshold they are hidden like its row would be.
  const regionPeople = schoolFigures.reduce((n, f) => n + f.primaryPeople, 0);
  const summary: BoardSummary = {
    district: scope.district,
    school: scope.school,
    region: scope.school ? undefined : scope.region,
    generatedAt: now,
    filters,
    totals,
    percent: compliancePercent(totals),
    totalsSuppressed: Boolean(scope.region && !scope.school && threshold > 0 && regionPeople > 0 && regionPeople < threshold),
    modules: [...byModule.entries()].map(([slug, counts]) => {
      const version = latestOf.get(slug) ?? 1;
      return { title: titleOf.get(slug) ?? slug, version, review: reviewOf(reviews, slug, version), counts, percent: compliancePercent(counts) };
    }),
    regions,
    regionCount: scope.regions.length,
    schools: listed,
  };
  await auditExport(actor, scope, ctx, listed.length, true);
  return summary;
}
