import { Types, type ClientSession } from 'mongoose';
import { Attempt } from '../completions';
import { User } from '../users';
import { getCatalog } from '../training';
import { isDuplicateKey, type Lease } from '../../shared/lease-jobs';
import { inTransaction } from '../../shared/transactions';
import { XapiFeed, XapiMark, XapiOutbox, type XapiFeedRecord } from './xapi-feed.model';
import { answeredStatement, resultStatements, type AttemptForStatements, type Statement, type StatementContext } from './xapi-statements';

/**
 * The collector (docs/xapi.md, "Delivery"): turns what the player already wrote into queued statements,
 * after the fact — nothing is added to the learner's click. It reads the district's attempts whose
 * `updatedAt` is at or after its cursor less a margin (a write stamped a moment before a later one may
 * land after it, and app servers' clocks differ a little), so an attempt can be read twice: each
 * attempt's mark says how many of its decisions, and whether its result, are already queued. Statements
 * go to the outbox before the marks are written, and their ids are deterministic, so a pass cut short
 * anywhere queues nothing twice on the next one (the outbox's unique id) and loses nothing.
 *
 * A batch's writes — its statements, its marks and the cursor after it — are conditional on the collector
 * still holding the feed (writeBatch): a collector that lost its lease while it read must not queue what the
 * new holder has already sent and removed (it would be sent, and counted, a second time).
 */
export const CURSOR_MARGIN_MS = 2 * 60_000;
const BATCH = 200;

/** An attempt as the collector reads it: what statements are built from, plus what finds the learner and the module. */
type AttemptDoc = Omit<AttemptForStatements, 'id' | 'actorName'> & {
  _id: Types.ObjectId;
  user: Types.ObjectId;
  moduleSlug: string;
  updatedAt: Date;
};

/** Collects everything new for the feed into its outbox; returns how many statements were queued. */
export async function collectStatements(feed: XapiFeedRecord, ctx: StatementContext, lease: Lease): Promise<number> {
  const sendFrom = feed.sendFrom;
  if (!sendFrom) return 0;
  const from = new Date(Math.max(sendFrom.getTime(), (feed.cursor?.getTime() ?? 0) - CURSOR_MARGIN_MS));
  // Index { district, updatedAt } (attempt.model.ts).
  const cursor = Attempt.collection
    .find<AttemptDoc>(
      { district: feed.district, updatedAt: { $gte: from } },
      { sort: { updatedAt: 1, _id: 1 }, projection: { user: 1, moduleSlug: 1, moduleVersion: 1, updateFrom: 1, status: 1, score: 1, points: 1, maxPoints: 1, startedAt: 1, finishedAt: 1, updatedAt: 1, decisions: 1 }, batchSize: BATCH },
    );
  let queued = 0;
  let batch: AttemptDoc[] = [];
  try {
    for await (const attempt of cursor) {
      batch.push(attempt);
      if (batch.length < BATCH) continue;
      queued += await collectBatch(feed, ctx, lease, batch, sendFrom);
      batch = [];
      lease.checkpoint();
    }
    if (batch.length > 0) queued += await collectBatch(feed, ctx, lease, batch, sendFrom);
  } finally {
    await cursor.close();
  }
  return queued;
}

type NewMark = { attempt: Types.ObjectId; decisions: number; finished: boolean; skipped: number; resultSkipped: boolean };

