/**
 * Compliance work as durable background jobs (docs/compliance.md, "Background jobs"):
 *   - enqueueComplianceJob: the request that changes an assignment (or asks for a rebuild) writes a job and
 *     returns; a job still queued for the same target is reused, so double clicks and quick edits coalesce.
 *   - a runner in every app process claims the oldest queued job — or a running one whose heartbeat is older
 *     than the lease (its process died) — with one findOneAndUpdate, runs the sync with progress, and
 *     heartbeats with every batch of people. At most one job runs per district (a unique partial index).
 *   - runQueuedComplianceJobs: the same work in-process until nothing is left to claim (tests, scripts).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Types } from 'mongoose';
import { logger } from '../../shared/logger';
import { startPollingRunner } from '../../shared/polling-runner';
import { ComplianceJob, type ComplianceJobKind, type ComplianceJobRecord } from './compliance-job.model';
import { rebuildDistrictCompliance, syncAssignment } from './compliance.sync';

/** A running job whose heartbeat is older than this belongs to a process that died. */
export const JOB_LEASE_MS = 60_000;
/** A job whose process died this many times is failed instead of being taken over again (a crash loop). */
export const MAX_JOB_ATTEMPTS = 3;
const DEFAULT_POLL_MS = 5_000;
const MAX_ERROR_LENGTH = 500;

type RunOptions = { leaseMs: number; isStopping: () => boolean };

/** The runner's job was taken over by another process (its heartbeat lapsed): stop without writing. */
class LeaseLost extends Error {}
/** The runner is stopping: the batch in hand is written, the job is handed back. */
class Interrupted extends Error {}

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number } | null)?.code === 11000;
}

function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

const wakers = new Set<() => void>();

/** Wakes the runners of this process so a job just enqueued starts now rather than at the next poll. */
function pokeRunners(): void {
  for (const wake of wakers) wake();
}

export type EnqueueInput = {
  districtId: string | Types.ObjectId;
  kind: ComplianceJobKind;
  assignmentId?: string | Types.ObjectId;
  moduleSlug?: string;
  requestedBy?: string | Types.ObjectId;
};

/**
 * Queues compliance work, reusing the job already queued (not yet running) for the same assignment or
 * the same district rebuild: it has not read the assignment yet, so it will see this change too. A job
 * that is already running may have read it, so a new one is queued behind it.
 */
export async function enqueueComplianceJob(input: EnqueueInput): Promise<{ jobId: string; coalesced: boolean }> {
  const key = {
    district: new Types.ObjectId(String(input.districtId)),
    kind: input.kind,
    assignment: input.assignmentId ? new Types.ObjectId(String(input.assignmentId)) : null,
    state: 'queued' as const,
  };
  for (let tries = 0; ; tries++) {
    try {
      const result = await ComplianceJob.findOneAndUpdate(
        key,
        {
          $setOnInsert: {
            moduleSlug: input.moduleSlug ?? null,
            requestedBy: input.requestedBy ? new Types.ObjectId(String(input.requestedBy)) : null,
            requestedAt: new Date(),
          },
        },
        { upsert: true, returnDocument: 'after', lean: true, includeResultMetadata: true },
      );
      pokeRunners();
      return { jobId: String(result.value!._id), coalesced: result.lastErrorObject?.updatedExisting === true };
    } catch (err) {
      // Two enqueues inserted at once: the unique "one queued job per target" index let one in; reuse it.
      if (!isDuplicateKey(err) || tries >= 2) throw err;
    }
  }
}

/**
 * Claims the oldest claimable job atomically: a queued one in a district with no running job, or a
 * running one whose heartbeat lapsed (taken over: the sync is idempotent, so it simply runs again).
 */
export async function claimComplianceJob(owner: string, leaseMs = JOB_LEASE_MS, now = new Date()): Promise<ComplianceJobRecord | null> {
  const staleBefore = new Date(now.getTime() - leaseMs);
  const crashLooping = { state: 'running' as const, heartbeatAt: { $lt: staleBefore }, attempts: { $gte: MAX_JOB_ATTEMPTS } };
  const given = await ComplianceJob.updateMany(crashLooping, {
    $set: { state: 'failed', finishedAt: now, owner: null, error: `The process running this update stopped ${MAX_JOB_ATTEMPTS} times.` },
  });
  if (given.modifiedCount) logger.error({ jobs: given.modifiedCount }, 'compliance jobs failed after repeated process deaths');
  for (let tries = 0; tries < 5; tries++) {
    // A district with a running job (live or not) takes no second one: the unique index would refuse it.
    const busy = await ComplianceJob.distinct('district', { state: 'running' });
    try {
      return (await ComplianceJob.findOneAndUpdate(
        {
          $or: [
            { state: 'queued', district: { $nin: busy } },
            { state: 'running', heartbeatAt: { $lt: staleBefore }, attempts: { $lt: MAX_JOB_ATTEMPTS } },
          ],
        },
        { $set: { state: 'running', owner, startedAt: now, heartbeatAt: now, 'progress.done': 0, error: null }, $inc: { attempts: 1 } },
        { sort: { requestedAt: 1 }, returnDocument: 'after', lean: true },
      )) as ComplianceJobRecord | null;
    } catch (err) {
      // Another process started a job in that district between our read and our claim: look again.
      if (!isDuplicateKey(err)) throw err;
    }
  }
  return null;
}

