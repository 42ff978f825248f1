import { ObjectId } from 'bson';
import { isPlainObject, keyOf, type Doc } from '../bson-values';
import { badValue, MongoCommandError } from '../errors';
import { LazyDoc } from '../storage/doc-store';
import { matchingDocs, type Match } from '../query/read';
import { applyUpdate, seedFromFilter, type UpdateSpec } from '../query/update';
import type { Collection } from '../storage/collection';
import { insertLazy, visibleDoc, writeDoc } from '../storage/writes';
import { collectionName, runBlockingWrite, writeContext, type CommandContext } from './context';

export function targetCollection(ctx: CommandContext): Collection {
  const name = collectionName(ctx);
  const existing = ctx.engine.collection(ctx.db, name);
  if (existing) return existing;
  const coll = ctx.engine.ensureCollection(ctx.db, name, ctx.batch);
  ctx.txn?.createdColls.add(coll);
  return coll;
}

/** A write error entry as mongod reports it, keeping keyPattern/keyValue for duplicate keys. */
export function writeError(index: number, e: unknown): Doc {
  if (e instanceof MongoCommandError) {
    if (e.code === 112) throw e;
    return { index, code: e.code, codeName: e.codeName, errmsg: e.message, ...e.extra };
  }
  throw e;
}

function checkId(doc: Doc): void {
  const id = doc._id;
  if (Array.isArray(id)) throw new MongoCommandError(53, 'InvalidIdField', `The '_id' value cannot be of type array`);
  if (id instanceof RegExp) throw new MongoCommandError(53, 'InvalidIdField', `The '_id' value cannot be of type regex`);
}

function firstKey(doc: Doc): string | undefined {
  for (const k in doc) return k;
  return undefined;
}

function withIdFirst(doc: Doc): Doc {
  if (doc._id === undefined) return { _id: new ObjectId(), ...doc };
  if (firstKey(doc) === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

export async function insert(ctx: CommandContext): Promise<Doc> {
  const docs = ctx.body.documents;
  if (!Array.isArray(docs)) throw badValue("'documents' must be an array");
  const coll = targetCollection(ctx);
  const wctx = writeContext(ctx);
  const ordered = ctx.body.ordered !== false;
  const writeErrors: Doc[] = [];
  let n = 0;
  for (let i = 0; i < docs.length; i++) {
    const given = docs[i] as Doc | LazyDoc;
    try {
      if (given instanceof LazyDoc) {
        const lazy = runBlockingWrite(() => insertLazy(wctx, coll, given));
        if (lazy instanceof Promise ? await lazy : lazy) {
          n++;
          continue;
        }
      }
      const obj = given instanceof LazyDoc ? given.materialize() : given;
      const doc = withIdFirst(obj);
      const raw = doc === obj && given instanceof LazyDoc ? given.raw : undefined;
      checkId(doc);
      const key = keyOf(doc._id);
      const pending = runBlockingWrite(() => writeDoc(wctx, coll, key, doc, true, raw));
      if (pending instanceof Promise) await pending;
      n++;
    } catch (e) {
      writeErrors.push(writeError(i, e));
      if (ordered) break;
    }
  }
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
}

interface UpdateStatement {
  q: Doc;
  u: UpdateSpec;
  multi?: boolean;
  upsert?: boolean;
  arrayFilters?: Doc[];
  collation?: Doc;
}

export function refuseCollation(collation: unknown): void {
  if (collation && isPlainObject(collation) && collation.locale !== 'simple') {
    throw new MongoCommandError(238, 'NotImplemented', 'Collations are not supported by the embedded MongoDB-compatible server; use a real MongoDB (MONGODB_URI) for it');
  }
}

/** Inserts the document an upsert creates; returns its _id. */
export async function upsertDoc(ctx: CommandContext, coll: Collection, filter: Doc, u: UpdateSpec, arrayFilters?: Doc[]): Promise<Doc> {
  const seed = seedFromFilter(filter);
  const { doc } = applyUpdate(seed, u, { coll, arrayFilters, inserting: true });
  const created = withIdFirst(doc);
  checkId(created);
  await runBlockingWrite(() => writeDoc(writeContext(ctx), coll, keyOf(created._id), created, true));
  return created;
}

export async function update(ctx: CommandContext): Promise<Doc> {
  const stmts = ctx.body.updates as UpdateStatement[];
  if (!Array.isArray(stmts)) throw badValue("'updates' must be an array");
  const coll = targetCollection(ctx);
  const wctx = writeContext(ctx);
  const ordered = ctx.body.ordered !== false;
  const writeErrors: Doc[] = [];
  const upserted: Doc[] = [];
  let n = 0;
  let nModified = 0;
  for (let i = 0; i < stmts.length; i++) {
    const s = stmts[i];
    try {
      refuseCollation(s.collation);
      if (!isPlainObject(s.u) && !Array.isArray(s.u)) throw badValue('update must be an object or a pipeline');
      if (s.multi && !Array.isArray(s.u) && Object.keys(s.u).every((k) => !k.startsWith('$')) && Object.keys(s.u).length > 0) {
        throw new MongoCommandError(9, 'FailedToParse', 'multi update is not supported for replacement-style update');
      }
      const matches: Match[] = [];
      for (const m of matchingDocs(coll, s.q, ctx.txn)) {
        matches.push(m);
        if (!s.multi) break;
      }
      for (const m of matches) {
        n++;
        const changed = await runBlockingWrite(() => {
          const current = visibleDoc(coll, m.key, ctx.txn) ?? m.doc;
          const r = applyUpdate(current, s.u, { coll, filter: s.q, arrayFilters: s.arrayFilters, inserting: false });
          if (r.changed) writeDoc(wctx, coll, m.key, r.doc, false);
          return r.changed;
        });
        if (changed) nModified++;
      }
      if (matches.length === 0 && s.upsert) {
        const created = await upsertDoc(ctx, coll, s.q, s.u, s.arrayFilters);
        upserted.push({ index: i, _id: created._id });
        n++;
      }
    } catch (e) {
      writeErrors.push(writeError(i, e));
      if (ordered) break;
    }
  }
  const reply: Doc = { n, nModified };
  if (upserted.length > 0) reply.upserted = upserted;
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  reply.ok = 1;
  return reply;
}

export async function remove(ctx: CommandContext): Promise<Doc> {
  const stmts = ctx.body.deletes as Array<{ q: Doc; limit: number; collation?: Doc }>;
  if (!Array.isArray(stmts)) throw badValue("'deletes' must be an array");
  const name = collectionName(ctx);
  const coll = ctx.engine.collection(ctx.db, name);
  const wctx = writeContext(ctx);
  const ordered = ctx.body.ordered !== false;
  const writeErrors: Doc[] = [];
  let n = 0;
  for (let i = 0; i < stmts.length; i++) {
    const s = stmts[i];
    try {
      refuseCollation(s.collation);
      if (!coll) continue;
      const matches: Match[] = [];
      for (const m of matchingDocs(coll, s.q, ctx.txn)) {
        matches.push(m);
        if (Number(s.limit) === 1) break;
      }
      for (const m of matches) {
        await runBlockingWrite(() => writeDoc(wctx, coll, m.key, null, false));
        n++;
      }
    } catch (e) {
      writeErrors.push(writeError(i, e));
      if (ordered) break;
    }
  }
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
}
