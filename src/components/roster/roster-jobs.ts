/**
 * Roster imports as durable background jobs (docs/roster.md, "Apply"): a first import of 74,000 people
 * takes tens of seconds to write, longer than a proxy waits for one request. Apply checks what can be
 * checked at once (once only, within the preview's hour, the typed number, one import per district),
 * marks the preview "applying" (queued) and answers; a runner in every app process claims the oldest
 * queued import — or one whose process died (its heartbeat lapsed) — with one conditional update, checks
 * that the requester is still an administrator of the district and that nobody changed since the preview,
 * writes the changes a batch at a time (progress and heartbeat with every batch), then, in one
 * transaction, marks it applied and writes the `roster.imported` audit event. The record is the preview
 * itself: the queue entry, the lock (owner + heartbeat: the shared lease, src/shared/lease-jobs.ts) and
 * what the status page shows.
 */
import type { Actor } from '../../shared/actor';
import { defineLeaseJobs, type Lease, type LeaseJobRunner } from '../../shared/lease-jobs';
import { inTransaction } from '../../shared/transactions';
import { enqueueComplianceJob } from '../assignments';
import { recordAudit } from '../audit';
import { forgetSessionActors, loadActor } from '../auth';
import { rowBatches, stillCurrent, writeBatch } from './roster-apply';
import { canApplyAgain, changeTotal, type ImportFailure } from './roster-import.status';
import { RosterPreview, RosterPreviewRow, type RosterPreviewRecord } from './roster.model';
import { SUMMARY_KEEP_MS, getPreview, needsDeactivationConfirm, type Context } from './roster.service';

/** A running import whose heartbeat is older than this belongs to a process that died. */
export const IMPORT_LEASE_MS = 60_000;
/** An import whose process died this many times is failed instead of being taken over again (a crash loop). */
export const MAX_IMPORT_ATTEMPTS = 3;
const DEFAULT_POLL_MS = 5_000;

export type ApplyRefusal = 'already_applied' | 'invalid' | 'expired' | 'stale' | 'busy';
export type ApplyOutcome = { ok: true } | { ok: false; refused: ApplyRefusal; status: number } | { ok: false; errors: Record<string, string> };

/**
 * Apply: queues the import of a preview of the actor's district. `confirm` is the typed number of people
 * to deactivate, needed only above the deactivation threshold. An import already queued or running is
 * answered ok (a second click lands on the same status page); a failed one may be applied again.
 */
export async function requestApply(actor: Actor, id: string, input: { confirm?: string }, ctx: Context = {}, now = new Date()): Promise<ApplyOutcome> {
  const preview = await getPreview(actor, id);
  if (preview.state === 'applying') return { ok: true };
  if (preview.state === 'applied') return { ok: false, refused: 'already_applied', status: 409 };
  if (preview.state === 'invalid') return { ok: false, refused: 'invalid', status: 409 };
  if (preview.state === 'stale') return { ok: false, refused: 'stale', status: 409 };
  const retry = preview.state === 'failed';
  // A failed import may be finished later (its rows are kept a day past the preview's hour); a fresh one only within the hour.
  if (retry ? !canApplyAgain(preview, now) : preview.expiresAt <= now) return { ok: false, refused: 'expired', status: 410 };
  if (!retry && needsDeactivationConfirm(preview) && (input.confirm ?? '').trim() !== String(preview.counts.deactivate)) {
    return { ok: false, errors: { confirm: 'roster.errors.confirmMismatch' } };
  }
  let claimed: RosterPreviewRecord | null;
  try {
    claimed = await RosterPreview.findOneAndUpdate(
      { _id: preview._id, district: actor.districtId, $or: [{ state: 'ready', expiresAt: { $gt: now } }, { state: 'failed' }] },
      {
        $set: {
          state: 'applying',
          requestedBy: actor.userId,
          requestedAt: now,
          requestId: ctx.requestId ?? null,
          owner: null,
          heartbeatAt: null,
          startedAt: null,
          finishedAt: null,
          attempts: 0,
          error: null,
          progress: { done: 0, total: changeTotal(preview), lastSeq: 0 },
        },
      },
      { returnDocument: 'after' },
    ).lean<RosterPreviewRecord>();
  } catch (err) {
    // Another preview of the district is being applied: the unique partial index refuses a second.
    if ((err as { code?: number }).code === 11000) return { ok: false, refused: 'busy', status: 409 };
    throw err;
  }
  if (!claimed) {
    const again = await getPreview(actor, id);
    if (again.state === 'applying') return { ok: true };
    return { ok: false, refused: again.state === 'applied' ? 'already_applied' : 'busy', status: 409 };
  }
  imports.wake();
  return { ok: true };
}

/** The requester, if still an active district administrator of the import's district. */
async function requesterOf(preview: RosterPreviewRecord): Promise<Actor | null> {
  const actor = preview.requestedBy ? await loadActor(String(preview.requestedBy)) : null;
  return actor && actor.role === 'district_admin' && actor.districtId === String(preview.district) ? actor : null;
}

/** Ends the import without applying it; conditional on still owning it, like every write of its record. */
async function endImport(lease: Lease, reason: ImportFailure, state: 'failed' | 'stale' = 'failed'): Promise<void> {
  const at = new Date();
  await lease.write({ $set: { state, error: reason, finishedAt: at, heartbeatAt: at } });
}

