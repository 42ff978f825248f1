import { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { forbidden, notFound } from '../../shared/errors';
import { Assignment } from '../assignments';
import { Completion } from '../completions';
import { getCounselReviews, type CounselReviews } from '../counsel-reviews';
import type { LoadedModuleVersion } from '../content';
import { School } from '../schools';
import { getCatalog } from '../training';

/**
 * Training modules and their versions as a district admin sees them: the content comes from the loaded
 * catalog (immutable per version), the district's own figures from its assignments and completions.
 * Read-only: publishing a version is done in `modules/`, not here.
 */

/** An active assignment of the district that uses a module. */
export type ModuleAssignment = Readonly<{
  id: string;
  minVersion: number;
  roles: readonly string[];
  jobTitles: readonly string[];
  schoolCodes: readonly string[];
}>;

/** Completions held in the district, per version of a module. */
export type VersionCompletions = Readonly<{ version: number; count: number }>;

export type ModuleOverview = Readonly<{
  latest: LoadedModuleVersion;
  /** Every version, newest first, with this district's completions of it (0 when none). */
  completions: readonly VersionCompletions[];
  assignments: readonly ModuleAssignment[];
  /** The district's counsel reviews (by `slug@version`). */
  reviews: CounselReviews;
}>;

export type ModuleDetail = Readonly<{
  /** Newest first; never empty (a slug exists in the catalog only with at least one version). */
  versions: readonly LoadedModuleVersion[];
  completions: readonly VersionCompletions[];
  assignments: readonly ModuleAssignment[];
  reviews: CounselReviews;
}>;

function assertAdmin(actor: Actor): void {
  if (actor.role !== 'district_admin') throw forbidden();
}

/** One row per module of the catalog, with the district's active assignments and completions. */
export async function listModules(actor: Actor): Promise<ModuleOverview[]> {
  assertAdmin(actor);
  const catalog = getCatalog();
  const [counts, assignments, reviews] = await Promise.all([countCompletions(actor), findActiveAssignments(actor), getCounselReviews(actor.districtId)]);
  return catalog.listLatest().map((latest) => ({
    latest,
    completions: perVersion(catalog.listVersions(latest.slug), counts.get(latest.slug)),
    assignments: assignments.get(latest.slug) ?? [],
    reviews,
  }));
}

/** Every version of one module (newest first) with the district's figures; 404 for a slug not in the catalog. */
export async function getModuleDetail(actor: Actor, slug: string): Promise<ModuleDetail> {
  assertAdmin(actor);
  const versions = getCatalog().listVersions(slug).reverse();
  if (versions.length === 0) throw notFound();
  const [counts, assignments, reviews] = await Promise.all([countCompletions(actor, slug), findActiveAssignments(actor, slug), getCounselReviews(actor.districtId)]);
  return { versions, completions: perVersion(versions, counts.get(slug)), assignments: assignments.get(slug) ?? [], reviews };
}

function perVersion(versions: readonly LoadedModuleVersion[], counts: Map<number, number> | undefined): VersionCompletions[] {
  return versions
    .map((module) => ({ version: module.version, count: counts?.get(module.version) ?? 0 }))
    .sort((a, b) => b.version - a.version);
}

/**
 * Completions held in the actor's district, by module and version (one per person and version: the
 * completion's unique key). Revoked certificates are not held. Served by the completions index
 * { district, moduleSlug, user } (completion.model.ts): equality on its prefix — the district, and the
 * module when given — so only this district's completions are read; the version is grouped from them.
 */
async function countCompletions(actor: Actor, slug?: string): Promise<Map<string, Map<number, number>>> {
  const match: Record<string, unknown> = { district: new Types.ObjectId(actor.districtId), ...(slug === undefined ? {} : { moduleSlug: slug }), revokedAt: null };
  const groups: Array<{ _id: { slug: string; version: number }; count: number }> = await Completion.aggregate([
    { $match: match },
    { $group: { _id: { slug: '$moduleSlug', version: '$moduleVersion' }, count: { $sum: 1 } } },
  ]);
  const counts = new Map<string, Map<number, number>>();
  for (const group of groups) {
    const bySlug = counts.get(group._id.slug) ?? new Map<number, number>();
    bySlug.set(group._id.version, group.count);
    counts.set(group._id.slug, bySlug);
  }
  return counts;
}

/** The district's active assignments by module slug, oldest first. Index { district, status, moduleSlug } (assignment.model.ts). */
async function findActiveAssignments(actor: Actor, slug?: string): Promise<Map<string, ModuleAssignment[]>> {
  const assignments = await Assignment.find(
    { district: actor.districtId, status: 'active', ...(slug === undefined ? {} : { moduleSlug: slug }) },
    { moduleSlug: 1, minVersion: 1, audience: 1, createdAt: 1 },
  )
    .sort({ createdAt: 1, _id: 1 })
    .lean();
  const schoolIds = assignments.flatMap((a) => a.audience?.schools ?? []);
  const codes = new Map<string, string>();
  if (schoolIds.length > 0) {
    // _id lookups, kept to the district.
    const schools = await School.find({ district: actor.districtId, _id: { $in: schoolIds } }, { code: 1 }).lean();
    for (const school of schools) codes.set(String(school._id), school.code);
  }
  const bySlug = new Map<string, ModuleAssignment[]>();
  for (const a of assignments) {
    const list = bySlug.get(a.moduleSlug) ?? [];
    list.push({
      id: String(a._id),
      minVersion: a.minVersion,
      roles: a.audience?.roles ?? [],
      jobTitles: a.audience?.jobTitles ?? [],
      schoolCodes: (a.audience?.schools ?? []).map((id) => codes.get(String(id)) ?? '?').sort(),
    });
    bySlug.set(a.moduleSlug, list);
  }
  return bySlug;
}
