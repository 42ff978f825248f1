import { keyOf, type Doc } from '../bson-values';
import { MongoCommandError, WaitForTransaction, writeConflict } from '../errors';
import type { IndexState } from '../indexes/index-state';
import type { Txn } from '../transactions/txn';
import { Collection, ID_INDEX } from './collection';
import type { Engine } from './engine';
import type { WriteBatch } from './write-batch';
import type { LazyDoc } from './doc-store';
import { NOT_SCALAR, objectIdKeyAt, readScalar, startsWithId } from './raw-bson';

export interface WriteContext {
  engine: Engine;
  batch: WriteBatch;
  txn?: Txn;
}

/** The version of a document the reader sees: its transaction's own writes and snapshot first. */
export function visibleDoc(coll: Collection, key: string, txn?: Txn): Doc | undefined {
  if (txn) {
    const w = txn.writes.get(coll.ns);
    if (w?.has(key)) return w.get(key) ?? undefined;
    const p = txn.pre.get(coll.ns);
    if (p?.has(key)) return p.get(key) ?? undefined;
  }
  return coll.docs.get(key);
}

function idDuplicate(coll: Collection, id: unknown): MongoCommandError {
  const err = new MongoCommandError(11000, 'DuplicateKey',
    `E11000 duplicate key error collection: ${coll.ns} index: _id_ dup key: { _id: ${JSON.stringify(id)} }`,
    { keyPattern: { _id: 1 }, keyValue: { _id: id } });
  return err;
}

function sharesKey(idx: IndexState, a: Doc, key: unknown[]): boolean {
  const keys = idx.keysFor(a);
  if (!keys) return false;
  const k = keyOf(key);
  return keys.some((x) => keyOf(x) === k);
}

/**
 * Unique-index check of `doc` (stored under `key`) against committed state and pending transaction writes.
 * Returns the document's keys per index, for the index update that follows.
 */
function checkUnique(ctx: WriteContext, coll: Collection, key: string, doc: Doc | undefined,
  allKeys: Array<unknown[][] | null> = coll.indexes.map((idx) => idx.keysFor(doc!))): Array<unknown[][] | null> {
  const writer = ctx.engine.sessions.writer;
  const pending = writer?.writes.get(coll.ns);
  for (let i = 0; i < coll.indexes.length; i++) {
    const idx = coll.indexes[i];
    if (!idx.isUnique) continue;
    for (const c of idx.conflicts(doc, key, allKeys[i])) {
      const mine = ctx.txn?.writes.get(coll.ns);
      if (mine?.has(c.id)) {
        const now = mine.get(c.id);
        if (!now || !sharesKey(idx, now, c.key)) continue;
      }
      throw idx.duplicateKeyError(coll.ns, c.key);
    }
    if (!pending || pending.size === 0) continue;
    const keys = allKeys[i];
    if (!keys) continue;
    for (const [id, other] of pending) {
      if (id === key || !other) continue;
      const hit = keys.find((k) => sharesKey(idx, other, k));
      if (!hit) continue;
      if (writer === ctx.txn) throw idx.duplicateKeyError(coll.ns, hit);
      throw new WaitForTransaction(writer!.done);
    }
  }
  return allKeys;
}

/**
 * Writes one document version (doc = null deletes). Inside a transaction the write stays private to it;
 * otherwise it is committed at once and queued for the durable store.
 */
export function writeDoc(ctx: WriteContext, coll: Collection, key: string, doc: Doc | null, isInsert: boolean, raw?: Uint8Array): void {
  const { engine, txn } = ctx;
  const sessions = engine.sessions;
  if (txn) {
    sessions.claimWriter(txn);
    if (txn.pre.get(coll.ns)?.has(key)) throw writeConflict();
    if (isInsert && visibleDoc(coll, key, txn)) throw idDuplicate(coll, doc!._id);
    if (isInsert && coll.docs.has(key) && !txn.writes.get(coll.ns)?.has(key)) throw idDuplicate(coll, doc!._id);
    if (doc) checkUnique(ctx, coll, key, doc);
    txn.recordWrite(coll, key, doc);
    return;
  }
  const writer = sessions.writer;
  if (writer && writer.writes.get(coll.ns)?.has(key)) throw new WaitForTransaction(writer.done);
  const old = coll.docs.get(key);
  if (isInsert && old) throw idDuplicate(coll, doc!._id);
  if (doc) {
    const keys = checkUnique(ctx, coll, key, doc);
    coll.applyPut(key, old, doc, keys, raw);
    ctx.batch.put(coll, key, doc, raw);
  } else if (old) {
    coll.applyDelete(key, old);
    ctx.batch.del(coll, key);
  }
  sessions.noteCommittedWrite(coll.ns, key, old ?? null);
}

/**
 * Inserts a document still in BSON form outside any transaction, when its `_id` and every index key could
 * be read from its bytes; returns false (nothing written) when it must be materialized and inserted normally.
 */
export function insertLazy(ctx: WriteContext, coll: Collection, lazy: LazyDoc): boolean {
  const scan = lazy.scan;
  if (ctx.txn || !scan || !startsWithId(lazy.raw, scan)) return false;
  const idOff = scan.offsets[0];
  let key = objectIdKeyAt(lazy.raw, idOff);
  if (key === undefined) {
    const id = readScalar(lazy.raw, idOff);
    if (id === NOT_SCALAR || id === null) return false;
    key = keyOf(id);
  }
  const keys: Array<unknown[][] | null> = [];
  for (const idx of coll.indexes) {
    const k = idx.keysForRaw(lazy.raw, scan);
    if (k === undefined) return false;
    keys.push(k);
  }
  const writer = ctx.engine.sessions.writer;
  if (writer && writer.writes.get(coll.ns)?.has(key)) throw new WaitForTransaction(writer.done);
  if (coll.docs.has(key)) throw idDuplicate(coll, readScalar(lazy.raw, idOff));
  checkUnique(ctx, coll, key, undefined, keys);
  coll.applyPutLazy(key, lazy, keys, scan.exotic);
  ctx.batch.put(coll, key, undefined, lazy.raw);
  ctx.engine.sessions.noteCommittedWrite(coll.ns, key, null);
  return true;
}

/** Applies a committed transaction's writes to the shared state, in one durable batch. */
export function commitTxn(engine: Engine, txn: Txn, batch: WriteBatch): void {
  for (const [ns, writes] of txn.writes) {
    let coll = txn.colls.get(ns)!;
    if (engine.collection(coll.db, coll.name) !== coll) {
      coll = engine.ensureCollection(coll.db, coll.name, batch, coll.options);
    }
    for (const [key, doc] of writes) {
      const old = coll.docs.get(key);
      if (doc) {
        coll.applyPut(key, old, doc);
        batch.put(coll, key, doc);
      } else if (old) {
        coll.applyDelete(key, old);
        batch.del(coll, key);
      }
      engine.sessions.noteCommittedWrite(ns, key, old ?? null, txn);
    }
  }
  engine.sessions.release(txn, 'committed');
}

export { ID_INDEX };
