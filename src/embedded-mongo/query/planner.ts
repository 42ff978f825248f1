import { isPlainObject, keyOf, typeRank, type Doc } from '../bson-values';
import type { IndexState, RangeBound } from '../indexes/index-state';
import type { Collection } from '../storage/collection';

/** Types an index bound may hold (numbers only when exact as doubles). */
function isIndexable(v: unknown): boolean {
  const r = typeRank(v);
  if (r === 3) {
    const t = (v as { _bsontype?: string })?._bsontype;
    return typeof v === 'number' || t === 'Int32' || t === 'Double';
  }
  return r === 4 || r === 8 || r === 9 || r === 10;
}

function isOperatorDoc(v: unknown): v is Doc {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

/** The equality values a condition pins a field to (one, or several for $in), if any. */
function equalityValues(cond: unknown): unknown[] | undefined {
  if (isIndexable(cond)) return [cond];
  if (!isOperatorDoc(cond)) return undefined;
  if ('$eq' in cond && isIndexable(cond.$eq)) return [cond.$eq];
  if (Array.isArray(cond.$in) && cond.$in.length > 0 && cond.$in.every(isIndexable)) return cond.$in;
  return undefined;
}

function rangeOf(cond: unknown): RangeBound | undefined {
  if (!isOperatorDoc(cond)) return undefined;
  const lo = cond.$gte !== undefined ? cond.$gte : cond.$gt;
  const hi = cond.$lte !== undefined ? cond.$lte : cond.$lt;
  if (lo === undefined && hi === undefined) return undefined;
  if ((lo !== undefined && !isIndexable(lo)) || (hi !== undefined && !isIndexable(hi))) return undefined;
  const rank = typeRank(lo !== undefined ? lo : hi);
  if (lo !== undefined && hi !== undefined && typeRank(hi) !== rank) return undefined;
  return { lo, loInc: cond.$gte !== undefined, hi, hiInc: cond.$lte !== undefined, rank };
}

function gather(filter: Doc, conds: Map<string, unknown>): void {
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) gather(sub, conds);
    } else if (!k.startsWith('$') && !conds.has(k)) conds.set(k, v);
  }
}

interface Plan {
  idx: IndexState;
  eq: unknown[];
  ins?: unknown[];
  range?: RangeBound;
  score: number;
}

export type ChosenPlan = { kind: 'id'; ids: unknown[] } | ({ kind: 'index' } & Plan);

/** The access path for `filter`: the `_id` map, the best index prefix, or null for a collection scan. */
export function choosePlan(coll: Collection, filter: unknown): ChosenPlan | null {
  if (!isPlainObject(filter)) return null;
  const conds = new Map<string, unknown>();
  gather(filter, conds);
  if (conds.size === 0) return null;
  const ids = conds.has('_id') ? equalityValues(conds.get('_id')) : undefined;
  if (ids) return { kind: 'id', ids };
  let best: Plan | undefined;
  for (const idx of coll.indexes) {
    if (!idx.coversAllMatches) continue;
    const eq: unknown[] = [];
    let plan: Plan | undefined;
    for (const f of idx.fields) {
      const vals = equalityValues(conds.get(f));
      if (vals && vals.length === 1) {
        eq.push(vals[0]);
        continue;
      }
      if (vals) plan = { idx, eq, ins: vals, score: eq.length * 2 + 1 };
      else {
        const range = rangeOf(conds.get(f));
        if (range) plan = { idx, eq, range, score: eq.length * 2 + 1 };
      }
      break;
    }
    plan ??= { idx, eq, score: eq.length * 2 };
    if (plan.score > 0 && (!best || plan.score > best.score)) best = plan;
  }
  return best ? { kind: 'index', ...best } : null;
}

/**
 * Ids of the documents that may match `filter`, found through the `_id` map or an index whose prefix the
 * filter pins by equality (then optionally $in or a range); null when only a full scan can answer.
 * The result is a superset: callers still apply the whole filter.
 */
export function planCandidates(coll: Collection, filter: unknown): string[] | null {
  const plan = choosePlan(coll, filter);
  if (!plan) return null;
  if (plan.kind === 'id') return [...new Set(plan.ids.map(keyOf))];
  const out = new Set<string>();
  if (plan.ins) {
    for (const v of plan.ins) for (const id of plan.idx.scan([...plan.eq, v])) out.add(id);
  } else {
    for (const id of plan.idx.scan(plan.eq, plan.range)) out.add(id);
  }
  return [...out];
}

/**
 * Ids in the order of `sort`, read from an index whose fields are the filter's equality prefix followed
 * by the sort fields (all ascending or all descending in the sort), so a limited sorted find stops early.
 */
export function sortedCandidates(coll: Collection, filter: unknown, sort: Array<[string, 1 | -1]>): Generator<string> | undefined {
  const conds = new Map<string, unknown>();
  if (isPlainObject(filter)) gather(filter, conds);
  const dir = sort[0][1];
  if (sort.some(([, d]) => d !== dir)) return undefined;
  for (const idx of coll.indexes) {
    const eq: unknown[] = [];
    let i = 0;
    for (; i < idx.fields.length; i++) {
      const vals = equalityValues(conds.get(idx.fields[i]));
      if (!vals || vals.length !== 1) break;
      eq.push(vals[0]);
    }
    const rest = idx.fields.slice(i, i + sort.length);
    if (rest.length !== sort.length || rest.some((f, j) => f !== sort[j][0])) continue;
    const scan = idx.orderedScan(eq, dir === -1);
    if (scan) return scan;
  }
  return undefined;
}
