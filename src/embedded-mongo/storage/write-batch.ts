import type { Doc } from '../bson-values';
import type { Collection } from './collection';

export type BatchOp =
  | { kind: 'put'; coll: Collection; key: string; doc?: Doc; raw?: Uint8Array }
  | { kind: 'del'; coll: Collection; key: string }
  | { kind: 'meta'; coll: Collection }
  | { kind: 'drop'; coll: Collection };

/** Document changes only, with the durable collection id and BSON bytes filled in by the store. */

/** Changes of one command, written to the durable store in one SQLite transaction before the reply. */
export class WriteBatch {
  readonly ops: BatchOp[] = [];

  constructor(readonly durable: boolean) {}

  /** A new document version: its object, or (for documents kept in BSON form) only its bytes. */
  put(coll: Collection, key: string, doc: Doc | undefined, raw?: Uint8Array): void {
    if (this.durable) this.ops.push({ kind: 'put', coll, key, doc, raw });
  }

  del(coll: Collection, key: string): void {
    if (this.durable) this.ops.push({ kind: 'del', coll, key });
  }

  /** Collection metadata (options, indexes, name) changed. */
  meta(coll: Collection): void {
    if (this.durable) this.ops.push({ kind: 'meta', coll });
  }

  drop(coll: Collection): void {
    if (this.durable) this.ops.push({ kind: 'drop', coll });
  }
}
