import type { Doc } from '../bson-values';
import { SessionRegistry } from '../transactions/sessions';
import { CursorRegistry } from '../query/cursors';
import { Collection } from './collection';
import { WriteBatch } from './write-batch';

/** Where committed state is made durable (SQLite); absent in in-memory mode. */
export interface DurableStore {
  apply(batch: WriteBatch): void;
  close(): void;
}

/** All databases and collections, plus sessions and cursors. */
export class Engine {
  readonly dbs = new Map<string, Map<string, Collection>>();
  readonly sessions = new SessionRegistry();
  readonly cursors = new CursorRegistry();
  store?: DurableStore;
  connections = 0;

  collection(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** The collection, created implicitly (as MongoDB does on first write) when missing. */
  ensureCollection(db: string, name: string, batch: WriteBatch, options: Doc = {}): Collection {
    const existing = this.collection(db, name);
    if (existing) return existing;
    const coll = new Collection(db, name, options);
    this.addCollection(coll);
    batch.meta(coll);
    return coll;
  }

  addCollection(coll: Collection): void {
    let m = this.dbs.get(coll.db);
    if (!m) this.dbs.set(coll.db, (m = new Map()));
    m.set(coll.name, coll);
  }

  removeCollection(coll: Collection, batch: WriteBatch): void {
    const m = this.dbs.get(coll.db);
    m?.delete(coll.name);
    if (m && m.size === 0) this.dbs.delete(coll.db);
    this.cursors.killNamespace(coll.ns);
    batch.drop(coll);
  }

  newBatch(): WriteBatch {
    return new WriteBatch(this.store !== undefined);
  }

  flush(batch: WriteBatch): void {
    if (this.store && batch.ops.length > 0) this.store.apply(batch);
  }
}
