import { Query } from 'mingo';
import { isPlainObject, type Doc } from '../bson-values';
import { badValue } from '../errors';
import type { Collection } from '../storage/collection';
import { compileSimpleFilter } from './fast-filter';
import { QUERY_OPTIONS } from './mingo-options';
import { refuseUnsupported } from './refusals';

export type Matcher = (doc: Doc) => boolean;

const matchAll: Matcher = () => true;

/** Compiles a query filter with mingo after refusing what it cannot answer like MongoDB. */
export function compileFilter(filter: unknown, coll?: Collection): Matcher {
  if (filter === undefined || filter === null) return matchAll;
  if (typeof filter !== 'object' || Array.isArray(filter)) throw badValue('filter must be an object');
  if (Object.keys(filter).length === 0) return matchAll;
  refuseUnsupported(filter, coll);
  const simple = compileSimpleFilter(filter as Doc);
  if (simple) return simple;
  let q: Query;
  try {
    q = new Query(normalizeFilter(filter as Doc), QUERY_OPTIONS);
  } catch (e) {
    throw badValue((e as Error).message);
  }
  return (doc) => q.test(doc);
}

/** Rewrites where mingo's semantics differ from MongoDB's: `$mod` only ever matches numbers. */
function normalizeFilter(filter: Doc): Doc {
  const out: Doc = {};
  for (const [k, v] of Object.entries(filter)) {
    if ((k === '$and' || k === '$or' || k === '$nor') && Array.isArray(v)) {
      out[k] = v.map((x) => (isPlainObject(x) ? normalizeFilter(x) : x));
    } else if (!k.startsWith('$') && isPlainObject(v)) out[k] = normalizeCondition(v);
    else out[k] = v;
  }
  return out;
}

function normalizeCondition(cond: Doc): Doc {
  if (!Object.keys(cond).some((k) => k.startsWith('$'))) return cond;
  const out: Doc = { ...cond };
  if ('$mod' in out && !('$type' in out)) out.$type = 'number';
  if (isPlainObject(out.$not)) out.$not = normalizeCondition(out.$not);
  if (isPlainObject(out.$elemMatch)) out.$elemMatch = normalizeFilter(out.$elemMatch);
  return out;
}
