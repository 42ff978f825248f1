import { Schema, model, type Types } from 'mongoose';
import { leaseFields, type LeaseFields } from '../../../src/shared/lease-fields';
import { defineLeaseJobs, errorMessage, type Lease } from '../../../src/shared/lease-jobs';
import { clearDatabase, startTestApp, type TestApp } from '../../helpers/app';

/** A job record of the smallest shape the lease needs, plus what the test bodies write. */
const testJobSchema = new Schema(
  {
    name: { type: String, required: true },
    state: { type: String, enum: ['queued', 'running', 'done', 'failed'], required: true, default: 'queued' },
    requestedAt: { type: Date, required: true },
    ...leaseFields,
    done: { type: Number, default: 0 },
    error: { type: String, default: null },
  },
  { versionKey: false },
);
testJobSchema.index({ state: 1, requestedAt: 1 });
const LeaseTestJob = model('LeaseTestJob', testJobSchema, 'leasetestjobs');

type TestJobRecord = LeaseFields & {
  _id: Types.ObjectId;
  name: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  requestedAt: Date;
  done: number;
  error: string | null;
};

const LEASE_MS = 60_000;
const MAX_ATTEMPTS = 3;

/** What each run of a job did: the body the test gives, then the runs seen (by job name and owner). */
let body: (job: TestJobRecord, lease: Lease) => Promise<void>;
let runs: { name: string; owner: unknown }[];

const finishDone = async (job: TestJobRecord, lease: Lease) => {
  runs.push({ name: job.name, owner: lease.mine.owner });
  const at = new Date();
  await lease.write({ $set: { state: 'done', finishedAt: at, heartbeatAt: at } });
};

const jobs = defineLeaseJobs<TestJobRecord>({
  name: 'test job',
  model: LeaseTestJob,
  runningState: 'running',
  leaseMs: LEASE_MS,
  maxAttempts: MAX_ATTEMPTS,
  pollMs: 600_000,
  queued: () => ({ state: 'queued' }),
  onClaim: { error: null },
  onCrashLoop: () => ({ error: 'died too often' }),
  logContext: (job) => ({ testJob: job.name }),
  run: (job, lease) => body(job, lease),
  async fail(_job, lease, err) {
    const at = new Date();
    await lease.write({ $set: { state: 'failed', finishedAt: at, heartbeatAt: at, error: errorMessage(err) } });
  },
});

const queue = (name: string, requestedAt = new Date()) => LeaseTestJob.create({ name, requestedAt });
const stored = async (name: string) => (await LeaseTestJob.findOne({ name }).lean()) as TestJobRecord;
const lapse = (name: string) => LeaseTestJob.updateOne({ name }, { $set: { heartbeatAt: new Date(Date.now() - 2 * LEASE_MS) } });
const notStopping = { leaseMs: LEASE_MS, isStopping: () => false };

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

beforeEach(async () => {
  await clearDatabase();
  body = finishDone;
  runs = [];
});

describe('claiming', () => {
  test('when eight runners claim one queued job at once, then exactly one gets it and the record names that one as owner with one attempt', async () => {
    await queue('only');
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => jobs.claim(`runner-${i}`)));
    const winners = claims.map((job, i) => (job ? `runner-${i}` : null)).filter(Boolean);
    expect(winners).toHaveLength(1);
    expect(await stored('only')).toMatchObject({ state: 'running', owner: winners[0], attempts: 1 });
    expect((await stored('only')).heartbeatAt).toBeInstanceOf(Date);
  });

  test('when several processes run the queue at once, then every job runs exactly once, and one process alone takes them oldest first', async () => {
    const base = Date.now() - 60_000;
    for (let i = 0; i < 12; i++) await queue(`job-${String(i).padStart(2, '0')}`, new Date(base + i * 1_000));
    const counts = await Promise.all([jobs.runQueued(), jobs.runQueued(), jobs.runQueued(), jobs.runQueued()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(12);
    expect(runs.map((r) => r.name).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `job-${String(i).padStart(2, '0')}`));
    expect(await LeaseTestJob.countDocuments({ state: 'done', attempts: 1 })).toBe(12);

    await clearDatabase();
    runs = [];
    await queue('second', new Date(base + 2_000));
    await queue('first', new Date(base));
    await queue('third', new Date(base + 4_000));
    expect(await jobs.runQueued()).toBe(3);
    expect(runs.map((r) => r.name)).toEqual(['first', 'second', 'third']);
  });

  test(`when a job's process died ${MAX_ATTEMPTS} times, then the next claim fails it with the job's own fields instead of taking it over`, async () => {
    await LeaseTestJob.create({ name: 'crashing', requestedAt: new Date(), state: 'running', owner: 'dead:1:aaaa', heartbeatAt: new Date(Date.now() - 2 * LEASE_MS), attempts: MAX_ATTEMPTS });
    expect(await jobs.runQueued()).toBe(0);
    expect(runs).toEqual([]);
    const after = await stored('crashing');
    expect(after).toMatchObject({ state: 'failed', owner: null, error: 'died too often', attempts: MAX_ATTEMPTS });
    expect(after.finishedAt).toBeInstanceOf(Date);
  });
});

