import type { Doc } from '../bson-values';
import type { Collection } from '../storage/collection';

export type TxnState = 'in_progress' | 'committed' | 'aborted';

/**
 * A multi-document transaction. `writes` holds its uncommitted versions (null = deleted); `pre` holds, for
 * documents others changed after it started, the version its snapshot saw — together they make its reads
 * a snapshot while committed state moves on.
 */
export class Txn {
  state: TxnState = 'in_progress';
  readonly writes = new Map<string, Map<string, Doc | null>>();
  readonly pre = new Map<string, Map<string, Doc | null>>();
  readonly colls = new Map<string, Collection>();
  readonly createdColls = new Set<Collection>();
  lastUse = Date.now();
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    readonly sessionKey: string,
    readonly txnNumber: number,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get hasWrites(): boolean {
    for (const m of this.writes.values()) if (m.size > 0) return true;
    return false;
  }

  writesFor(ns: string): Map<string, Doc | null> | undefined {
    return this.writes.get(ns);
  }

  /** Versions this transaction sees instead of the committed ones (its own writes win over its snapshot). */
  overrides(ns: string): Map<string, Doc | null> | undefined {
    const w = this.writes.get(ns);
    const p = this.pre.get(ns);
    if (!p || p.size === 0) return w && w.size > 0 ? w : undefined;
    if (!w || w.size === 0) return p;
    const merged = new Map(p);
    for (const [k, v] of w) merged.set(k, v);
    return merged;
  }

  recordWrite(coll: Collection, key: string, doc: Doc | null): void {
    let m = this.writes.get(coll.ns);
    if (!m) this.writes.set(coll.ns, (m = new Map()));
    this.colls.set(coll.ns, coll);
    m.set(key, doc);
  }

  /** Someone else committed a change to `key`: remember what this snapshot saw, once. */
  notePreImage(ns: string, key: string, before: Doc | null): void {
    if (this.writes.get(ns)?.has(key)) return;
    let m = this.pre.get(ns);
    if (!m) this.pre.set(ns, (m = new Map()));
    if (!m.has(key)) m.set(key, before);
  }

  finish(state: 'committed' | 'aborted'): void {
    this.state = state;
    this.resolveDone();
  }
}
