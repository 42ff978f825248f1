import type { Lease } from '../../shared/lease-jobs';
import { XapiMark, XapiOutbox, type XapiFeedRecord } from './xapi-feed.model';

/**
 * The outbox under the lease's fencing token (docs/xapi.md, "A collector that lost its lease"). Without
 * transactions a collector that stalled past its lease can still write rows after the new holder began; an insert
 * cannot be conditional on the feed record, so the rows carry the writer's token instead:
 *   - adopt (at the start of every pass): the rows of earlier holders that were there when this holder began —
 *     token from the last adoption up to ours — get our token. Only rows with our token are sent.
 *   - rows with a smaller token found after that were written by a collector that had lost the feed, after the
 *     adoption. Each is checked against its attempt's mark: a mark written by a holder with a larger token than
 *     the row's means that holder queued the statement itself (its marks follow its rows) — the row is a copy, and
 *     removed; otherwise nobody newer dealt with that attempt — the row is adopted, sent once.
 * Only the holder removes rows, and marks never go back to a smaller token (xapi-collect.ts writeMarks).
 */
export async function adoptOutbox(feed: XapiFeedRecord, lease: Lease): Promise<void> {
  const fence = lease.fence;
  const from = feed.adoptedFence ?? 0;
  // Rows from before tokens existed have none: they are adopted as well.
  await XapiOutbox.updateMany({ district: feed.district, $or: [{ fence: { $gte: from, $lt: fence } }, { fence: { $exists: false } }] }, { $set: { fence } });
  await lease.writeOrStop({ $set: { adoptedFence: fence } });
}

/** Rows left with a smaller token since the adoption: kept (adopted) or removed by their attempt's mark. How many were removed. */
export async function settleStrayRows(feed: XapiFeedRecord, lease: Lease): Promise<number> {
  const fence = lease.fence;
  let removed = 0;
  for (;;) {
    const rows = await XapiOutbox.find({ district: feed.district, fence: { $lt: fence } }, { fence: 1, attempt: 1 }).sort({ fence: 1, _id: 1 }).limit(500).lean();
    if (rows.length === 0) return removed;
    const attempts = [...new Set(rows.flatMap((row) => (row.attempt ? [row.attempt.toString()] : [])))];
    const marks = await XapiMark.find({ attempt: { $in: attempts } }, { attempt: 1, fence: 1 }).lean();
    const markFence = new Map(marks.map((mark) => [mark.attempt.toString(), mark.fence ?? 0]));
    // Conditional on the token read: a row changed meanwhile is looked at again on the next round.
    for (const row of rows) {
      const rowFence = row.fence ?? 0;
      const isCopy = row.attempt ? (markFence.get(row.attempt.toString()) ?? 0) > rowFence : false;
      const filter = { _id: row._id, fence: row.fence };
      if (isCopy) removed += (await XapiOutbox.deleteOne(filter)).deletedCount;
      else await XapiOutbox.updateOne(filter, { $set: { fence } });
    }
    lease.checkpoint();
    if (rows.length < 500) return removed;
  }
}
