/**
 * The lease behind the durable background jobs — compliance updates, background exports, roster imports
 * (docs/lease-jobs.md). The job's record is its own queue entry, lock and status:
 *   - claim: one findOneAndUpdate takes the oldest claimable record — queued, or held by a runner whose
 *     heartbeat is older than the lease (its process died) — and sets owner, startedAt, heartbeatAt and
 *     attempts + 1. A record whose process died `maxAttempts` times is failed instead (a crash loop).
 *   - run: the job's body runs with a heartbeat timer (every lease/4); every later write is conditional on
 *     {_id, owner, state: runningState}, so a runner that lost its lease writes nothing more.
 *   - hand-back: when the runner stops, the body's next checkpoint throws; the record gets owner null and a
 *     lapsed heartbeat (the attempt not counted), so the next runner takes it at once.
 * Each kind of job supplies only what differs: its model, what "queued" means, what it sets on a claim and
 * on a crash loop, its body, and how it records a failure.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Model, Types } from 'mongoose';
import { logger } from './logger';
import { startPollingRunner } from './polling-runner';

type Fields = Record<string, unknown>;
type Logger = typeof logger;

/** What every leased record has (besides owner, heartbeatAt, startedAt, finishedAt, error and requestedAt). */
export type LeaseRecord = { _id: Types.ObjectId; attempts: number; fence?: number | null };

/** The claimed job as its body sees it. */
export type Lease = {
  /** The filter of every write of the job's record: this record, still ours, still running. */
  mine: Fields;
  /**
   * The fencing token of this claim: larger than that of every earlier claim of the record. For writes outside
   * the record that `mine` cannot guard (no transaction): they store it, and a newer holder's larger one wins.
   */
  fence: number;
  log: Logger;
  /** A write conditional on still holding the job; false when another runner took it over (or it ended). */
  write(update: Fields): Promise<boolean>;
  /** The same, but a record no longer ours stops the job quietly (for progress written between batches). */
  writeOrStop(update: Fields): Promise<void>;
  /** Between batches: stops the job if a heartbeat found it taken over, or hands it back if the runner is stopping. */
  checkpoint(): void;
  /** Stops the job quietly as taken over: for a conditional write of its own (in a transaction, on `mine`) that matched nothing. */
  lost(): never;
  /** Writes the heartbeat now (the timer writes it every lease/4 anyway). */
  beat(): Promise<void>;
  /** Fields written with every heartbeat besides heartbeatAt (a count that moves faster than progress is written). */
  heartbeatWith(fields: () => Fields): void;
};

export type LeaseJobSpec<T extends LeaseRecord> = {
  /** For logs, singular: 'compliance job'. */
  name: string;
  // The three models' document types differ; the calls below use only the fields named in this file.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  model: Model<any>;
  /** The state of a claimed record ('running'; a roster import stays 'applying'). */
  runningState: string;
  leaseMs: number;
  /** A record claimed this many times whose heartbeat lapsed again is failed instead of taken over. */
  maxAttempts: number;
  pollMs: number;
  /** Records claimable without a lease, read at every claim (compliance leaves out districts with a running job). */
  queued(): Fields | Promise<Fields>;
  /** Set on a claim besides state, owner, startedAt and heartbeatAt (progress reset, error cleared). */
  onClaim?: Fields;
  /** Set besides state 'failed', finishedAt and owner null on a record whose process died maxAttempts times. */
  onCrashLoop(now: Date): Fields;
  logContext(job: T): Fields;
  /** The work: calls lease.checkpoint() between batches and writes its outcome with lease.write. */
  run(job: T, lease: Lease): Promise<void>;
  /** Records the failure of a body that threw (already logged); with lease.write, so a lost job is left alone. */
  fail(job: T, lease: Lease, err: unknown): Promise<void>;
};

export type RunOptions = { leaseMs: number; isStopping: () => boolean };
export type LeaseJobRunner = { stop(): Promise<void> };

export type LeaseJobs<T extends LeaseRecord> = {
  /** Claims the oldest claimable record for `owner`, or null. */
  claim(owner: string, leaseMs?: number, now?: Date): Promise<T | null>;
  /** Runs a claimed record to its end, to a hand-back, or until it is found taken over. */
  run(job: T, owner: string, options: RunOptions): Promise<void>;
  /** Claims and runs in this process until nothing is left to claim; resolves with how many ran (tests, scripts). */
  runQueued(options?: { leaseMs?: number }): Promise<number>;
  /**
   * Polls every pollMs (and at once on wake()) and runs one job at a time; `beforeClaim` runs first in every
   * poll (house-keeping). stop() lets the current batch finish, hands the job back and resolves when idle.
   */
  startRunner(options?: { pollMs?: number; leaseMs?: number; beforeClaim?: () => Promise<void> }): LeaseJobRunner;
  /** Wakes this process's runners: a job just queued starts now rather than at the next poll. */
  wake(): void;
};

/** The runner's job was taken over by another process (its heartbeat lapsed): stop without writing. */
class LeaseLost extends Error {}
/** The runner is stopping: the batch in hand is written, the job is handed back. */
class Interrupted extends Error {}

export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number } | null)?.code === 11000;
}

