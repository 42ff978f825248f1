/**
 * Tamper evidence for the audit log (research/anchors.md, "gaps": a hash-chained audit trail). Events are
 * written as before — one insert, no lock, nothing added to the request that records them. A sealer in
 * every app process then chains each district's new events in the order it finds them: event n gets
 * seq n, the previous event's hash, and hash = sha256(previous hash + "\n" + the event's canonical JSON,
 * its id included). Changing, removing or re-ordering a sealed event breaks the chain from there on, which
 * verifyChain() reports with the first place it breaks. Deleting the newest events cannot be seen from
 * the chain alone: the page shows the head (seq and hash) so it can be noted elsewhere and compared later.
 *
 * Two sealers (two processes) cannot give out the same number: each write is conditional on the event
 * being unsealed, and { district, seq } is unique; the loser stops and reads the head again next time.
 */
import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { logger } from '../../shared/logger';
import { startPollingRunner } from '../../shared/polling-runner';
import { AuditEvent } from './audit.model';

export const GENESIS_HASH = '0'.repeat(64);
const SEAL_BATCH = 500;
const DEFAULT_POLL_MS = 5_000;

type Sealable = {
  _id: Types.ObjectId;
  district?: Types.ObjectId | null;
  actor?: Types.ObjectId | null;
  action: string;
  target?: { kind?: string | null; id?: string | null } | null;
  details?: unknown;
  requestId?: string | null;
  at: Date;
};

/** JSON with sorted keys; dates as ISO strings, ObjectIds as hex: the same event always gives the same text. */
export function stableJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value instanceof Types.ObjectId) return JSON.stringify(value.toHexString());
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object') {
    const hex = (value as { toHexString?: () => string }).toHexString;
    if (typeof hex === 'function') return JSON.stringify(hex.call(value));
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function eventHash(prevHash: string, event: Sealable): string {
  const canonical = stableJson({
    id: event._id,
    district: event.district ?? null,
    actor: event.actor ?? null,
    action: event.action,
    target: event.target ? { kind: event.target.kind ?? null, id: event.target.id ?? null } : null,
    details: event.details ?? null,
    requestId: event.requestId ?? null,
    at: event.at,
  });
  return createHash('sha256').update(`${prevHash}\n${canonical}`).digest('hex');
}

const isDuplicateKey = (err: unknown) => (err as { code?: number } | null)?.code === 11000;

/** Seals up to `limit` unsealed events (oldest first); resolves with how many this call sealed. */
export async function sealPendingAuditEvents(limit = SEAL_BATCH): Promise<number> {
  // Index { seq, _id }: unsealed events have no seq.
  const pending = (await AuditEvent.find({ seq: null }).sort({ _id: 1 }).limit(limit).lean()) as Sealable[];
  if (pending.length === 0) return 0;
  const byDistrict = new Map<string, Sealable[]>();
  for (const event of pending) {
    const key = event.district ? String(event.district) : '';
    byDistrict.set(key, [...(byDistrict.get(key) ?? []), event]);
  }
  let sealed = 0;
  for (const [key, events] of byDistrict) {
    const district = key ? new Types.ObjectId(key) : null;
    // Index { district, seq }.
    const head = await AuditEvent.findOne({ district, seq: { $exists: true } }, { seq: 1, hash: 1 }).sort({ seq: -1 }).lean();
    let seq = head?.seq ?? 0;
    let prev = head?.hash ?? GENESIS_HASH;
    // One conditional write per event, in order, stopping at the first that does not apply: an event sealed
    // meanwhile by another process (it matches nothing), or a number already taken (duplicate key). Writing
    // on after a miss could chain to a hash that is not the stored one; the next pass reads the head again.
    for (const event of events) {
      const hash = eventHash(prev, event);
      try {
        const { modifiedCount } = await AuditEvent.updateOne({ _id: event._id, seq: null }, { $set: { seq: seq + 1, prevHash: prev, hash } });
        if (modifiedCount === 0) break;
      } catch (err) {
        if (isDuplicateKey(err)) break;
        throw err;
      }
      seq += 1;
      prev = hash;
      sealed += 1;
    }
  }
  return sealed;
}

/**
 * Seals everything pending (the fingerprint email, tests, scripts). A pass that seals nothing while events
 * are still pending lost a race with another sealer (this process's runner, or another process) that is
 * chaining them right now: wait a moment and look again, so that on return every event written before the
 * call is sealed (bounded: about a second of such waits in a row).
 */
export async function sealAllAuditEvents(): Promise<number> {
  let total = 0;
  for (let waits = 0; waits < 50; ) {
    const sealed = await sealPendingAuditEvents();
    total += sealed;
    if (sealed > 0) {
      waits = 0;
      continue;
    }
    if (!(await AuditEvent.exists({ seq: null }))) break;
    waits += 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return total;
}

export type ChainProblem = Readonly<{ kind: 'gap' | 'link' | 'altered'; seq: number; eventId: string | null }>;
export type ChainReport = Readonly<{
  checked: number;
  pending: number;
  head: { seq: number; hash: string; at: Date } | null;
  problems: readonly ChainProblem[];
  ms: number;
}>;

/** Walks the district's chain in seq order, recomputing every hash; lists where it breaks (at most 20 problems). */
export async function verifyAuditChain(districtId: string): Promise<ChainReport> {
  const started = Date.now();
  const district = new Types.ObjectId(districtId);
  const problems: ChainProblem[] = [];
  const note = (problem: ChainProblem) => {
    if (problems.length < 20) problems.push(problem);
  };
  let expected = 1;
  let prev = GENESIS_HASH;
  let checked = 0;
  let head: ChainReport['head'] = null;
  // Index { district, seq }, walked in order.
  const cursor = AuditEvent.collection.find({ district, seq: { $exists: true } }, { sort: { seq: 1 }, batchSize: 1_000 });
  try {
    for await (const doc of cursor) {
      const event = doc as unknown as Sealable & { seq: number; prevHash?: string; hash?: string };
      if (event.seq !== expected) note({ kind: 'gap', seq: expected, eventId: null });
      if (event.prevHash !== prev) note({ kind: 'link', seq: event.seq, eventId: String(event._id) });
      if (eventHash(event.prevHash ?? '', event) !== event.hash) note({ kind: 'altered', seq: event.seq, eventId: String(event._id) });
      expected = event.seq + 1;
      prev = event.hash ?? '';
      checked += 1;
      head = { seq: event.seq, hash: event.hash ?? '', at: event.at };
    }
  } finally {
    await cursor.close();
  }
  const pending = await AuditEvent.countDocuments({ district, seq: null });
  return { checked, pending, head, problems, ms: Date.now() - started };
}

/** The district chain's newest sealed event (for the audit page), or null. */
export async function auditChainHead(districtId: string): Promise<{ seq: number; hash: string; at: Date } | null> {
  const head = await AuditEvent.findOne({ district: districtId, seq: { $exists: true } }, { seq: 1, hash: 1, at: 1 }).sort({ seq: -1 }).lean();
  return head?.seq ? { seq: head.seq, hash: head.hash ?? '', at: head.at } : null;
}

export type AuditSealer = { stop(): Promise<void> };

/** Seals new events every few seconds in every app process (safe to run in several at once). */
export function startAuditSealer(options: { pollMs?: number } = {}): AuditSealer {
  const runner = startPollingRunner('audit sealer', options.pollMs ?? DEFAULT_POLL_MS, async () => {
    const sealed = await sealPendingAuditEvents();
    if (sealed) logger.debug({ sealed }, 'audit events sealed');
    return sealed === SEAL_BATCH;
  });
  return { stop: () => runner.stop() };
}
