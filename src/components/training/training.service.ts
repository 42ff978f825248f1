import type { Actor } from '../../shared/actor';
import type { BilingualText, LoadedModuleVersion } from '../content';
import { Attempt, Completion } from '../completions';
import { listMyAssignments, validUntilFor, type ComplianceStatus, type MyAssignment } from '../assignments';
import { getCatalog, getModuleVersion } from './training.content';
import { updateOfferFor, type UpdateOffer } from './training.update';

export type TrainingStatus = 'not_started' | 'in_progress' | 'passed' | 'failed';

/** One row of "My training": a module, where the person stands with it, and their latest completion. */
export type TrainingRow = Readonly<{
  slug: string;
  version: number;
  title: BilingualText;
  summary: BilingualText;
  estimatedMinutes: number;
  status: TrainingStatus;
  /** The latest completion of any version of the module (a retake in progress keeps showing it). */
  /** score: none for a completion recorded at a facilitated group session (isFacilitated). */
  /** updatedFrom: set for an update completion (only the changed scenarios were played). */
  completion?: Readonly<{ version: number; score?: number; isFacilitated: boolean; updatedFrom?: number; completedAt: Date; certificateCode: string }>;
  /** The update of the latest version offered instead of the whole module (none while an attempt is open). */
  update?: UpdateOffer;
  /** Score of the latest finished attempt when it failed. */
  failedScore?: number;
  /** When the module is assigned to the person: the due date (district-local 'YYYY-MM-DD') and compliance status. */
  assignment?: Readonly<{ dueDate: string; status: ComplianceStatus; minVersion: number }>;
}>;

function isInAudience(actor: Actor, module: LoadedModuleVersion): boolean {
  const { roles, jobTitles } = module.content.audience;
  // A region administrator takes the training a principal does (published modules predate the role), and any
  // module that names region administrators itself.
  if (!roles.includes(actor.role) && !(actor.role === 'region_admin' && roles.includes('principal'))) return false;
  if (!jobTitles || jobTitles.length === 0) return true;
  return actor.jobTitle !== undefined && jobTitles.includes(actor.jobTitle);
}

/**
 * The modules a person sees, with status. For now the audience comes from each module's own
 * `audience` (role + job title), plus any module the person has already started or completed.
 * The single place to change when assignments (due dates, compliance statuses) decide the list.
 */
