/**
 * The stored fields of the lease every durable background job's record carries (lease-jobs.ts,
 * docs/lease-jobs.md), written once: each job's schema spreads `leaseFields` among its own fields and its
 * record type adds `LeaseFields`. The names are stored data — claims, heartbeats and the crash-loop limit
 * query them — so they must not change. `state`, `requestedAt` (what the claim sorts on) and `error` stay
 * with each job: their values and rules differ (a roster preview has no requestedAt until Apply).
 */
export const leaseFields = {
  // When the current (or last) runner claimed it, and when it ended.
  startedAt: { type: Date, default: null },
  finishedAt: { type: Date, default: null },
  // Written with every batch (and on a timer): a held record whose heartbeat is older than the lease
  // belongs to a process that died and may be taken over.
  heartbeatAt: { type: Date, default: null },
  // Which runner holds it ("host:pid:random"); every write of a held record is conditional on it.
  owner: { type: String, default: null },
  // Times it was claimed: a record whose process keeps dying is failed after a few takeovers instead of looping.
  attempts: { type: Number, required: true, default: 0 },
  // The fencing token: + 1 on every claim, never lowered, so a later holder always has a larger one. A write that
  // cannot be conditional on the lease record itself (another collection, no transaction) stores it and is
  // refused or undone when a larger one is already there (xAPI outbox and marks: docs/xapi.md).
  fence: { type: Number, default: 0 },
};

/** The lease fields as stored. */
export type LeaseFields = {
  startedAt: Date | null;
  finishedAt: Date | null;
  heartbeatAt: Date | null;
  owner: string | null;
  attempts: number;
  /** Absent on records stored before it existed (read as 0; the first claim makes it 1). */
  fence?: number;
};
