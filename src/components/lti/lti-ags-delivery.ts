/**
 * Grade passback (docs/lti.md "Grade passback"): a durable job per gradebook link on the shared lease
 * (src/shared/lease-jobs.ts). Nothing runs in the learner's request: the collector below finds finished
 * attempts after the fact (as xAPI's does) and marks the links of that person and module `due`; a pass
 * then reads the person's finished attempts of the module and, when the best score is higher than the one
 * the LMS already accepted, POSTs it. The best score wins: a retake with a lower score sends nothing.
 * Network errors, 408/429/5xx wait with a growing backoff (or the LMS's Retry-After); a refusal
 * (400/401/403…) stops the link with the LMS's message until the district admin saves the registration or
 * presses "Try again". A process that dies after the LMS accepted a score and before it was recorded sends
 * the same score with the same timestamp again: the LMS keeps the same result (exactly once in effect).
 */
import { Types } from 'mongoose';
import { Attempt } from '../completions';
import { defineLeaseJobs, errorMessage, type Lease } from '../../shared/lease-jobs';
import { logger } from '../../shared/logger';
import { retryBackoffMs } from '../../shared/outbound-http';
import { postScore, requestToken, type AgsAnswer, type Registration, type Score } from './lti-ags-client';
import { LtiAgsLink, LtiAgsScan, type LtiAgsLinkRecord } from './lti-ags.model';
import { LtiPlatform } from './lti-platform.model';
import { ltiRuntime } from './lti-runtime';
import { toolKey, type ToolKey } from './lti-tool-key';

export const AGS_LEASE_MS = 60_000;
export const MAX_AGS_ATTEMPTS = 3;
/** How often the collector looks for finished attempts (and so the longest wait before a score is sent). */
export const AGS_COLLECT_MS = 15_000;
/** The collector re-reads this far before its cursor: a write stamped a moment earlier may land later. */
const CURSOR_MARGIN_MS = 2 * 60_000;
/** A token is used until this long before it expires. */
const TOKEN_MARGIN_MS = 60_000;
const MAX_CACHED_TOKENS = 500;


const jobs = defineLeaseJobs<LtiAgsLinkRecord>({
  name: 'LTI score delivery',
  model: LtiAgsLink,
  runningState: 'running',
  leaseMs: AGS_LEASE_MS,
  maxAttempts: MAX_AGS_ATTEMPTS,
  pollMs: 5_000,
  queued: () => ({ state: 'idle', due: true, requestedAt: { $lte: new Date() } }),
  // Cleared at the claim: an attempt that finishes during the pass marks the link due again.
  onClaim: { error: null, due: false },
  onCrashLoop: (now) => ({ error: 'crash_loop', due: true, lastError: { at: now, status: null, message: 'The process sending this score stopped 3 times.' } }),
  logContext: (link) => ({ agsLink: link._id.toString(), district: link.district.toString() }),
  run: deliver,
  // An unexpected error (the database away, no tool key): logged by the lease; tried again after a backoff.
  fail: async (link, lease, err) => {
    const now = new Date();
    await lease.write({ $set: { ...endOfPass(now), due: true, requestedAt: new Date(now.getTime() + retryBackoffMs(link.retries ?? 0)), lastError: { at: now, status: null, message: errorMessage(err, 300) } }, $inc: { retries: 1 } });
  },
});

function endOfPass(now: Date) {
  return { state: 'idle', owner: null, attempts: 0, finishedAt: now };
}

async function stop(lease: Lease, error: string, status: number | null, message: string): Promise<void> {
  const now = new Date();
  await lease.write({ $set: { ...endOfPass(now), state: 'stopped', due: true, error, lastError: { at: now, status, message } } });
  lease.log.warn({ status, error }, 'LMS refused the score; sending stopped until an administrator looks');
}

type FinishedAttempt = { _id: Types.ObjectId; score?: number | null; finishedAt?: Date | null };

