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
  const decorated = items.map((item) => ({ item, keys: spec.map(([p, d]) => sortKey(docOf(item), p, d)) }));
  const cmp = (a: { keys: unknown[] }, b: { keys: unknown[] }): number => {
    for (let i = 0; i < spec.length; i++) {
      const c = compareValues(a.keys[i], b.keys[i]);
      if (c !== 0) return c * spec[i][1];
    }
    return 0;
  };
  decorated.sort(cmp);
  const out = keep !== undefined && keep < decorated.length ? decorated.slice(0, keep) : decorated;
  return out.map((d) => d.item);
}
