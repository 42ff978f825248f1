import type { Actor } from '../../shared/actor';
import { addCounts, compliancePercent, complianceUpdatesUnderway, countsBySchool, emptyCounts, listModuleOptions, type ComplianceStatus, type ComplianceUpdatesUnderway, type ModuleOption, type StatusCounts } from '../assignments';
import type { RegionOption } from '../regions';
import { inRegion, resolveRegion, rollUpRegions, type RegionLine, type RegionScope, type SchoolFigures } from './report-regions';
import { districtOf, schoolDirectory, type DistrictInfo } from './report-scope';
import { sortedPage } from './report-page';
import type { DistrictQuery } from './reports.schemas';

export const DISTRICT_PAGE_SIZE = 25;
/** Schools grouped by compliance in ten-point bands for the distribution chart. */
export const BANDS = 10;

export type SchoolLine = {
  /** null: people with no school (district office). */
  schoolId: string | null;
  code: string;
  name: string;
  /** The school's region ('' for none, and for the no-school line). */
  regionName: string;
  counts: StatusCounts;
  percent: number | null;
  /** Below the district's small-group threshold: figures hidden. */
  suppressed: boolean;
};

export type DistrictReport = {
  district: DistrictInfo;
  totals: StatusCounts;
  percent: number | null;
  /** The region filter's own line is below the small-group threshold: its totals are hidden too. */
  totalsSuppressed: boolean;
  schools: SchoolLine[];
  schoolCount: number;
  matching: number;
  page: number;
  pages: number;
  /** Schools per compliance band (0–9 %, 10–19 % … 90–100 %), suppressed schools left out. */
  bands: number[];
  modules: ModuleOption[];
  /** The district's regions (the filter's options) and the chosen filter. */
  regionOptions: RegionOption[];
  region: RegionScope | undefined;
  /** Per-region rollup of every school (whatever the region filter); empty when the district has no regions. */
  regions: RegionLine[];
  /** Compliance jobs queued or running in the district: figures may be a minute out of date. */
  updating: ComplianceUpdatesUnderway | null;
};

function compareLines(sort: DistrictQuery['sort'], status?: ComplianceStatus): (a: SchoolLine, b: SchoolLine) => number {
  const byCode = (a: SchoolLine, b: SchoolLine) => a.code.localeCompare(b.code);
  // Suppressed schools have no figure to rank by: they go last in figure sorts.
  const figure = (value: (l: SchoolLine) => number) => (a: SchoolLine, b: SchoolLine) =>
    Number(a.suppressed) - Number(b.suppressed) || value(a) - value(b) || byCode(a, b);
  switch (sort) {
    case 'name':
      return (a, b) => a.name.localeCompare(b.name) || byCode(a, b);
    case 'code':
      return byCode;
    case 'count':
      return figure((l) => -(status ? l.counts[status] : l.counts.total));
    default:
      return figure((l) => l.percent ?? 101);
  }
}

/**
 * Per-school compliance for the district from the per-(school, assignment) summaries: one indexed read
 * of about schools × assignments small documents plus the school list — never the 74,000 people. The
 * region rollup adds those per-school figures up by the school's region (report-regions.ts).
 */
export async function getDistrictReport(actor: Actor, query: DistrictQuery, now = new Date()): Promise<DistrictReport> {
  const [district, directory, bySchool, modules, updating, { regions: regionOptions, scope: region }] = await Promise.all([
    districtOf(actor),
    schoolDirectory(actor.districtId),
    countsBySchool(actor.districtId, { moduleSlug: query.module }, now),
    listModuleOptions(),
    complianceUpdatesUnderway(actor.districtId),
    resolveRegion(actor, query.region),
  ]);
  const threshold = district.smallGroupThreshold;
  const regionName = new Map(regionOptions.map((r) => [r.id, r.name]));
  const totals = emptyCounts();
  const lines: SchoolLine[] = [];
  const figures: SchoolFigures[] = [];
  // A region administrator's rollup has their own region(s) only: other regions' figures are never added up for them.
  const rolledUp = actor.role === 'region_admin' ? new Set(regionOptions.map((r) => r.id)) : undefined;
  for (const [id, school] of directory) {
    const counts = bySchool.get(id);
    if (!counts && !school.active) continue;
    if (!rolledUp || rolledUp.has(school.region)) figures.push({ region: school.region, primary: counts?.primary ?? emptyCounts(), primaryPeople: counts?.primaryPeople ?? 0 });
    if (!inRegion(region, school.region)) continue;
    if (counts) addCounts(totals, counts.primary);
    const all = counts?.all ?? emptyCounts();
    lines.push({
      schoolId: id,
      code: school.code,
      name: school.name,
      regionName: regionName.get(school.region) ?? '',
      counts: all,
      percent: compliancePercent(all),
      suppressed: threshold > 0 && counts !== undefined && counts.people < threshold,
    });
  }
  // People with no school (district office) belong to no region: listed only without a region filter.
  const noSchool = bySchool.get('null');
  if (noSchool && !region) {
    addCounts(totals, noSchool.primary);
    lines.push({ schoolId: null, code: '—', name: '', regionName: '', counts: noSchool.all, percent: compliancePercent(noSchool.all), suppressed: threshold > 0 && noSchool.people < threshold });
  }
  const regions = regionOptions.length ? rollUpRegions(regionOptions, figures, threshold) : [];
  const own = region && regions.find((l) => (region.kind === 'none' ? l.regionId === null : l.regionId === region.region.id));

  const bands = new Array<number>(BANDS).fill(0);
  for (const line of lines) {
    if (line.suppressed || line.percent === null) continue;
    bands[Math.min(BANDS - 1, Math.floor(line.percent / (100 / BANDS)))] += 1;
  }

  const status = query.status;
  const matching = status ? lines.filter((l) => !l.suppressed && l.counts[status] > 0) : lines;
  const { items, page, pages } = sortedPage(matching, compareLines(query.sort, status), query.dir, query.page, DISTRICT_PAGE_SIZE);
  return {
    district,
    totals,
    percent: compliancePercent(totals),
    totalsSuppressed: own?.suppressed ?? false,
    schools: items,
    schoolCount: lines.length,
    matching: matching.length,
    page,
    pages,
    bands,
    modules,
    regionOptions,
    region,
    regions,
    updating,
  };
}