async function deliver(link: LtiAgsLinkRecord, lease: Lease): Promise<void> {
  const platform = await LtiPlatform.findOne({ _id: link.platform, district: link.district }).select('clientId tokenUrl').lean();
  if (!platform) return stop(lease, 'registration_removed', null, 'The LMS registration was removed.');
  if (!platform.tokenUrl) return stop(lease, 'no_token_endpoint', null, 'The registration has no token endpoint: enter it to send scores.');

  // Index { user, moduleSlug, startedAt } (attempt.model.ts): a person's attempts at one module.
  const finished = await Attempt.find({ user: link.user, moduleSlug: link.moduleSlug, district: link.district, status: { $in: ['passed', 'failed'] } }, { score: 1, finishedAt: 1 }).lean<FinishedAttempt[]>();
  let best: FinishedAttempt | undefined;
  let newest: Date | null = null;
  for (const attempt of finished) {
    if (attempt.finishedAt && (!newest || attempt.finishedAt > newest)) newest = attempt.finishedAt;
    if (typeof attempt.score !== 'number' || !attempt.finishedAt) continue;
    if (!best || attempt.score > best.score! || (attempt.score === best.score && attempt.finishedAt < best.finishedAt!)) best = attempt;
  }
  const seen = newest ? { $max: { seenFinishedAt: newest } } : {};
  if (!best || (link.sentScore !== null && link.sentScore !== undefined && best.score! <= link.sentScore)) {
    await lease.write({ $set: { ...endOfPass(new Date()), retries: 0 }, ...seen });
    return;
  }

  const score: Score = {
    userId: link.sub,
    scoreGiven: best.score!,
    scoreMaximum: 100,
    activityProgress: 'Completed',
    gradingProgress: 'FullyGraded',
    // When the attempt finished: a resend carries the same timestamp, so the LMS keeps one result.
    timestamp: best.finishedAt!.toISOString(),
  };
  const answer = await sendScore({ id: link.platform.toString(), clientId: platform.clientId, tokenUrl: platform.tokenUrl }, await toolKey(), link.lineitem, score);
  const now = new Date();
  if (answer.kind === 'ok') {
    await lease.write({ $set: { ...endOfPass(now), retries: 0, sentScore: score.scoreGiven, sentAttempt: best._id, sentAt: now, lastError: null }, $inc: { sentCount: 1 }, ...seen });
    return;
  }
  if (answer.kind === 'retry') {
    await lease.write({ $set: { ...endOfPass(now), due: true, requestedAt: new Date(now.getTime() + retryBackoffMs(link.retries ?? 0, answer.retryAfterMs)), lastError: { at: now, status: answer.status, message: answer.message } }, $inc: { retries: 1 } });
    lease.log.warn({ status: answer.status, retries: (link.retries ?? 0) + 1 }, 'LMS unavailable; score sent again later');
    return;
  }
  await stop(lease, 'refused', answer.status, answer.message);
}

// Access tokens per registration, until shortly before they expire (in this process).
const tokens = new Map<string, { token: string; until: number }>();

async function freshToken(reg: Registration & { id: string }, key: ToolKey, cacheKey: string): Promise<{ token: string } | Exclude<AgsAnswer, { kind: 'ok' }>> {
  const answer = await requestToken(reg, key, ltiRuntime().allowPrivateNetwork);
  if (answer.kind !== 'token') return answer;
  if (tokens.size >= MAX_CACHED_TOKENS) tokens.delete(tokens.keys().next().value as string);
  const lifeMs = answer.expiresInS * 1000;
  tokens.set(cacheKey, { token: answer.token, until: Date.now() + (lifeMs > 2 * TOKEN_MARGIN_MS ? lifeMs - TOKEN_MARGIN_MS : lifeMs / 2) });
  return { token: answer.token };
}

