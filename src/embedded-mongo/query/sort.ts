import { compareValues, isPlainObject, pathValues, type Doc } from '../bson-values';
import { badValue, notSupported } from '../errors';

export type SortSpec = Array<[string, 1 | -1]>;

export function parseSort(sort: unknown): SortSpec | undefined {
  if (sort === undefined || sort === null) return undefined;
  if (!isPlainObject(sort)) throw badValue('sort must be an object');
  const spec: SortSpec = [];
  for (const [k, v] of Object.entries(sort)) {
    if (isPlainObject(v)) throw notSupported(`Sorting by ${JSON.stringify(v)} ($meta text score)`);
    const n = Number(v);
    if (n !== 1 && n !== -1) throw badValue(`$sort key ordering must be 1 (for ascending) or -1 (for descending)`);
    spec.push([k, n]);
  }
  return spec.length > 0 ? spec : undefined;
}

/** MongoDB sort key of a field: the smallest array element ascending, the largest descending. */
function sortKey(doc: Doc, path: string, dir: 1 | -1): unknown {
  const vals = pathValues(doc, path);
  if (vals.length === 0) return null;
  let best: unknown = vals[0] === undefined ? null : vals[0];
  for (let i = 1; i < vals.length; i++) {
    const v = vals[i] === undefined ? null : vals[i];
    const c = compareValues(v, best);
    if ((dir === 1 && c < 0) || (dir === -1 && c > 0)) best = v;
  }
  return best;
}

/** Sorts (stable) with MongoDB's cross-type order; with `keep` only the first `keep` are kept. */
export function sortDocs<T>(items: T[], spec: SortSpec, docOf: (t: T) => Doc, keep?: number): T[] {
  const cmp = (a: { keys: unknown[] }, b: { keys: unknown[] }): number => {
    for (let i = 0; i < spec.length; i++) {
      const c = compareValues(a.keys[i], b.keys[i]);
      if (c !== 0) return c * spec[i][1];
    }
    return 0;
  };
  const decorate = (item: T) => ({ item, keys: spec.map(([p, d]) => sortKey(docOf(item), p, d)) });
  if (keep !== undefined && keep <= 5000 && items.length > keep * 4) return topK(items, keep, decorate, cmp);
  const decorated = items.map(decorate);
  decorated.sort(cmp);
  const out = keep !== undefined && keep < decorated.length ? decorated.slice(0, keep) : decorated;
  return out.map((d) => d.item);
}

/** The first `k` in sort order without sorting everything: a bounded, sorted buffer (ties keep input order). */
function topK<T, D extends { item: T }>(items: T[], k: number, decorate: (t: T) => D, cmp: (a: D, b: D) => number): T[] {
  const best: D[] = [];
  if (k <= 0) return [];
  for (const item of items) {
    const d = decorate(item);
    if (best.length === k && cmp(d, best[k - 1]) >= 0) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(best[mid], d) <= 0) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, d);
    if (best.length > k) best.pop();
  }
  return best.map((d) => d.item);
}
