/**
 * Compliance work as durable background jobs (docs/compliance.md, "Background jobs"):
 *   - enqueueComplianceJob: the request that changes an assignment (or asks for a rebuild) writes a job and
 *     returns; a job still queued for the same target is reused, so double clicks and quick edits coalesce.
 *   - a runner in every app process claims the oldest queued job — or a running one whose heartbeat is older
 *     than the lease (its process died) — with one findOneAndUpdate, runs the sync with progress, and
 *     heartbeats with every batch of people. At most one job runs per district (a unique partial index).
 *     The claim, heartbeat, conditional writes and hand-back are the shared lease (src/shared/lease-jobs.ts).
 *   - runQueuedComplianceJobs: the same work in-process until nothing is left to claim (tests, scripts).
 */
import { Types } from 'mongoose';
import { defineLeaseJobs, errorMessage, isDuplicateKey, type Lease, type LeaseJobRunner } from '../../shared/lease-jobs';
import { ComplianceJob, type ComplianceJobKind, type ComplianceJobRecord } from './compliance-job.model';
import { rebuildDistrictCompliance, syncAssignment } from './compliance.sync';

/** A running job whose heartbeat is older than this belongs to a process that died. */
export const JOB_LEASE_MS = 60_000;
/** A job whose process died this many times is failed instead of being taken over again (a crash loop). */
export const MAX_JOB_ATTEMPTS = 3;
const DEFAULT_POLL_MS = 5_000;

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
      jobs.wake();
      return { jobId: String(result.value!._id), coalesced: result.lastErrorObject?.updatedExisting === true };
    } catch (err) {
      // Two enqueues inserted at once: the unique "one queued job per target" index let one in; reuse it.
      if (!isDuplicateKey(err) || tries >= 2) throw err;
    }
  }
}

/** Keeps one finished job per target (the latest): the pages show it, the logs and audit keep the history. */
async function pruneFinished(job: ComplianceJobRecord, finishedAt: Date): Promise<void> {
  await ComplianceJob.deleteMany({ district: job.district, assignment: job.assignment, kind: job.kind, state: { $in: ['done', 'failed'] }, finishedAt: { $lt: finishedAt } });
}

/** The sync of one claimed job, with progress and a heartbeat at every batch of people. */
async function runJob(job: ComplianceJobRecord, lease: Lease): Promise<void> {
  let total = job.progress?.total ?? 0;
  const onProgress = async (done: number, of: number) => {
    total = of;
    await lease.writeOrStop({ $set: { 'progress.done': done, 'progress.total': of, heartbeatAt: new Date() } });
    lease.checkpoint();
  };
  const started = Date.now();
  lease.log.info({ attempt: job.attempts }, 'compliance job started');
  if (job.kind === 'assignment') await syncAssignment(job.assignment!, onProgress);
  else await rebuildDistrictCompliance(job.district, onProgress);
  const finishedAt = new Date();
  if (!(await lease.write({ $set: { state: 'done', finishedAt, heartbeatAt: finishedAt, progress: { done: total, total } } }))) {
    lease.log.warn('compliance job finished after another process took it over; that process runs it again');
    return;
  }
  lease.log.info({ ms: Date.now() - started, people: total }, 'compliance job done');
  await pruneFinished(job, finishedAt);
}

/**
 * The lease (src/shared/lease-jobs.ts). Claims the oldest claimable job: a queued one in a district with no
 * running job, or a running one whose heartbeat lapsed (taken over: the sync is idempotent, so it simply
 * runs again).
 */
const jobs = defineLeaseJobs<ComplianceJobRecord>({
  name: 'compliance job',
  model: ComplianceJob,
  runningState: 'running',
  leaseMs: JOB_LEASE_MS,
  maxAttempts: MAX_JOB_ATTEMPTS,
  pollMs: DEFAULT_POLL_MS,
  // A district with a running job (live or not) takes no second one: the unique index would refuse it.
  queued: async () => ({ state: 'queued', district: { $nin: await ComplianceJob.distinct('district', { state: 'running' }) } }),
  onClaim: { 'progress.done': 0, error: null },
  onCrashLoop: () => ({ error: `The process running this update stopped ${MAX_JOB_ATTEMPTS} times.` }),
  logContext: (job) => ({ jobId: String(job._id), kind: job.kind, district: String(job.district), assignment: job.assignment ? String(job.assignment) : undefined }),
  run: runJob,
  async fail(job, lease, err) {
    const finishedAt = new Date();
    if (await lease.write({ $set: { state: 'failed', finishedAt, heartbeatAt: finishedAt, error: errorMessage(err) } })) await pruneFinished(job, finishedAt);
  },
});

export const claimComplianceJob = jobs.claim;

/**
 * Runs queued jobs (and takes over lapsed ones) in this process until none is left to claim; resolves
 * with how many ran. For tests and scripts: a job of a district where another process is running one
 * waits for that process.
 */
export const runQueuedComplianceJobs = jobs.runQueued;

export type ComplianceJobRunner = LeaseJobRunner;

/**
 * Polls for jobs every `pollMs` (and at once when this process enqueues one) and runs them one at a
 * time. stop() lets the current batch of people finish, hands the job back (re-claimable at once by
 * another process or the next start) and resolves when the runner is idle.
 */
export function startComplianceJobRunner(options: { pollMs?: number; leaseMs?: number } = {}): ComplianceJobRunner {
  return jobs.startRunner(options);
}
