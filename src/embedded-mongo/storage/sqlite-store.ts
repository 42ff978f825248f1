import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BSON, UUID } from 'bson';
import type { Doc } from '../bson-values';
import type { IndexSpec } from '../indexes/index-state';
import { DESERIALIZE_OPTIONS } from '../wire/protocol';
import { decodeLog, encodeLog, type LogOp } from './op-log';
import { RAW_BSON } from './doc-store';
import { Collection, docKey } from './collection';
import type { DurableStore, Engine } from './engine';
import type { WriteBatch } from './write-batch';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS collections (id INTEGER PRIMARY KEY, db TEXT NOT NULL, name TEXT NOT NULL, meta BLOB NOT NULL, UNIQUE (db, name));
CREATE TABLE IF NOT EXISTS docs (coll INTEGER NOT NULL, k TEXT NOT NULL, doc BLOB NOT NULL, PRIMARY KEY (coll, k)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS oplog (seq INTEGER PRIMARY KEY, ops BLOB NOT NULL);
`;

/** Document writes per oplog row, so folding one row into the documents table is a short pause. */
const OPS_PER_LOG_ROW = 2000;
const FOLD_INTERVAL_MS = 25;

/**
 * Durable state in one SQLite file (WAL). Each command's changes are committed in one SQLite transaction
 * before the reply is sent, so an acknowledged write survives the process being killed. Document writes
 * go to an operation log (a few rows per command) that a background step folds into the documents table;
 * catalog changes (create, drop, indexes) first fold the whole log, then write directly.
 */
class SqliteStore implements DurableStore {
  private readonly ids = new WeakMap<Collection, number>();
  private readonly putDoc: Database.Statement;
  private readonly delDoc: Database.Statement;
  private readonly delColl: Database.Statement;
  private readonly delCollDocs: Database.Statement;
  private readonly insColl: Database.Statement;
  private readonly updColl: Database.Statement;
  private readonly applyTx: (batch: WriteBatch) => void;
  private readonly logTx: (batch: WriteBatch) => void;
  private readonly foldTx: (limit: number) => number;
  private readonly insLog: Database.Statement;
  private foldTimer?: NodeJS.Timeout;

  constructor(
    private readonly db: Database.Database,
    private readonly onError: (e: unknown) => void,
  ) {
    this.putDoc = db.prepare('INSERT OR REPLACE INTO docs (coll, k, doc) VALUES (?, ?, ?)');
    this.delDoc = db.prepare('DELETE FROM docs WHERE coll = ? AND k = ?');
    this.delColl = db.prepare('DELETE FROM collections WHERE id = ?');
    this.delCollDocs = db.prepare('DELETE FROM docs WHERE coll = ?');
    this.insColl = db.prepare('INSERT INTO collections (db, name, meta) VALUES (?, ?, ?)');
    this.updColl = db.prepare('UPDATE collections SET db = ?, name = ?, meta = ? WHERE id = ?');
    this.insLog = db.prepare('INSERT INTO oplog (ops) VALUES (?)');
    const firstLog = db.prepare('SELECT seq, ops FROM oplog ORDER BY seq LIMIT ?');
    const delLog = db.prepare('DELETE FROM oplog WHERE seq <= ?');
    this.logTx = db.transaction((batch: WriteBatch) => {
      const ops: LogOp[] = [];
      for (const op of batch.ops) {
        if (op.kind === 'put') ops.push({ kind: 1, coll: this.idOf(op.coll), key: op.key, doc: op.raw ?? BSON.serialize(op.doc!) });
        else if (op.kind === 'del') ops.push({ kind: 2, coll: this.idOf(op.coll), key: op.key });
      }
      for (let i = 0; i < ops.length; i += OPS_PER_LOG_ROW) this.insLog.run(encodeLog(ops, i, Math.min(ops.length, i + OPS_PER_LOG_ROW)));
    });
    this.foldTx = db.transaction((limit: number) => {
      const rows = firstLog.all(limit) as Array<{ seq: number; ops: Buffer }>;
      for (const row of rows) {
        for (const op of decodeLog(row.ops)) {
          if (op.kind === 1) this.putDoc.run(op.coll, op.key, op.doc);
          else this.delDoc.run(op.coll, op.key);
        }
      }
      if (rows.length > 0) delLog.run(rows[rows.length - 1].seq);
      return rows.length;
    });
    this.applyTx = db.transaction((batch: WriteBatch) => {
      for (const op of batch.ops) {
        switch (op.kind) {
          case 'put':
            this.putDoc.run(this.idOf(op.coll), op.key, op.raw ?? BSON.serialize(op.doc!));
            break;
          case 'del':
            this.delDoc.run(this.idOf(op.coll), op.key);
            break;
          case 'meta':
            this.writeMeta(op.coll);
            break;
          case 'drop': {
            const id = this.ids.get(op.coll);
            if (id !== undefined) {
              this.delCollDocs.run(id);
              this.delColl.run(id);
              this.ids.delete(op.coll);
            }
            break;
          }
        }
      }
    });
  }

  private meta(coll: Collection): Buffer {
    return Buffer.from(BSON.serialize({ options: coll.options, indexes: coll.indexes.map((i) => i.spec), uuid: coll.uuid }));
  }

  private writeMeta(coll: Collection): number {
    const id = this.ids.get(coll);
    if (id !== undefined) {
      this.updColl.run(coll.db, coll.name, this.meta(coll), id);
      return id;
    }
    const created = Number(this.insColl.run(coll.db, coll.name, this.meta(coll)).lastInsertRowid);
    this.ids.set(coll, created);
    return created;
  }

  private idOf(coll: Collection): number {
    return this.ids.get(coll) ?? this.writeMeta(coll);
  }

  apply(batch: WriteBatch): void {
    if (batch.ops.every((op) => op.kind === 'put' || op.kind === 'del')) {
      this.logTx(batch);
      this.scheduleFold();
      return;
    }
    this.foldAll();
    this.applyTx(batch);
  }

  private scheduleFold(): void {
    if (this.foldTimer) return;
    this.foldTimer = setTimeout(() => {
      this.foldTimer = undefined;
      if (!this.db.open) return;
      try {
        if (this.foldTx(1) > 0) this.scheduleFold();
      } catch (e) {
        // The log stays complete and is folded again at the next write or start; nothing acknowledged is lost.
        this.onError(e);
      }
    }, FOLD_INTERVAL_MS);
    this.foldTimer.unref();
  }

  /** Folds the whole operation log into the documents table. */
  foldAll(): void {
    while (this.foldTx(64) > 0);
  }

  /** Rebuilds collections, documents and indexes in memory from the file. */
  load(engine: Engine): void {
    const rows = this.db.prepare('SELECT id, db, name, meta FROM collections').all() as Array<{ id: number; db: string; name: string; meta: Buffer }>;
    const byId = new Map<number, Collection>();
    for (const row of rows) {
      const meta = BSON.deserialize(row.meta, DESERIALIZE_OPTIONS) as { options: Doc; indexes: IndexSpec[]; uuid?: UUID };
      const coll = new Collection(row.db, row.name, meta.options ?? {}, meta.uuid ? new UUID(meta.uuid.toHexString()) : undefined);
      const specs = meta.indexes ?? [];
      this.ids.set(coll, row.id);
      byId.set(row.id, coll);
      engine.addCollection(coll);
      (coll as unknown as { pendingSpecs: IndexSpec[] }).pendingSpecs = specs;
    }
    const it = this.db.prepare('SELECT coll, doc FROM docs').raw().iterate() as IterableIterator<[number, Buffer]>;
    for (const [collId, bytes] of it) {
      const coll = byId.get(collId);
      if (!coll) continue;
      const doc = withRaw(bytes);
      coll.applyPut(docKey(doc), undefined, doc);
    }
    const log = this.db.prepare('SELECT ops FROM oplog ORDER BY seq').raw().iterate() as IterableIterator<[Buffer]>;
    for (const [ops] of log) {
      for (const op of decodeLog(ops)) {
        const coll = byId.get(op.coll);
        if (!coll) continue;
        const old = coll.docs.get(op.key);
        if (op.kind === 1) coll.applyPut(op.key, old, withRaw(Buffer.from(op.doc!)));
        else if (old) coll.applyDelete(op.key, old);
      }
    }
    for (const coll of byId.values()) {
      const holder = coll as unknown as { pendingSpecs?: IndexSpec[] };
      for (const spec of holder.pendingSpecs ?? []) coll.indexes.push(coll.buildIndex(spec));
      delete holder.pendingSpecs;
    }
  }

  close(): void {
    if (this.foldTimer) clearTimeout(this.foldTimer);
    if (!this.db.open) return;
    this.foldAll();
    this.db.close();
  }
}

/** A stored document read back, remembering its bytes so it is sent back exactly as stored. */
function withRaw(bytes: Buffer): Doc {
  const doc = BSON.deserialize(bytes, DESERIALIZE_OPTIONS) as Doc;
  Object.defineProperty(doc, RAW_BSON, { value: bytes, enumerable: false });
  return doc;
}

export function openSqliteStore(dataDir: string, engine: Engine, onError: (e: unknown) => void = () => {}): DurableStore {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'embedded-mongo.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  const store = new SqliteStore(db, onError);
  store.load(engine);
  store.foldAll();
  return store;
}