export async function getTrainingOverview(actor: Actor, now = new Date()): Promise<TrainingRow[]> {
  const [attempts, completions, assigned] = await Promise.all([
    // Index { user, moduleSlug, startedAt }: a person's attempt history is short (modules × retakes).
    Attempt.find({ user: actor.userId }, { moduleSlug: 1, status: 1, score: 1, startedAt: 1 }).sort({ startedAt: -1 }).lean(),
    Completion.find({ user: actor.userId }, { moduleSlug: 1, moduleVersion: 1, score: 1, method: 1, updatedFrom: 1, recertifiedAt: 1, completedAt: 1, certificateCode: 1, revokedAt: 1 }).lean(),
    listMyAssignments(actor, now),
  ]);
  // Assigned modules come first, earliest due date first; when one module is assigned twice the earlier due date shows.
  const assignmentOf = new Map<string, (typeof assigned)[number]>();
  for (const a of assigned) if (!assignmentOf.has(a.moduleSlug)) assignmentOf.set(a.moduleSlug, a);
  const latestAttempt = new Map<string, (typeof attempts)[number]>();
  const hasInProgress = new Set<string>();
  for (const attempt of attempts) {
    if (!latestAttempt.has(attempt.moduleSlug)) latestAttempt.set(attempt.moduleSlug, attempt);
    if (attempt.status === 'in_progress') hasInProgress.add(attempt.moduleSlug);
  }
  const latestCompletion = new Map<string, (typeof completions)[number]>();
  const heldOf = new Map<string, (typeof completions)[number][]>();
  for (const completion of completions) {
    heldOf.set(completion.moduleSlug, [...(heldOf.get(completion.moduleSlug) ?? []), completion]);
    // A revoked completion no longer counts (its certificate is refused): the list must not show it as passed.
    if (completion.revokedAt) continue;
    const seen = latestCompletion.get(completion.moduleSlug);
    if (!seen || completion.completedAt > seen.completedAt) latestCompletion.set(completion.moduleSlug, completion);
  }

  return getCatalog()
    .listLatest()
    .filter((module) => assignmentOf.has(module.slug) || isInAudience(actor, module) || latestAttempt.has(module.slug) || latestCompletion.has(module.slug))
    .map((module) => {
      const completion = latestCompletion.get(module.slug);
      const last = latestAttempt.get(module.slug);
      const status: TrainingStatus = hasInProgress.has(module.slug)
        ? 'in_progress'
        : completion
          ? 'passed'
          : last?.status === 'failed'
            ? 'failed'
            : 'not_started';
      return {
        slug: module.slug,
        version: module.version,
        title: module.content.title,
        summary: module.content.summary,
        estimatedMinutes: module.content.estimatedMinutes,
        status,
        completion: completion
          ? {
              version: completion.moduleVersion,
              score: completion.score ?? undefined,
              isFacilitated: completion.method === 'facilitated',
              updatedFrom: completion.method === 'update' ? (completion.updatedFrom ?? undefined) : undefined,
              completedAt: completion.completedAt,
              certificateCode: completion.certificateCode,
            }
          : undefined,
        failedScore: status === 'failed' ? (last?.score ?? undefined) : undefined,
        update: status === 'in_progress' ? undefined : offerFor(module, heldOf.get(module.slug) ?? [], assignmentOf.get(module.slug), now),
        assignment: assignmentOf.has(module.slug)
          ? { dueDate: assignmentOf.get(module.slug)!.dueDate, status: assignmentOf.get(module.slug)!.status, minVersion: assignmentOf.get(module.slug)!.minVersion }
          : undefined,
      };
    })
    .sort((a, b) => (a.assignment ? 0 : 1) - (b.assignment ? 0 : 1) || (a.assignment && b.assignment ? a.assignment.dueDate.localeCompare(b.assignment.dueDate) : 0));
}

/**
 * The update offered on the pages, if any. Not offered when it could not make the person compliant: an
 * update keeps the base completion's recertification clock, so if that clock has already run out for the
 * assignment (an annual one whose base is over a year old), only the whole module renews it.
 */
function offerFor(module: LoadedModuleVersion, held: Parameters<typeof updateOfferFor>[1], assignment: MyAssignment | undefined, now: Date): UpdateOffer | undefined {
  const offer = updateOfferFor(module, held);
  if (!offer || !assignment) return offer;
  const until = validUntilFor(assignment.recurrenceRule, offer.recertifiedAt, assignment.timeZone);
  return until === null || now < until ? offer : undefined;
}

/** The update of the latest version offered to the person now (the same rule as the pages), if any. */
export async function findUpdateOffer(actor: Actor, slug: string, now = new Date()): Promise<UpdateOffer | undefined> {
  const module = getModuleVersion(slug);
  const [held, assigned] = await Promise.all([
    // Index { user, moduleSlug, moduleVersion }: a person holds a handful of versions.
    Completion.find({ user: actor.userId, moduleSlug: slug }, { moduleVersion: 1, completedAt: 1, method: 1, recertifiedAt: 1, revokedAt: 1 }).lean(),
    listMyAssignments(actor, now),
  ]);
  // The earliest-due assignment of the module, as on the pages (listMyAssignments sorts by due date).
  return offerFor(module, held, assigned.find((a) => a.moduleSlug === slug), now);
}

/** A module's overview: the latest version (any signed-in person may read and play any module) and the person's row. */
export async function getModuleOverview(actor: Actor, slug: string): Promise<{ module: LoadedModuleVersion; row: TrainingRow }> {
  const module = getModuleVersion(slug);
  const rows = await getTrainingOverview(actor);
  const row = rows.find((candidate) => candidate.slug === slug) ?? {
    slug,
    version: module.version,
    title: module.content.title,
    summary: module.content.summary,
    estimatedMinutes: module.content.estimatedMinutes,
    status: 'not_started' as const,
  };
  return { module, row };
}
