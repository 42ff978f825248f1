import { Aggregator } from 'mingo';
import { ObjectId } from 'bson';
import { cloneDeep, isPlainObject, keyOf, type Doc } from '../bson-values';
import { badValue, MongoCommandError } from '../errors';
import type { CommandContext } from '../commands/context';
import { runBlockingWrite, writeContext } from '../commands/context';
import { Collection } from '../storage/collection';
import { visibleDoc, writeDoc } from '../storage/writes';
import { QUERY_OPTIONS } from './mingo-options';
import { matchingDocs } from './read';

function target(spec: unknown, db: string): { db: string; coll: string } {
  if (typeof spec === 'string') return { db, coll: spec };
  if (isPlainObject(spec) && typeof spec.coll === 'string') return { db: typeof spec.db === 'string' ? spec.db : db, coll: spec.coll };
  throw badValue('$out/$merge target must be a collection name or { db, coll }');
}

function withId(doc: Doc): Doc {
  return doc._id === undefined ? { _id: new ObjectId(), ...doc } : doc;
}

/** `$out` replaces the target atomically (built aside, then swapped in); `$merge` writes document by document. */
export async function writeOutput(ctx: CommandContext, stage: Doc, results: Doc[]): Promise<void> {
  if (ctx.txn) {
    throw new MongoCommandError(263, 'OperationNotSupportedInTransaction', `${Object.keys(stage)[0]} cannot be used in a transaction`);
  }
  if ('$out' in stage) return out(ctx, target(stage.$out, ctx.db), results);
  return merge(ctx, stage.$merge, results);
}

function out(ctx: CommandContext, t: { db: string; coll: string }, results: Doc[]): void {
  const { engine, batch } = ctx;
  const old = engine.collection(t.db, t.coll);
  const fresh = new Collection(t.db, t.coll, old?.options ?? {});
  if (old) for (const idx of old.indexes) fresh.indexes.push(fresh.buildIndex(idx.spec));
  for (const r of results) {
    const doc = withId(r);
    const key = keyOf(doc._id);
    if (fresh.docs.has(key)) throw new MongoCommandError(11000, 'DuplicateKey', `E11000 duplicate key error collection: ${fresh.ns} index: _id_ dup key: { _id: ${JSON.stringify(doc._id)} }`, { keyPattern: { _id: 1 }, keyValue: { _id: doc._id } });
    for (const idx of fresh.indexes) {
      const c = idx.conflicts(doc, key)[0];
      if (c) throw idx.duplicateKeyError(fresh.ns, c.key);
    }
    fresh.applyPut(key, undefined, doc);
  }
  if (old) engine.removeCollection(old, batch);
  engine.addCollection(fresh);
  batch.meta(fresh);
  for (const [key, doc] of fresh.docs) batch.put(fresh, key, doc);
}

async function merge(ctx: CommandContext, spec: unknown, results: Doc[]): Promise<void> {
  const opts = (typeof spec === 'string' ? { into: spec } : spec) as Doc;
  if (!isPlainObject(opts)) throw badValue('$merge requires a specification object');
  const t = target(opts.into, ctx.db);
  const on = opts.on === undefined ? ['_id'] : Array.isArray(opts.on) ? (opts.on as string[]) : [String(opts.on)];
  const whenMatched = opts.whenMatched ?? 'merge';
  const whenNotMatched = opts.whenNotMatched ?? 'insert';
  const coll = ctx.engine.ensureCollection(t.db, t.coll, ctx.batch);
  const wctx = writeContext(ctx);
  for (const r of results) {
    const doc = withId(r);
    const filter: Doc = {};
    for (const f of on) {
      if (doc[f] === undefined) throw new MongoCommandError(51132, 'Location51132', `$merge write error: 'on' field '${f}' cannot be missing, null or an array`);
      filter[f] = doc[f];
    }
    await runBlockingWrite(() => {
      const found = matchingDocs(coll, filter).next().value;
      const existing = found ? visibleDoc(coll, found.key) : undefined;
      if (!found || !existing) {
        if (whenNotMatched === 'discard') return;
        if (whenNotMatched === 'fail') throw new MongoCommandError(13113, 'MergeStageNoMatchingDocument', '$merge could not find a matching document in the target collection for at least one document in the source collection');
        writeDoc(wctx, coll, keyOf(doc._id), doc, true);
        return;
      }
      let next: Doc;
      if (whenMatched === 'keepExisting') return;
      if (whenMatched === 'fail') {
        throw new MongoCommandError(11000, 'DuplicateKey', `$merge failed: a document with the same 'on' fields exists in ${coll.ns}`, { keyPattern: Object.fromEntries(on.map((f) => [f, 1])), keyValue: filter });
      }
      if (whenMatched === 'replace') next = { ...doc, _id: existing._id };
      else if (whenMatched === 'merge') next = { ...existing, ...doc, _id: existing._id };
      else if (Array.isArray(whenMatched)) {
        const variables = { new: doc, ...((opts.let as Doc) ?? {}) };
        next = new Aggregator(whenMatched as Doc[], { ...QUERY_OPTIONS, variables }).run([cloneDeep(existing)])[0] as Doc;
        next = { ...next, _id: existing._id };
      } else throw badValue(`unsupported $merge whenMatched: ${String(whenMatched)}`);
      writeDoc(wctx, coll, found.key, next, false);
    });
  }
}