/** Checks the requester and that nobody changed since the preview, then writes the changes a batch at a time. */
async function applyImport(preview: RosterPreviewRecord, lease: Lease): Promise<void> {
  const log = lease.log;
  const actor = await requesterOf(preview);
  if (!actor) {
    log.warn('roster import refused: the requester is no longer a district administrator of the district');
    await endImport(lease, 'requester_not_admin');
    return;
  }
  const total = changeTotal(preview);
  const started = Date.now();
  log.info({ attempt: preview.attempts, total }, 'roster import started');
  if (total > 0 && (await RosterPreviewRow.countDocuments({ preview: preview._id })) !== total) {
    await endImport(lease, 'rows_gone');
    return;
  }
  // While the check reads 74,000 people (no progress to write yet) the lease's timer keeps the heartbeat.
  if (!(await stillCurrent(String(preview.district), preview, () => lease.checkpoint()))) {
    await endImport(lease, 'stale', 'stale');
    await RosterPreviewRow.deleteMany({ preview: preview._id });
    log.info('roster import stale: nothing written');
    return;
  }
  // Taken over: the rows up to lastSeq were written (and checked just now); carry on after them.
  let lastSeq = preview.progress?.lastSeq ?? 0;
  let done = lastSeq ? (preview.progress?.done ?? 0) : 0;
  const touched: string[] = [];
  for await (const batch of rowBatches(preview._id, lastSeq)) {
    lease.checkpoint();
    touched.push(...(await writeBatch(actor, preview, batch)));
    done += batch.length;
    lastSeq = batch[batch.length - 1].seq;
    await lease.writeOrStop({ $set: { 'progress.done': done, 'progress.lastSeq': lastSeq, heartbeatAt: new Date() } });
  }
  // Sessions of people changed here end or change at their next request on this instance (seconds elsewhere).
  forgetSessionActors(touched);
  // Assignments and due dates follow people: the district's compliance is recomputed in the background.
  const { jobId } = await enqueueComplianceJob({ districtId: String(preview.district), kind: 'rebuild', requestedBy: actor.userId });
  const finished = await finish(actor, preview, lease.mine, done, jobId);
  if (!finished) {
    log.warn('roster import finished by another runner');
    return;
  }
  // The rows held names and emails only for the import; the counts stay for the recent-imports list.
  await RosterPreviewRow.deleteMany({ preview: preview._id });
  log.info({ ms: Date.now() - started, done }, 'roster import applied');
}

/** Marks the import applied and writes its one audit event together; false if another runner owns it now. */
async function finish(actor: Actor, preview: RosterPreviewRecord, mine: Record<string, unknown>, done: number, jobId: string): Promise<boolean> {
  const counts = preview.counts;
  return inTransaction(async (session) => {
    const at = new Date();
    const { matchedCount } = await RosterPreview.updateOne(
      mine,
      { $set: { state: 'applied', appliedAt: at, appliedBy: actor.userId, finishedAt: at, heartbeatAt: at, jobId, 'progress.done': done, purgeAt: new Date(at.getTime() + SUMMARY_KEEP_MS) } },
      { session },
    );
    if (matchedCount === 0) return false;
    await recordAudit(
      actor,
      {
        action: 'roster.imported',
        target: { kind: 'roster_import', id: preview._id.toString() },
        details: {
          fileName: preview.fileName,
          format: preview.format ?? 'csv',
          completeRoster: preview.completeRoster,
          rows: counts.rows,
          created: counts.create,
          updated: counts.update,
          unchanged: counts.unchanged,
          reactivated: counts.reactivate,
          deactivated: counts.deactivate,
          roleChanges: preview.changedFields?.role ?? 0,
          jobId,
          attempts: preview.attempts,
        },
        requestId: preview.requestId ?? undefined,
      },
      session,
    );
    return true;
  });
}

/**
 * The lease (src/shared/lease-jobs.ts). The record is the preview itself: "applying" with no owner is queued
 * (or handed back at shutdown); with an owner whose heartbeat lapsed, its process died and it is taken over.
 */
const imports = defineLeaseJobs<RosterPreviewRecord>({
  name: 'roster import',
  model: RosterPreview,
  runningState: 'applying',
  leaseMs: IMPORT_LEASE_MS,
  maxAttempts: MAX_IMPORT_ATTEMPTS,
  pollMs: DEFAULT_POLL_MS,
  queued: () => ({ state: 'applying', owner: null }),
  onCrashLoop: () => ({ error: 'stopped_repeatedly' satisfies ImportFailure }),
  logContext: (preview) => ({ rosterImport: String(preview._id), district: String(preview.district) }),
  run: applyImport,
  fail: (_preview, lease) => endImport(lease, 'error'),
});

/** Claims the oldest queued import, or a running one whose process stopped heartbeating. */
export const claimRosterImport = imports.claim;

/** Runs a claimed import to applied, failed or stale; every write of its record is conditional on still owning it. */
export const runRosterImport = imports.run;

/** Runs queued imports (and takes over lapsed ones) in this process until none is left; resolves with how many ran. For tests and scripts. */
export const runQueuedRosterImports = imports.runQueued;

export type RosterImportRunner = LeaseJobRunner;

/**
 * Polls for imports every `pollMs` (and at once when this process queues one) and runs them one at a time.
 * stop() lets the current batch finish, hands the import back and resolves when the runner is idle.
 */
export function startRosterImportRunner(options: { pollMs?: number; leaseMs?: number } = {}): RosterImportRunner {
  return imports.startRunner(options);
}