/** One score: the cached token, or a new one; a 401 with a cached token (revoked early) gets one new token and one more try. */
async function sendScore(reg: Registration & { id: string }, key: ToolKey, lineitem: string, score: Score): Promise<AgsAnswer> {
  const cacheKey = `${reg.id} ${reg.clientId} ${reg.tokenUrl} ${key.kid}`;
  const cached = tokens.get(cacheKey);
  const allowPrivate = ltiRuntime().allowPrivateNetwork;
  if (cached && cached.until > Date.now()) {
    const answer = await postScore(lineitem, cached.token, score, allowPrivate);
    if (!(answer.kind === 'stop' && answer.status === 401)) return answer;
  }
  tokens.delete(cacheKey);
  const fresh = await freshToken(reg, key, cacheKey);
  if (!('token' in fresh)) return fresh;
  return postScore(lineitem, fresh.token, score, allowPrivate);
}

/**
 * The collector: reads, per district with links, the attempts finished since its cursor (less a margin) and
 * marks the links of each person and module whose newest finish the last pass had not seen. Every process
 * may run it at once: marking is idempotent and the cursor only moves forward. Returns how many were marked.
 */
export async function collectFinishedAttempts(): Promise<number> {
  let marked = 0;
  for (const scan of await LtiAgsScan.find({}).lean()) {
    const from = new Date(scan.cursor.getTime() - CURSOR_MARGIN_MS);
    // Index { district, updatedAt } (attempt.model.ts), the one the xAPI collector reads.
    const cursor = Attempt.collection.find<{ user: Types.ObjectId; moduleSlug: string; finishedAt?: Date; updatedAt: Date }>(
      { district: scan.district, updatedAt: { $gte: from }, status: { $in: ['passed', 'failed'] } },
      { sort: { updatedAt: 1, _id: 1 }, projection: { user: 1, moduleSlug: 1, finishedAt: 1, updatedAt: 1 }, batchSize: 500 },
    );
    const latest = new Map<string, { user: Types.ObjectId; moduleSlug: string; finishedAt: Date }>();
    let newest = scan.cursor;
    try {
      for await (const attempt of cursor) {
        if (attempt.updatedAt > newest) newest = attempt.updatedAt;
        if (!attempt.finishedAt) continue;
        const key = `${attempt.user.toString()} ${attempt.moduleSlug}`;
        const known = latest.get(key);
        if (!known || attempt.finishedAt > known.finishedAt) latest.set(key, { user: attempt.user, moduleSlug: attempt.moduleSlug, finishedAt: attempt.finishedAt });
      }
    } finally {
      await cursor.close();
    }
    if (latest.size > 0) {
      const result = await LtiAgsLink.bulkWrite(
        [...latest.values()].map(({ user, moduleSlug, finishedAt }) => ({
          updateMany: { filter: { district: scan.district, user, moduleSlug, due: false, $or: [{ seenFinishedAt: null }, { seenFinishedAt: { $lt: finishedAt } }] }, update: { $set: { due: true } } },
        })),
        { ordered: false },
      );
      marked += result.modifiedCount;
    }
    if (newest > scan.cursor) await LtiAgsScan.updateOne({ _id: scan._id }, { $max: { cursor: newest } });
  }
  return marked;
}

/** One runner per app process (src/server.ts); none without XAPI_SECRET_KEY (no tool key: nothing could be signed). */
export function startLtiAgsRunner(options: { pollMs?: number } = {}) {
  if (!ltiRuntime().key) {
    LtiAgsLink.exists({})
      .then((any) => any && logger.warn('XAPI_SECRET_KEY is not set: LTI scores are not sent (the tool key cannot be read)'))
      .catch(() => undefined);
    return { stop: async () => undefined };
  }
  let lastCollect = 0;
  return jobs.startRunner({
    pollMs: options.pollMs,
    beforeClaim: async () => {
      if (Date.now() - lastCollect < AGS_COLLECT_MS) return;
      lastCollect = Date.now();
      await collectFinishedAttempts();
    },
  });
}

/** Collects, then runs every due link to the end of its pass, in this process (tests, scripts); how many passes ran. */
export async function runLtiAgsDeliveries(): Promise<number> {
  await collectFinishedAttempts();
  return jobs.runQueued();
}

/** Tests: forget cached access tokens. */
export function forgetAgsTokens(): void {
  tokens.clear();
}

export const claimAgsLink = jobs.claim;
export const wakeAgsRunner = jobs.wake;
