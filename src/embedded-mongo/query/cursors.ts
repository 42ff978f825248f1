import { BSON, Long } from 'bson';
import type { Doc } from '../bson-values';
import { rawBsonOf } from '../storage/doc-store';
import type { Txn } from '../transactions/txn';

const MAX_BATCH_BYTES = 16 * 1024 * 1024;
const PULL = 512;
export const CURSOR_IDLE_MS = 10 * 60_000;

export type BatchTransform = (docs: Doc[]) => Doc[];

function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** An open cursor: a lazy source of documents, serialized batch by batch; the query is never re-run. */
export class ServerCursor {
  lastUse = Date.now();
  private pending: Doc[] = [];
  private pendingPos = 0;
  private done = false;

  constructor(
    readonly id: Long,
    readonly ns: string,
    private readonly source: Iterator<Doc>,
    private readonly transform: BatchTransform | undefined,
    private remaining: number,
    readonly txn?: Txn,
  ) {}

  private refill(max: number): void {
    const raw: Doc[] = [];
    while (raw.length < max && this.remaining > 0) {
      const r = this.source.next();
      if (r.done) {
        this.done = true;
        break;
      }
      raw.push(r.value);
      this.remaining--;
    }
    if (this.remaining <= 0) this.done = true;
    this.pending = this.transform ? this.transform(raw) : raw;
    this.pendingPos = 0;
  }

  /** Up to `batchSize` documents (or 16 MiB) as BSON; `exhausted` when nothing is left. */
  nextBatch(batchSize?: number): { docs: Buffer[]; exhausted: boolean } {
    this.lastUse = Date.now();
    const want = batchSize && batchSize > 0 ? batchSize : Infinity;
    const out: Buffer[] = [];
    let bytes = 0;
    while (out.length < want) {
      if (this.pendingPos >= this.pending.length) {
        if (this.done) break;
        this.refill(Math.min(PULL, want - out.length));
        if (this.pending.length === 0) break;
      }
      const doc = this.pending[this.pendingPos];
      const buf = (!this.transform && rawBsonOf(doc)) || toBuffer(BSON.serialize(doc));
      if (out.length > 0 && bytes + buf.length > MAX_BATCH_BYTES) break;
      out.push(buf);
      bytes += buf.length;
      this.pendingPos++;
    }
    if (this.pendingPos >= this.pending.length && !this.done) this.refill(1);
    const exhausted = this.done && this.pendingPos >= this.pending.length;
    return { docs: out, exhausted };
  }
}

export class CursorRegistry {
  private readonly cursors = new Map<string, ServerCursor>();
  private next = Math.floor(Math.random() * 1e9) + 1;

  open(ns: string, source: Iterator<Doc>, transform: BatchTransform | undefined, limit: number, txn?: Txn): ServerCursor {
    const c = new ServerCursor(Long.fromNumber(this.next++), ns, source, transform, limit, txn);
    this.cursors.set(c.id.toString(), c);
    return c;
  }

  get(id: Long | number | bigint): ServerCursor | undefined {
    return this.cursors.get(String(id));
  }

  kill(id: Long | number | bigint): boolean {
    return this.cursors.delete(String(id));
  }

  killNamespace(ns: string): void {
    for (const [k, c] of this.cursors) if (c.ns === ns) this.cursors.delete(k);
  }

  expireIdle(now: number): void {
    for (const [k, c] of this.cursors) if (now - c.lastUse > CURSOR_IDLE_MS) this.cursors.delete(k);
  }

  get size(): number {
    return this.cursors.size;
  }
}