async function collectBatch(feed: XapiFeedRecord, ctx: StatementContext, lease: Lease, attempts: AttemptDoc[], sendFrom: Date): Promise<number> {
  const [marks, names] = await Promise.all([
    XapiMark.find({ attempt: { $in: attempts.map((a) => a._id) } }, { attempt: 1, decisions: 1, finished: 1, skipped: 1, resultSkipped: 1 }).lean(),
    actorNames(feed, attempts),
  ]);
  const markOf = new Map(marks.map((mark) => [mark.attempt.toString(), mark]));
  const catalog = getCatalog();
  const statements: Queued[] = [];
  const newMarks: NewMark[] = [];
  // A backfill (sendFrom at 0) also queues what an earlier pass skipped as older than sendFrom.
  const isBackfill = sendFrom.getTime() === 0;
  for (const attempt of attempts) {
    const mark = markOf.get(attempt._id.toString());
    const isFinished = attempt.status !== 'in_progress';
    const decisions = attempt.decisions ?? [];
    const skipped = mark?.skipped ?? 0;
    const isResultSkipped = Boolean(mark?.resultSkipped);
    const hasSkipped = isBackfill && (skipped > 0 || isResultSkipped);
    if (mark && !hasSkipped && mark.decisions >= decisions.length && (mark.finished || !isFinished)) continue;
    // Only what happened after sending was turned on: an attempt first seen now skips its earlier decisions.
    const first = mark ? mark.decisions : countBefore(decisions, sendFrom);
    const resultBefore = !mark && Boolean(attempt.finishedAt && attempt.finishedAt < sendFrom);
    const module = catalog.get(attempt.moduleSlug, attempt.moduleVersion);
    if (module) {
      const forStatements: AttemptForStatements = { ...attempt, id: attempt._id.toString(), actorName: names.get(attempt.user.toString()) ?? attempt.user.toString(), decisions };
      const indexes = [...(hasSkipped ? range(0, skipped) : []), ...range(first, decisions.length)];
      for (const index of indexes) {
        const statement = answeredStatement(ctx, module, forStatements, index);
        if (statement) statements.push({ statement, attempt: attempt._id });
      }
      const resultDue = isFinished && (mark ? !mark.finished || (hasSkipped && isResultSkipped) : !resultBefore);
      if (resultDue) statements.push(...resultStatements(ctx, module, forStatements).map((statement) => ({ statement, attempt: attempt._id })));
    }
    newMarks.push({
      attempt: attempt._id,
      decisions: decisions.length,
      finished: isFinished,
      skipped: mark ? (hasSkipped ? 0 : skipped) : first,
      resultSkipped: mark ? isResultSkipped && !hasSkipped : resultBefore,
    });
  }
  return writeBatch(feed, lease, statements, newMarks, attempts[attempts.length - 1].updatedAt, ctx.baseUrl);
}

/** The feed was taken over while the batch was read: nothing of it is written. */
class FeedLost extends Error {}

/** A statement to queue, with what the outbox keeps beside it (the attempt decides about rows a lost collector left). */
type Queued = { statement: Statement; attempt: Types.ObjectId };

/**
 * Writes one batch only if the feed is still ours. With transactions (a replica set; the embedded server is
 * one), one transaction that first updates the feed on `lease.mine` (heartbeat and cursor): a runner that
 * took the feed over makes it match nothing and the batch is dropped; one taking it over meanwhile waits for
 * the commit (its claim writes the same document), then finds the batch queued and marked — nothing sent twice.
 * Without transactions (standalone MongoDB), the same conditional write first renews the heartbeat, then the
 * statements, the marks and the cursor follow one another, each carrying the lease's fencing token: a process
 * stalled longer than the lease between them writes with a token smaller than the new holder's, so its marks
 * are refused and its rows are never sent by the new holder (docs/xapi.md, "A collector that lost its lease").
 */
async function writeBatch(feed: XapiFeedRecord, lease: Lease, queued: Queued[], marks: NewMark[], cursor: Date, iriBase: string): Promise<number> {
  try {
    return await inTransaction(async (session) => {
      const now = new Date();
      const held = await XapiFeed.updateOne(lease.mine, { $set: session ? { heartbeatAt: now, cursor } : { heartbeatAt: now } }, { session });
      if (held.matchedCount === 0) throw new FeedLost();
      const count = await queueStatements(feed.district, queued, { fence: lease.fence, iriBase }, session);
      await writeMarks(feed.district, marks, lease.fence, session);
      if (!session && (await XapiFeed.updateOne(lease.mine, { $set: { cursor } })).matchedCount === 0) throw new FeedLost();
      return count;
    });
  } catch (err) {
    if (err instanceof FeedLost) lease.lost();
    throw err;
  }
}

