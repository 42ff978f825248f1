import { isPlainObject, type Doc } from '../bson-values';
import { notSupported } from '../errors';
import type { Collection } from '../storage/collection';

const REFUSED_QUERY_OPERATORS: Record<string, string> = {
  $where: '$where (server-side JavaScript)',
  $text: '$text (text search)',
  $near: '$near (geospatial query)',
  $nearSphere: '$nearSphere (geospatial query)',
  $geoWithin: '$geoWithin (geospatial query)',
  $geoIntersects: '$geoIntersects (geospatial query)',
  $within: '$within (geospatial query)',
  $jsonSchema: '$jsonSchema',
  $function: '$function (server-side JavaScript)',
  $accumulator: '$accumulator (server-side JavaScript)',
  $toLong: '$toLong (int64 arithmetic)',
  $toDecimal: '$toDecimal (Decimal128 arithmetic)',
  $meta: '$meta (text search score)',
};

/** BSON type names/numbers mingo cannot tell apart (int, long, double, decimal are all JS numbers or objects to it). */
const AMBIGUOUS_TYPES = new Set<unknown>(['int', 'long', 'double', 'decimal', 1, 16, 18, 19]);

function refuseTypeQuery(v: unknown): void {
  const list = Array.isArray(v) ? v : [v];
  for (const t of list) if (AMBIGUOUS_TYPES.has(t)) throw notSupported(`$type '${String(t)}' (telling int, long, double and decimal apart)`);
}

/**
 * Throws a NotImplemented error for anything mingo would answer differently from MongoDB:
 * script/text/geo operators, Long/Decimal128 operands, and queries over fields that hold Long/Decimal128.
 */
export function refuseUnsupported(expr: unknown, coll?: Collection, inExpression = false): void {
  walk(expr, coll, inExpression, 0);
}

function walk(v: unknown, coll: Collection | undefined, inExpr: boolean, depth: number): void {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'bigint') throw notSupported('Comparing or computing with int64 (Long) values');
    if (inExpr && typeof v === 'string' && coll && v.startsWith('$') && !v.startsWith('$$')) {
      const root = v.slice(1).split('.')[0];
      if (coll.exotic.has(root)) throw notSupported(`Computing with field '${root}', which holds Long or Decimal128 values,`);
    }
    return;
  }
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'Long') throw notSupported('Comparing or computing with int64 (Long) values');
  if (t === 'Decimal128') throw notSupported('Comparing or computing with Decimal128 values');
  if (Array.isArray(v)) {
    for (const e of v) walk(e, coll, inExpr, depth + 1);
    return;
  }
  if (!isPlainObject(v)) return;
  for (const [k, x] of Object.entries(v as Doc)) {
    if (k in REFUSED_QUERY_OPERATORS) throw notSupported(REFUSED_QUERY_OPERATORS[k]);
    if (k === '$type') {
      if (inExpr) throw notSupported('The $type aggregation expression (int/long/double/decimal are indistinguishable)');
      refuseTypeQuery(x);
    }
    if (!inExpr && coll && !k.startsWith('$')) {
      const root = k.split('.')[0];
      if (coll.exotic.has(root)) throw notSupported(`Querying field '${root}', which holds Long or Decimal128 values,`);
    }
    walk(x, coll, inExpr || k === '$expr', depth + 1);
  }
}

const REFUSED_STAGES: Record<string, string> = {
  $geoNear: '$geoNear (geospatial aggregation)',
  $search: '$search (Atlas Search)',
  $searchMeta: '$searchMeta (Atlas Search)',
  $vectorSearch: '$vectorSearch',
  $changeStream: 'Change streams ($changeStream)',
  $collStats: '$collStats',
  $indexStats: '$indexStats',
  $currentOp: '$currentOp',
  $listSessions: '$listSessions',
  $planCacheStats: '$planCacheStats',
  $graphLookup: '$graphLookup',
};

export function refuseStage(name: string): void {
  if (name in REFUSED_STAGES) throw notSupported(REFUSED_STAGES[name]);
}
