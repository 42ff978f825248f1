/**
 * Regions in district reporting (docs/compliance.md, "Regions"): the region filter of the district page and
 * the exports, and the per-region rollup. Everything here works on the per-school figures the dashboard
 * already has (countsBySchool over the summaries) and the school directory — never on people.
 */
import { regionIdsOf, type Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import { addCounts, compliancePercent, emptyCounts, type StatusCounts } from '../assignments';
import { listRegionOptions, type RegionOption } from '../regions';
import type { DirectoryEntry } from './report-scope';

/** The region filter as asked: a region id, 'none' (schools without a region) or nothing. */
export type RegionParam = string | undefined;
/** The region filter once checked: a region of the actor's district, or 'none'. */
export type RegionScope = { kind: 'region'; region: RegionOption } | { kind: 'none' };

/**
 * The district's regions and the checked filter; a region id that is not the actor's district's is 404 (like another
 * district's school). A region administrator's options are their own region(s) only, the filter is always one of
 * them (their first by code when none is asked for), and anything else — another region, 'none' — is 404; with no
 * region left (theirs was deleted) there is nothing for them to see (404).
 */
export async function resolveRegion(actor: Actor, param: RegionParam): Promise<{ regions: RegionOption[]; scope: RegionScope | undefined }> {
  const all = await listRegionOptions(actor);
  if (actor.role === 'region_admin') {
    const own = new Set(regionIdsOf(actor));
    const regions = all.filter((r) => own.has(r.id));
    const region = param ? regions.find((r) => r.id === param) : regions[0];
    if (!region) throw notFound();
    return { regions, scope: { kind: 'region', region } };
  }
  const regions = all;
  if (!param) return { regions, scope: undefined };
  if (param === 'none') return { regions, scope: { kind: 'none' } };
  const region = regions.find((r) => r.id === param);
  if (!region) throw notFound();
  return { regions, scope: { kind: 'region', region } };
}

/** Whether a school (its directory entry's region, '' for none) is inside the filter. */
export function inRegion(scope: RegionScope | undefined, schoolRegion: string): boolean {
  if (!scope) return true;
  return scope.kind === 'none' ? schoolRegion === '' : schoolRegion === scope.region.id;
}

/** The ids of the district's schools inside the filter (a region: a few hundred at LAUSD). */
export function schoolIdsIn(scope: RegionScope, directory: ReadonlyMap<string, DirectoryEntry>): string[] {
  const ids: string[] = [];
  for (const [id, school] of directory) if (inRegion(scope, school.region)) ids.push(id);
  return ids;
}

/** What the audit log and the export job keep of the filter: the region's code, or 'none'. */
export function regionFilterValue(scope: RegionScope | undefined): string | null {
  return scope ? (scope.kind === 'none' ? 'none' : scope.region.code) : null;
}

export type RegionLine = {
  /** null: the schools without a region. */
  regionId: string | null;
  code: string;
  name: string;
  schools: number;
  /** People whose first school is in the region (each school's largest assignment audience: a lower bound). */
  staff: number;
  /** Each person once, at their first school (the region rows add up to the district's school figures). */
  counts: StatusCounts;
  percent: number | null;
  /** Fewer people than the district's small-group threshold: figures hidden, as for a school. */
  suppressed: boolean;
};

export type SchoolFigures = { region: string; primary: StatusCounts; primaryPeople: number };

/**
 * One line per region (in code order, regions without schools included) and a "no region" line when some
 * schools have none, from the per-school figures: a few additions per school.
 */
export function rollUpRegions(regions: readonly RegionOption[], schools: Iterable<SchoolFigures>, threshold: number): RegionLine[] {
  const lines = new Map<string, RegionLine>();
  for (const r of regions) lines.set(r.id, { regionId: r.id, code: r.code, name: r.name, schools: 0, staff: 0, counts: emptyCounts(), percent: null, suppressed: false });
  const known = new Set(regions.map((r) => r.id));
  for (const school of schools) {
    // A school still pointing at a region deleted a moment ago counts as "no region", as it is about to be.
    const key = known.has(school.region) ? school.region : '';
    let line = lines.get(key);
    if (!line) lines.set(key, (line = { regionId: null, code: '', name: '', schools: 0, staff: 0, counts: emptyCounts(), percent: null, suppressed: false }));
    line.schools += 1;
    line.staff += school.primaryPeople;
    addCounts(line.counts, school.primary);
  }
  const result = [...lines.values()];
  for (const line of result) {
    line.percent = compliancePercent(line.counts);
    line.suppressed = threshold > 0 && line.staff > 0 && line.staff < threshold;
  }
  return result;
}