/**
 * The marks, each written only where no holder with a larger token wrote it since (`fence` ≤ ours, or none): a
 * collector that lost the feed cannot put a mark back to what it read before the new holder moved it on. Such a
 * refused upsert meets the unique attempt index (duplicate key) and is left out; the cursor write after it then
 * finds the feed gone.
 */
async function writeMarks(district: Types.ObjectId, marks: NewMark[], fence: number, session?: ClientSession): Promise<void> {
  if (marks.length === 0) return;
  try {
    await XapiMark.bulkWrite(
      marks.map(({ attempt, ...fields }) => ({
        updateOne: { filter: { attempt, fence: { $not: { $gt: fence } } }, update: { $set: { district, ...fields, fence } }, upsert: true },
      })),
      { ordered: false, session },
    );
  } catch (err) {
    if (session || !onlyDuplicates(err)) throw err;
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

function countBefore(decisions: AttemptForStatements['decisions'], sendFrom: Date): number {
  let count = 0;
  while (count < decisions.length && decisions[count].at < sendFrom) count++;
  return count;
}

/** The account name per learner: the opaque internal id, or the employee id when the district chose it (and the person has one). */
async function actorNames(feed: XapiFeedRecord, attempts: AttemptDoc[]): Promise<Map<string, string>> {
  if (feed.actorId !== 'employee_id') return new Map();
  const users = await User.find({ _id: { $in: [...new Set(attempts.map((a) => a.user.toString()))] }, district: feed.district }, { employeeId: 1 }).lean();
  return new Map(users.filter((u) => u.employeeId).map((u) => [u._id.toString(), String(u.employeeId)]));
}

/**
 * Queues statements in order with the holder's fencing token; a statement already queued by this holder (same id,
 * same token) is skipped. A row of the same id left with a smaller token (by a collector that lost the feed) is
 * taken over: its token is raised to ours. One with a larger token (we are the stale one) refuses ours through the
 * unique id. Returns how many became ours. Ids already queued are read first: in a transaction a refused upsert
 * (duplicate key) would abort it.
 */
export async function queueStatements(district: Types.ObjectId, items: Queued[], stamp: { fence: number; iriBase: string }, session?: ClientSession): Promise<number> {
  if (items.length === 0) return 0;
  const { fence, iriBase } = stamp;
  const ids = items.map((item) => item.statement.id);
  const queued = new Set((await XapiOutbox.find({ statementId: { $in: ids }, fence: { $gte: fence } }, { statementId: 1 }, { session }).lean()).map((row) => row.statementId));
  const fresh = items.filter((item) => !queued.has(item.statement.id));
  if (fresh.length === 0) return 0;
  const ops = fresh.map(({ statement, attempt }) => ({
    updateOne: {
      filter: { statementId: statement.id, fence: { $lt: fence } },
      update: { $set: { fence }, $setOnInsert: { district, attempt, iriBase, statement: JSON.stringify(statement) } },
      upsert: true,
    },
  }));
  // Ordered: the rows' _ids (made by the server on insert) follow the statements' order, which the sender keeps.
  // A duplicate key (a row there with a token ≥ ours) stops an ordered write: the rest is written after it.
  let count = 0;
  for (let start = 0; start < ops.length; ) {
    try {
      const result = await XapiOutbox.bulkWrite(ops.slice(start), { ordered: true, session });
      return count + result.upsertedCount + result.modifiedCount;
    } catch (err) {
      if (session || !onlyDuplicates(err)) throw err;
      const failed = err as { result?: { upsertedCount?: number; modifiedCount?: number }; writeErrors?: { index?: number }[] };
      count += (failed.result?.upsertedCount ?? 0) + (failed.result?.modifiedCount ?? 0);
      const at = failed.writeErrors?.[0]?.index;
      if (typeof at !== 'number') throw err;
      start += at + 1;
    }
  }
  return count;
}

/** A bulk write whose only refusals are duplicate keys. */
function onlyDuplicates(err: unknown): boolean {
  const refused = (err as { writeErrors?: { code?: number; err?: { code?: number } }[] }).writeErrors ?? (isDuplicateKey(err) ? [{ code: 11000 }] : []);
  return refused.length > 0 && refused.every((e) => (e.code ?? e.err?.code) === 11000);
}