/** An error as shown to the person who asked (the message only, never a stack). */
export function errorMessage(err: unknown, max = 500): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message || 'Unknown error').slice(0, max);
}

export function defineLeaseJobs<T extends LeaseRecord>(spec: LeaseJobSpec<T>): LeaseJobs<T> {
  const { model, name } = spec;
  const wakers = new Set<() => void>();

  async function claim(owner: string, leaseMs = spec.leaseMs, now = new Date()): Promise<T | null> {
    const lapsed = { state: spec.runningState, heartbeatAt: { $lt: new Date(now.getTime() - leaseMs) } };
    const died = await model.updateMany({ ...lapsed, attempts: { $gte: spec.maxAttempts } }, { $set: { state: 'failed', finishedAt: now, owner: null, ...spec.onCrashLoop(now) } });
    if (died.modifiedCount) logger.error({ jobs: died.modifiedCount, runner: name }, `${name}s failed after repeated process deaths`);
    for (let tries = 0; tries < 5; tries++) {
      try {
        return (await model.findOneAndUpdate(
          { $or: [await spec.queued(), { ...lapsed, attempts: { $lt: spec.maxAttempts } }] },
          { $set: { state: spec.runningState, owner, startedAt: now, heartbeatAt: now, ...spec.onClaim }, $inc: { attempts: 1, fence: 1 } },
          { sort: { requestedAt: 1 }, returnDocument: 'after', lean: true },
        )) as T | null;
      } catch (err) {
        // A unique index refused the claim (compliance: another process started a job in that district
        // between the read of queued() and this claim): look again.
        if (!isDuplicateKey(err)) throw err;
      }
    }
    return null;
  }

  async function run(job: T, owner: string, options: RunOptions): Promise<void> {
    const mine = { _id: job._id, owner, state: spec.runningState };
    const log = logger.child(spec.logContext(job));
    let lost = false;
    let alsoOnBeat: () => Fields = () => ({});
    const lease: Lease = {
      mine,
      fence: job.fence ?? 0,
      log,
      async write(update) {
        const { matchedCount } = await model.updateOne(mine, update);
        return matchedCount > 0;
      },
      async writeOrStop(update) {
        if (!(await lease.write(update))) throw new LeaseLost();
      },
      lost() {
        throw new LeaseLost();
      },
      checkpoint() {
        if (lost) throw new LeaseLost();
        if (options.isStopping()) throw new Interrupted();
      },
      async beat() {
        if (!(await lease.write({ $set: { heartbeatAt: new Date(), ...alsoOnBeat() } }))) lost = true;
      },
      heartbeatWith(fields) {
        alsoOnBeat = fields;
      },
    };
    // Between batches (a slow phase, a slow database) the timer keeps the lease.
    const timer = setInterval(() => lease.beat().catch((err) => log.warn({ err }, `${name} heartbeat failed`)), Math.max(1_000, Math.floor(options.leaseMs / 4)));
    timer.unref();
    const started = Date.now();
    try {
      await spec.run(job, lease);
    } catch (err) {
      if (err instanceof Interrupted) {
        // Handed back as a lapsed lease: the next runner takes it over at once (the attempt not counted).
        await model.updateOne(mine, { $set: { owner: null, heartbeatAt: new Date(0) }, $inc: { attempts: -1 } });
        log.info(`${name} interrupted by shutdown; left for the next runner`);
        return;
      }
      if (err instanceof LeaseLost) {
        log.warn(`${name} lost its lease to another process; stopped`);
        return;
      }
      log.error({ err, ms: Date.now() - started }, `${name} failed`);
      await spec.fail(job, lease, err);
    } finally {
      clearInterval(timer);
    }
  }

  /** Claims and runs one job; false when there was nothing to claim. */
  async function runNext(owner: string, options: RunOptions): Promise<boolean> {
    if (options.isStopping()) return false;
    const job = await claim(owner, options.leaseMs);
    if (!job) return false;
    await run(job, owner, options);
    return true;
  }

  async function runQueued(options: { leaseMs?: number } = {}): Promise<number> {
    const owner = newOwnerId();
    const runOptions: RunOptions = { leaseMs: options.leaseMs ?? spec.leaseMs, isStopping: () => false };
    let count = 0;
    while (await runNext(owner, runOptions)) count++;
    return count;
  }

  function startRunner(options: { pollMs?: number; leaseMs?: number; beforeClaim?: () => Promise<void> } = {}): LeaseJobRunner {
    const owner = newOwnerId();
    const pollMs = options.pollMs ?? spec.pollMs;
    const leaseMs = options.leaseMs ?? spec.leaseMs;
    logger.info({ owner, pollMs }, `${name} runner started`);
    const runner = startPollingRunner(`${name}s`, pollMs, async (isStopping) => {
      await options.beforeClaim?.();
      return runNext(owner, { leaseMs, isStopping });
    });
    wakers.add(runner.wake);
    return {
      async stop() {
        wakers.delete(runner.wake);
        await runner.stop();
        logger.info({ owner }, `${name} runner stopped`);
      },
    };
  }

  return {
    claim,
    run,
    runQueued,
    startRunner,
    wake() {
      for (const wake of wakers) wake();
    },
  };
}
