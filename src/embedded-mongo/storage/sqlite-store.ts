import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BSON, UUID } from 'bson';
import type { Doc } from '../bson-values';
import type { IndexSpec } from '../indexes/index-state';
import { DESERIALIZE_OPTIONS } from '../wire/protocol';
import { Collection, docKey } from './collection';
import type { DurableStore, Engine } from './engine';
import type { WriteBatch } from './write-batch';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS collections (id INTEGER PRIMARY KEY, db TEXT NOT NULL, name TEXT NOT NULL, meta BLOB NOT NULL, UNIQUE (db, name));
CREATE TABLE IF NOT EXISTS docs (coll INTEGER NOT NULL, k TEXT NOT NULL, doc BLOB NOT NULL, PRIMARY KEY (coll, k)) WITHOUT ROWID;
`;

/**
 * Durable state in one SQLite file (WAL). Each command's changes are committed in one SQLite transaction
 * before the reply is sent, so an acknowledged write survives the process being killed.
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

  constructor(private readonly db: Database.Database) {
    this.putDoc = db.prepare('INSERT OR REPLACE INTO docs (coll, k, doc) VALUES (?, ?, ?)');
    this.delDoc = db.prepare('DELETE FROM docs WHERE coll = ? AND k = ?');
    this.delColl = db.prepare('DELETE FROM collections WHERE id = ?');
    this.delCollDocs = db.prepare('DELETE FROM docs WHERE coll = ?');
    this.insColl = db.prepare('INSERT INTO collections (db, name, meta) VALUES (?, ?, ?)');
    this.updColl = db.prepare('UPDATE collections SET db = ?, name = ?, meta = ? WHERE id = ?');
    this.applyTx = db.transaction((batch: WriteBatch) => {
      for (const op of batch.ops) {
        switch (op.kind) {
          case 'put':
            this.putDoc.run(this.idOf(op.coll), op.key, op.raw ?? BSON.serialize(op.doc));
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
    this.applyTx(batch);
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
      const doc = BSON.deserialize(bytes, DESERIALIZE_OPTIONS);
      coll.applyPut(docKey(doc), undefined, doc);
    }
    for (const coll of byId.values()) {
      const holder = coll as unknown as { pendingSpecs?: IndexSpec[] };
      for (const spec of holder.pendingSpecs ?? []) coll.indexes.push(coll.buildIndex(spec));
      delete holder.pendingSpecs;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function openSqliteStore(dataDir: string, engine: Engine): DurableStore {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'embedded-mongo.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  const store = new SqliteStore(db);
  store.load(engine);
  return store;
}
