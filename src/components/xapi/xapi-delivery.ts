/**
 * Delivery to each district's LRS (docs/xapi.md): a durable job per district on the shared lease
 * (src/shared/lease-jobs.ts). The district's XapiFeed record is the job: `idle` and due (requestedAt) is
 * claimable when sending is on; a pass collects new decisions and results into the outbox
 * (xapi-collect.ts), then sends the outbox in batches of up to 100, oldest first, removing each batch
 * only once the LRS accepted it — at least once, and with deterministic ids a resend changes nothing at
 * the LRS. Network errors, 408/429/5xx wait with a growing backoff (or the LRS's Retry-After); a refusal
 * (400/401/403…) stops the feed with the LRS's message until an administrator saves or resumes it.
 */
import { Types } from 'mongoose';
import { District } from '../districts';
import { defineLeaseJobs, errorMessage, type Lease } from '../../shared/lease-jobs';
import { logger } from '../../shared/logger';
import { retryBackoffMs } from '../../shared/outbound-http';
import { inTransaction } from '../../shared/transactions';
import { collectStatements } from './xapi-collect';
import { postStatements, putStatement, type LrsAnswer, type LrsCredentials } from './xapi-client';
import { XapiFeed, XapiOutbox, type XapiFeedRecord } from './xapi-feed.model';
import { feedStatementContext, xapiRuntime } from './xapi-runtime';
import { adoptOutbox, settleStrayRows } from './xapi-fence';
import { openSecret } from './xapi-secret';
import { baseOfStatement, rebaseStatement, type Statement, type StatementContext } from './xapi-statements';

export const XAPI_LEASE_MS = 60_000;
export const MAX_XAPI_ATTEMPTS = 3;
/** How often a district's new decisions are looked for (and the runner's poll). */
export const XAPI_PASS_MS = 15_000;
export const BATCH_SIZE = 100;


const jobs = defineLeaseJobs<XapiFeedRecord>({
  name: 'xAPI delivery',
  model: XapiFeed,
  runningState: 'running',
  leaseMs: XAPI_LEASE_MS,
  maxAttempts: MAX_XAPI_ATTEMPTS,
  pollMs: 5_000,
  queued: () => ({ state: 'idle', enabled: true, requestedAt: { $lte: new Date() } }),
  onClaim: { error: null },
  onCrashLoop: (now) => ({ error: 'crash_loop', lastError: { at: now, status: null, message: 'The process sending statements stopped 3 times.' } }),
  logContext: (feed) => ({ xapiFeed: feed._id.toString(), district: feed.district.toString() }),
  run: deliver,
  // An unexpected error (the database away): logged by the lease; tried again after a backoff.
  fail: async (feed, lease, err) => {
    const now = new Date();
    await lease.write({ $set: { ...endOfPass(now, retryBackoffMs(feed.retries ?? 0)), lastError: { at: now, status: null, message: errorMessage(err, 300) } }, $inc: { retries: 1 } });
  },
});

function endOfPass(now: Date, waitMs: number) {
  return { state: 'idle', owner: null, attempts: 0, finishedAt: now, requestedAt: new Date(now.getTime() + waitMs) };
}

async function deliver(feed: XapiFeedRecord, lease: Lease): Promise<void> {
  const runtime = xapiRuntime();
  const secret = openSecret(runtime.keys, feed.district.toString(), feed.secret)?.secret;
  if (!secret) {
    // The key changed (or is gone): nothing can be sent until the secret is entered again.
    await lease.write({ $set: { state: 'stopped', owner: null, attempts: 0, finishedAt: new Date(), error: 'secret_unreadable', lastError: { at: new Date(), status: null, message: 'The stored secret cannot be read with this server’s XAPI_SECRET_KEY: enter it again.' } } });
    return;
  }
  const district = await District.findById(feed.district, { slug: 1 }).lean();
  if (!district) return void (await lease.write({ $set: { ...endOfPass(new Date(), XAPI_PASS_MS), enabled: false } }));
  const ctx = feedStatementContext(feed, district.slug);
  const lrs: LrsCredentials = { endpoint: feed.endpoint, key: feed.authKey, secret };

  // The outbox under this pass's fencing token (xapi-fence.ts): what earlier holders left becomes ours; what a
  // collector that lost the feed wrote after that is sent only if nobody newer queued it.
  await adoptOutbox(feed, lease);
  const strays = await settleStrayRows(feed, lease);
  if (strays > 0) lease.log.warn({ removed: strays }, 'removed statements queued again by a collector that had lost the feed');
  await collectStatements(feed, ctx, lease);
  lease.checkpoint();
  await removeCounted(feed, lease);

  for (;;) {
    // Index { district, fence, _id }: only rows with this holder's token, oldest first.
    const rows = await XapiOutbox.find({ district: feed.district, fence: lease.fence }, { statement: 1, iriBase: 1 }).sort({ _id: 1 }).limit(BATCH_SIZE).lean();
    if (rows.length === 0) break;
    const answer = await sendBatch(lrs, rows, ctx);
    if (answer.sent.length > 0) await markSent(feed, lease, answer.sent);
    if (answer.last.kind === 'retry') {
      const now = new Date();
      await lease.write({ $set: { ...endOfPass(now, retryBackoffMs(feed.retries ?? 0, answer.last.retryAfterMs)), lastError: { at: now, status: answer.last.status, message: answer.last.message } }, $inc: { retries: 1 } });
      lease.log.warn({ status: answer.last.status, retries: (feed.retries ?? 0) + 1 }, 'LRS unavailable; trying again later');
      return;
    }
    if (answer.last.kind === 'stop') {
      const now = new Date();
      await lease.write({ $set: { state: 'stopped', owner: null, attempts: 0, finishedAt: now, error: 'refused', lastError: { at: now, status: answer.last.status, message: answer.last.message } } });
      lease.log.warn({ status: answer.last.status }, 'LRS refused the statements; sending stopped until an administrator looks');
      return;
    }
    feed.retries = 0;
    lease.checkpoint();
  }
  await lease.write({ $set: { ...endOfPass(new Date(), XAPI_PASS_MS), retries: 0 } });
}

