import type { Actor } from '../../shared/actor';
import { forbidden } from '../../shared/errors';
import { TtlMemo } from '../../shared/ttl-memo';
import type { FieldErrors } from '../../shared/validation';
import { recordAudit } from '../audit';
import { CounselReview } from './counsel-review.model';
import type { ReviewInput } from './counsel-reviews.schemas';

export type CounselReviewView = Readonly<{ reviewedOn: string; reviewer: string }>;
/** A district's reviews by `slug@version`. */
export type CounselReviews = ReadonlyMap<string, CounselReviewView>;
export type Outcome = { ok: true } | { ok: false; errors: FieldErrors };
type Context = { requestId?: string };

const keyOf = (slug: string, version: number) => `${slug}@${version}`;

// A district has a handful of module versions: all its reviews are one small read, remembered a few seconds
// (the module page, the card and the group-session deck all show the notice); dropped at once on a change here.
const memo = new TtlMemo<CounselReviews>(5_000, 1_000);

export async function getCounselReviews(districtId: string): Promise<CounselReviews> {
  const reviews = await memo.get(districtId, async () => {
    const docs = await CounselReview.find({ district: districtId }, { moduleSlug: 1, moduleVersion: 1, reviewedOn: 1, reviewer: 1 }).lean();
    return new Map(docs.map((d) => [keyOf(d.moduleSlug, d.moduleVersion), { reviewedOn: d.reviewedOn, reviewer: d.reviewer }]));
  });
  return reviews ?? new Map();
}

/** Drops the memo (tests that change reviews directly; the service's own changes do it themselves). */
export function forgetCounselReviews(districtId?: string): void {
  if (districtId) memo.forget([districtId]);
  else memo.clear();
}

/** The district's review of one module version, if it recorded one. */
export async function getCounselReview(districtId: string, slug: string, version: number): Promise<CounselReviewView | undefined> {
  return (await getCounselReviews(districtId)).get(keyOf(slug, version));
}

export function reviewOf(reviews: CounselReviews, slug: string, version: number): CounselReviewView | undefined {
  return reviews.get(keyOf(slug, version));
}

/** The module version as the caller found it in the catalog (the routes check it exists; 404 otherwise). */
export type ReviewedVersion = Readonly<{ slug: string; version: number; currentAsOf: string }>;

/**
 * Records (or corrects) counsel's review of a version. The date cannot be before the version's "current as
 * of" date (counsel cannot have reviewed text that did not exist) nor after today in the district.
 */
export async function recordCounselReview(actor: Actor, target: ReviewedVersion, input: ReviewInput, today: string, ctx: Context = {}): Promise<Outcome> {
  if (actor.role !== 'district_admin') throw forbidden();
  if (input.reviewedOn < target.currentAsOf) return { ok: false, errors: { reviewedOn: 'counselReviews.errors.beforeContent' } };
  if (input.reviewedOn > today) return { ok: false, errors: { reviewedOn: 'counselReviews.errors.future' } };
  const filter = { district: actor.districtId, moduleSlug: target.slug, moduleVersion: target.version };
  const before = await CounselReview.findOneAndUpdate(
    filter,
    { $set: { reviewedOn: input.reviewedOn, reviewer: input.reviewer, recordedBy: actor.userId } },
    { upsert: true, new: false, lean: true },
  );
  memo.forget([actor.districtId]);
  await recordAudit(actor, {
    action: 'content.review_recorded',
    target: { kind: 'module', id: target.slug },
    details: {
      moduleSlug: target.slug,
      version: target.version,
      reviewedOn: input.reviewedOn,
      reviewer: input.reviewer,
      ...(before ? { previous: { reviewedOn: before.reviewedOn, reviewer: before.reviewer } } : {}),
    },
    requestId: ctx.requestId,
  });
  return { ok: true };
}

/** Withdraws the review (the notice goes back to "to be reviewed"); false when there was none. */
export async function withdrawCounselReview(actor: Actor, target: ReviewedVersion, ctx: Context = {}): Promise<boolean> {
  if (actor.role !== 'district_admin') throw forbidden();
  const removed = await CounselReview.findOneAndDelete({ district: actor.districtId, moduleSlug: target.slug, moduleVersion: target.version }).lean();
  memo.forget([actor.districtId]);
  if (!removed) return false;
  await recordAudit(actor, {
    action: 'content.review_withdrawn',
    target: { kind: 'module', id: target.slug },
    details: { moduleSlug: target.slug, version: target.version, reviewedOn: removed.reviewedOn, reviewer: removed.reviewer },
    requestId: ctx.requestId,
  });
  return true;
}