function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message || 'Unknown error').slice(0, MAX_ERROR_LENGTH);
}

/** Keeps one finished job per target (the latest): the pages show it, the logs and audit keep the history. */
async function pruneFinished(job: ComplianceJobRecord, finishedAt: Date): Promise<void> {
  await ComplianceJob.deleteMany({ district: job.district, assignment: job.assignment, kind: job.kind, state: { $in: ['done', 'failed'] }, finishedAt: { $lt: finishedAt } });
}

/** Runs a claimed job to done or failed; every write is conditional on still owning it. */
async function runJob(job: ComplianceJobRecord, owner: string, options: RunOptions): Promise<void> {
  const mine = { _id: job._id, owner, state: 'running' as const };
  const log = logger.child({ jobId: String(job._id), kind: job.kind, district: String(job.district), assignment: job.assignment ? String(job.assignment) : undefined });
  let lost = false;
  let total = job.progress?.total ?? 0;
  const beat = async () => {
    const { matchedCount } = await ComplianceJob.updateOne(mine, { $set: { heartbeatAt: new Date() } });
    if (matchedCount === 0) lost = true;
  };
  // Between batches (the summaries of a large assignment take a few seconds) the heartbeat keeps the lease.
  const timer = setInterval(() => beat().catch((err) => log.warn({ err }, 'compliance job heartbeat failed')), Math.max(1_000, Math.floor(options.leaseMs / 4)));
  timer.unref();
  const onProgress = async (done: number, of: number) => {
    total = of;
    const { matchedCount } = await ComplianceJob.updateOne(mine, { $set: { 'progress.done': done, 'progress.total': of, heartbeatAt: new Date() } });
    if (matchedCount === 0 || lost) throw new LeaseLost();
    if (options.isStopping()) throw new Interrupted();
  };
  const started = Date.now();
  log.info({ attempt: job.attempts }, 'compliance job started');
  try {
    if (job.kind === 'assignment') await syncAssignment(job.assignment!, onProgress);
    else await rebuildDistrictCompliance(job.district, onProgress);
    const finishedAt = new Date();
    const { matchedCount } = await ComplianceJob.updateOne(mine, { $set: { state: 'done', finishedAt, heartbeatAt: finishedAt, progress: { done: total, total } } });
    if (matchedCount === 0) log.warn('compliance job finished after another process took it over; that process runs it again');
    else {
      log.info({ ms: Date.now() - started, people: total }, 'compliance job done');
      await pruneFinished(job, finishedAt);
    }
  } catch (err) {
    if (err instanceof Interrupted) {
      // Handed back as a lapsed lease: the next runner takes it over at once (attempts not counted).
      await ComplianceJob.updateOne(mine, { $set: { owner: null, heartbeatAt: new Date(0) }, $inc: { attempts: -1 } });
      log.info('compliance job interrupted by shutdown; left for the next runner');
      return;
    }
    if (err instanceof LeaseLost) {
      log.warn('compliance job lost its lease to another process; stopped');
      return;
    }
    const finishedAt = new Date();
    log.error({ err, ms: Date.now() - started }, 'compliance job failed');
    const { matchedCount } = await ComplianceJob.updateOne(mine, { $set: { state: 'failed', finishedAt, heartbeatAt: finishedAt, error: messageOf(err) } });
    if (matchedCount === 1) await pruneFinished(job, finishedAt);
  } finally {
    clearInterval(timer);
  }
}

/** Claims and runs one job; false when there was nothing to claim. */
async function runNextJob(owner: string, options: RunOptions): Promise<boolean> {
  if (options.isStopping()) return false;
  const job = await claimComplianceJob(owner, options.leaseMs);
  if (!job) return false;
  await runJob(job, owner, options);
  return true;
}

/**
 * Runs queued jobs (and takes over lapsed ones) in this process until none is left to claim; resolves
 * with how many ran. For tests and scripts: a job of a district where another process is running one
 * waits for that process.
 */
export async function runQueuedComplianceJobs(options: { leaseMs?: number } = {}): Promise<number> {
  const owner = newOwnerId();
  const run: RunOptions = { leaseMs: options.leaseMs ?? JOB_LEASE_MS, isStopping: () => false };
  let count = 0;
  while (await runNextJob(owner, run)) count++;
  return count;
}

export type ComplianceJobRunner = { stop(): Promise<void> };

/**
 * Polls for jobs every `pollMs` (and at once when this process enqueues one) and runs them one at a
 * time. stop() lets the current batch of people finish, hands the job back (re-claimable at once by
 * another process or the next start) and resolves when the runner is idle.
 */
export function startComplianceJobRunner(options: { pollMs?: number; leaseMs?: number } = {}): ComplianceJobRunner {
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const owner = newOwnerId();
  const leaseMs = options.leaseMs ?? JOB_LEASE_MS;
  logger.info({ owner, pollMs }, 'compliance job runner started');
  const runner = startPollingRunner('compliance jobs', pollMs, (isStopping) => runNextJob(owner, { leaseMs, isStopping }));
  wakers.add(runner.wake);
  return {
    async stop() {
      wakers.delete(runner.wake);
      await runner.stop();
      logger.info({ owner }, 'compliance job runner stopped');
    },
  };
}