type Row = { _id: Types.ObjectId; statement: string; iriBase?: string | null };

/**
 * A queued statement as it is sent: under the feed's IRI base now. One queued before an administrator changed the
 * base was built with the old one (kept on the row; read from its actor's home page for rows from before that
 * was kept) and is rebuilt with the new one, so everything not yet sent at the change goes out under the new base.
 */
export function statementToSend(row: Row, ctx: StatementContext): Statement {
  const statement = JSON.parse(row.statement) as Statement;
  const builtWith = row.iriBase ?? baseOfStatement(statement, ctx.districtSlug);
  if (!builtWith || builtWith === ctx.baseUrl) return statement;
  return rebaseStatement(statement, builtWith, ctx.baseUrl) ?? statement;
}

/**
 * Sends one batch. A 409 on a batch may mean the LRS stored none of it (one id it already had): the batch
 * is then sent one statement at a time with PUT, where 204 and 409 both mean the LRS holds that id.
 */
async function sendBatch(lrs: LrsCredentials, rows: Row[], ctx: StatementContext): Promise<{ sent: Types.ObjectId[]; last: LrsAnswer }> {
  const statements = rows.map((row) => statementToSend(row, ctx));
  const answer = await postStatements(lrs, statements);
  if (answer.kind === 'ok' || (answer.kind === 'conflict' && rows.length === 1)) return { sent: rows.map((row) => row._id), last: answer };
  if (answer.kind !== 'conflict') return { sent: [], last: answer };
  const sent: Types.ObjectId[] = [];
  for (let i = 0; i < rows.length; i++) {
    const one = await putStatement(lrs, statements[i]);
    if (one.kind !== 'ok' && one.kind !== 'conflict') return { sent, last: one };
    sent.push(rows[i]._id);
  }
  return { sent, last: answer };
}

/** The feed was taken over while its accepted rows were being removed: the removal is rolled back, the pass stops. */
class FeedLost extends Error {}

/**
 * Removes the rows the LRS accepted and counts them, conditional on still holding the feed (a runner that lost it
 * leaves the rows to the new one). A statement is counted once, when it leaves the outbox, however often it was
 * sent. With transactions: one transaction removes the rows and adds the number removed — a process that dies
 * before the commit leaves both undone, and the resend is counted then. Without (a standalone MongoDB): the count
 * comes first, together with the ids it covers (`countedIds`), then the removal; a process that dies between them
 * leaves counted rows in the outbox, which the next pass removes without counting or sending them (removeCounted).
 */
async function markSent(feed: XapiFeedRecord, lease: Lease, ids: Types.ObjectId[]): Promise<void> {
  try {
    await inTransaction(async (session) => {
      if (session) {
        const { deletedCount } = await XapiOutbox.deleteMany({ _id: { $in: ids }, district: feed.district }, { session });
        const { matchedCount } = await XapiFeed.updateOne(lease.mine, { $inc: { sentCount: deletedCount }, $set: { lastSuccessAt: new Date(), retries: 0 } }, { session });
        if (matchedCount === 0) throw new FeedLost();
        return;
      }
      // The rows were read by this holder after removeCounted, and only a holder removes rows: all are still here.
      const { matchedCount } = await XapiFeed.updateOne(lease.mine, { $inc: { sentCount: ids.length }, $set: { countedIds: ids, lastSuccessAt: new Date(), retries: 0 } });
      if (matchedCount === 0) throw new FeedLost();
      await XapiOutbox.deleteMany({ _id: { $in: ids }, district: feed.district });
    });
  } catch (err) {
    if (err instanceof FeedLost) lease.lost();
    throw err;
  }
}

/** Before sending (standalone MongoDB only leaves any): the rows a process counted and died before removing. */
async function removeCounted(feed: XapiFeedRecord, lease: Lease): Promise<void> {
  const counted = feed.countedIds ?? [];
  if (counted.length === 0) return;
  await XapiOutbox.deleteMany({ _id: { $in: counted }, district: feed.district });
  await lease.writeOrStop({ $unset: { countedIds: 1 } });
}

/** One runner per app process (src/server.ts); none without XAPI_SECRET_KEY (nothing could be sent). */
export function startXapiRunner(options: { pollMs?: number } = {}) {
  if (!xapiRuntime().key) {
    // Said once at start when it matters: districts turned sending on, and this server cannot read their secrets.
    XapiFeed.exists({ enabled: true })
      .then((on) => on && logger.warn('XAPI_SECRET_KEY is not set: xAPI statements are not sent, and the xAPI page says xAPI is unavailable'))
      .catch(() => undefined);
    return { stop: async () => undefined };
  }
  return jobs.startRunner({ pollMs: options.pollMs });
}

/** Runs every due feed to the end of its pass, in this process (tests, scripts); how many passes ran. */
export function runXapiDeliveries(): Promise<number> {
  return jobs.runQueued();
}

export const claimXapiFeed = jobs.claim;
export const wakeXapiRunner = jobs.wake;
