import { Long } from 'bson';
import { compareValues, keyOf, pathValues, type Doc } from '../bson-values';
import { badValue, cursorNotFound, MongoCommandError } from '../errors';
import { projector } from '../query/projection';
import { matchingDocs, orderedMatches } from '../query/read';
import { sortedCandidates } from '../query/planner';
import { parseSort, sortDocs } from '../query/sort';
import type { BatchTransform, ServerCursor } from '../query/cursors';
import { encodeCursorReply } from '../wire/protocol';
import { asNumber, collectionName, ns, type CommandContext } from './context';
import { refuseCollation } from './write';

const DEFAULT_FIRST_BATCH = 101;
const ZERO = Long.fromNumber(0);

/** Opens a cursor over `docs` and answers its first batch (closing it at once when exhausted). */
export function cursorReply(ctx: CommandContext, namespace: string, docs: Iterator<Doc>, opts: {
  transform?: BatchTransform; limit?: number; batchSize?: number; singleBatch?: boolean;
}): Buffer {
  const cursors = ctx.engine.cursors;
  const cursor = cursors.open(namespace, docs, opts.transform, opts.limit ?? Infinity, ctx.txn);
  let batch: ReturnType<ServerCursor['nextBatch']>;
  try {
    batch = cursor.nextBatch(opts.batchSize);
  } catch (e) {
    cursors.kill(cursor.id);
    throw e;
  }
  const close = batch.exhausted || opts.singleBatch === true;
  if (close) cursors.kill(cursor.id);
  return encodeCursorReply('firstBatch', batch.docs, close ? ZERO : cursor.id, namespace);
}

function* skipIter(it: Iterator<Doc>, skip: number): Generator<Doc> {
  let skipped = 0;
  for (let r = it.next(); !r.done; r = it.next()) {
    if (skipped < skip) skipped++;
    else yield r.value;
  }
}

function* docsOf(gen: Generator<{ doc: Doc }>): Generator<Doc> {
  for (const m of gen) yield m.doc;
}

export function find(ctx: CommandContext): Buffer {
  const name = collectionName(ctx);
  const b = ctx.body;
  refuseCollation(b.collation);
  const coll = ctx.engine.collection(ctx.db, name);
  const skip = asNumber(b.skip, 0);
  const rawLimit = asNumber(b.limit, 0);
  if (skip < 0) throw badValue('skip value must be non-negative');
  const limit = rawLimit === 0 ? Infinity : Math.abs(rawLimit);
  const sort = parseSort(b.sort);
  const transform = projector(b.projection, b.filter);
  let source: Iterator<Doc>;
  const matches = matchingDocs(coll, b.filter, ctx.txn);
  const ordered = sort && coll && !ctx.txn?.overrides(coll.ns) ? sortedCandidates(coll, b.filter, sort) : undefined;
  if (ordered) {
    const docs = orderedMatches(coll!, ordered, b.filter);
    source = skip > 0 ? skipIter(docs, skip) : docs;
  } else if (sort) {
    const all: Doc[] = [];
    for (const m of matches) all.push(m.doc);
    const sorted = sortDocs(all, sort, (d) => d, limit === Infinity ? undefined : skip + limit);
    source = sorted.slice(skip)[Symbol.iterator]();
  } else {
    source = skip > 0 ? skipIter(docsOf(matches), skip) : docsOf(matches);
  }
  const batchSize = b.batchSize !== undefined ? asNumber(b.batchSize, DEFAULT_FIRST_BATCH) : DEFAULT_FIRST_BATCH;
  return cursorReply(ctx, ns(ctx, name), source, {
    transform, limit, batchSize: Math.min(batchSize > 0 ? batchSize : DEFAULT_FIRST_BATCH, limit),
    singleBatch: b.singleBatch === true || rawLimit < 0,
  });
}

export function getMore(ctx: CommandContext): Buffer {
  const id = ctx.body.getMore as Long;
  const namespace = `${ctx.db}.${String(ctx.body.collection)}`;
  const cursor = ctx.engine.cursors.get(id);
  if (!cursor) throw cursorNotFound(`cursor id ${String(id)} not found`);
  if (cursor.ns !== namespace) {
    throw new MongoCommandError(13, 'Unauthorized', `Requested getMore on namespace '${namespace}', but cursor belongs to a different namespace ${cursor.ns}`);
  }
  const batchSize = ctx.body.batchSize !== undefined ? asNumber(ctx.body.batchSize, 0) : undefined;
  let batch: ReturnType<ServerCursor['nextBatch']>;
  try {
    batch = cursor.nextBatch(batchSize);
  } catch (e) {
    ctx.engine.cursors.kill(id);
    throw e;
  }
  if (batch.exhausted) ctx.engine.cursors.kill(id);
  return encodeCursorReply('nextBatch', batch.docs, batch.exhausted ? ZERO : cursor.id, namespace);
}

export function killCursors(ctx: CommandContext): Doc {
  const ids = (ctx.body.cursors ?? []) as Long[];
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const id of ids) (ctx.engine.cursors.kill(id) ? killed : notFound).push(id);
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

export function count(ctx: CommandContext): Doc {
  const name = collectionName(ctx);
  const coll = ctx.engine.collection(ctx.db, name);
  const skip = asNumber(ctx.body.skip, 0);
  const limit = Math.abs(asNumber(ctx.body.limit, 0)) || Infinity;
  let n = 0;
  const q = ctx.body.query;
  if (coll && (!q || Object.keys(q as Doc).length === 0) && !ctx.txn) n = coll.docs.size;
  else for (const m of matchingDocs(coll, q, ctx.txn)) if (m) n++;
  n = Math.max(0, Math.min(n - skip, limit));
  return { n, ok: 1 };
}

export function distinct(ctx: CommandContext): Doc {
  const name = collectionName(ctx);
  const key = ctx.body.key;
  if (typeof key !== 'string') throw badValue("'key' must be a string");
  const coll = ctx.engine.collection(ctx.db, name);
  const seen = new Map<string, unknown>();
  for (const m of matchingDocs(coll, ctx.body.query, ctx.txn)) {
    for (const v of pathValues(m.doc, key)) {
      if (v === undefined) continue;
      const k = keyOf(v);
      if (!seen.has(k)) seen.set(k, v);
    }
  }
  const values = [...seen.values()].sort(compareValues);
  return { values, ok: 1 };
}