describe('leases and takeovers', () => {
  test('when the lease holds, then nobody else claims the job; once it lapses another runner takes it over and the old owner can no longer write', async () => {
    await queue('taken-over');
    const old = (await jobs.claim('old-owner'))!;
    expect(await jobs.claim('new-owner')).toBeNull();
    await lapse('taken-over');
    const taken = (await jobs.claim('new-owner'))!;
    expect(String(taken._id)).toBe(String(old._id));
    expect(await stored('taken-over')).toMatchObject({ state: 'running', owner: 'new-owner', attempts: 2 });

    // The old owner carries on: a plain write is refused, a progress write stops it quietly.
    const seen: boolean[] = [];
    let afterProgress = false;
    body = async (_job, lease) => {
      seen.push(await lease.write({ $set: { done: 1 } }));
      await lease.writeOrStop({ $set: { done: 2 } });
      afterProgress = true;
    };
    await jobs.run(old, 'old-owner', notStopping);
    expect(seen).toEqual([false]);
    expect(afterProgress).toBe(false);
    expect(await stored('taken-over')).toMatchObject({ state: 'running', owner: 'new-owner', attempts: 2, done: 0, error: null });

    // Even its failure is not recorded: the record is the new owner's.
    body = async () => {
      throw new Error('old owner broke');
    };
    await jobs.run(old, 'old-owner', notStopping);
    expect(await stored('taken-over')).toMatchObject({ state: 'running', owner: 'new-owner', error: null });

    // The new owner finishes it.
    body = finishDone;
    await jobs.run(taken, 'new-owner', notStopping);
    expect(await stored('taken-over')).toMatchObject({ state: 'done', owner: 'new-owner', attempts: 2 });
  });

  test('when a job is claimed, taken over and handed back, then every claim carries a larger fencing token than the one before, and the lease exposes it', async () => {
    await queue('fenced');
    const first = (await jobs.claim('first-owner'))!;
    expect(first.fence).toBe(1);
    await lapse('fenced');
    const second = (await jobs.claim('second-owner'))!;
    expect(second.fence).toBe(2);
    expect(await stored('fenced')).toMatchObject({ owner: 'second-owner', fence: 2 });

    // The stale owner still sees its own (smaller) token; the runner stopping hands the job back, and the next claim's token is larger again.
    const tokens: number[] = [];
    body = async (_job, lease) => {
      tokens.push(lease.fence);
    };
    await jobs.run(first, 'first-owner', notStopping);
    body = async (_job, lease) => {
      tokens.push(lease.fence);
      lease.checkpoint();
    };
    await jobs.run(second, 'second-owner', { leaseMs: LEASE_MS, isStopping: () => true });
    expect(await stored('fenced')).toMatchObject({ owner: null, fence: 2 });
    const third = (await jobs.claim('third-owner'))!;
    expect(third.fence).toBe(3);
    expect(tokens).toEqual([1, 2]);
  });

  test('when a heartbeat finds the job taken over, then the next checkpoint stops the body before it writes more', async () => {
    await queue('lost-by-heartbeat');
    const job = (await jobs.claim('first-owner'))!;
    let batches = 0;
    body = async (_job, lease) => {
      for (let i = 0; i < 5; i++) {
        lease.checkpoint();
        await lease.write({ $inc: { done: 1 } });
        batches++;
        // After the second batch another process takes it over (this one's heartbeat had lapsed).
        if (i === 1) {
          await LeaseTestJob.updateOne({ _id: job._id }, { $set: { owner: 'second-owner', heartbeatAt: new Date() }, $inc: { attempts: 1 } });
          await lease.beat();
        }
      }
    };
    await jobs.run(job, 'first-owner', notStopping);
    expect(batches).toBe(2);
    expect(await stored('lost-by-heartbeat')).toMatchObject({ state: 'running', owner: 'second-owner', done: 2, attempts: 2 });
  });

  test('when a job runs longer than its lease, then its heartbeat keeps it: no other runner can claim it meanwhile, and it finishes', async () => {
    const leaseMs = 3_000;
    await queue('long');
    const job = (await jobs.claim('long-runner', leaseMs))!;
    const rivals: (TestJobRecord | null)[] = [];
    let outlived = false;
    body = async (running, lease) => {
      // No progress written: only the timer's heartbeat (every second) holds the lease while the body works.
      for (;;) {
        const rival = await jobs.claim('rival', leaseMs);
        rivals.push(rival);
        if (rival) break;
        const now = await stored('long');
        if (now.heartbeatAt!.getTime() - now.startedAt!.getTime() > leaseMs) {
          outlived = true;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await finishDone(running, lease);
    };
    await jobs.run(job, 'long-runner', { leaseMs, isStopping: () => false });
    expect(outlived).toBe(true);
    expect(rivals.length).toBeGreaterThan(1);
    expect(rivals.every((r) => r === null)).toBe(true);
    expect(await stored('long')).toMatchObject({ state: 'done', owner: 'long-runner', attempts: 1 });
    expect(runs).toEqual([{ name: 'long', owner: 'long-runner' }]);
  });
});

describe('hand-back and failures', () => {
  test('when the runner stops mid-job, then the job is handed back — no owner, a lapsed heartbeat, the attempt not counted — and the next claim takes it at once', async () => {
    await queue('handed-back');
    let started!: () => void;
    const isRunning = new Promise<void>((resolve) => (started = resolve));
    body = async (_job, lease) => {
      started();
      for (let batch = 1; ; batch++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        await lease.writeOrStop({ $set: { done: batch } });
        lease.checkpoint();
      }
    };
    const runner = jobs.startRunner();
    jobs.wake();
    await isRunning;
    await runner.stop();

    const handedBack = await stored('handed-back');
    expect(handedBack).toMatchObject({ state: 'running', owner: null, attempts: 0 });
    expect(handedBack.heartbeatAt!.getTime()).toBe(0);
    expect(handedBack.done).toBeGreaterThan(0);

    // Claimable at once, with the default (long) lease, and this claim is its first counted attempt.
    const again = await jobs.claim('next-runner');
    expect(again?.name).toBe('handed-back');
    expect(await stored('handed-back')).toMatchObject({ state: 'running', owner: 'next-runner', attempts: 1 });
  });

  test('when the body throws, then the job ends failed with the message (no stack) through the job\'s own failure write', async () => {
    await queue('broken');
    body = async () => {
      throw new Error('the spreadsheet writer broke');
    };
    expect(await jobs.runQueued()).toBe(1);
    expect(await stored('broken')).toMatchObject({ state: 'failed', error: 'the spreadsheet writer broke', attempts: 1 });
  });

  test('when nothing is queued, then runQueued resolves 0 and a job running under a live lease is left alone', async () => {
    await LeaseTestJob.create({ name: 'live', requestedAt: new Date(), state: 'running', owner: 'live:1:bbbb', heartbeatAt: new Date(), attempts: 1 });
    expect(await jobs.runQueued()).toBe(0);
    expect(await stored('live')).toMatchObject({ state: 'running', owner: 'live:1:bbbb', attempts: 1 });
  });
});
