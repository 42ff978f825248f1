import { cloneDeep, isPlainObject, keyOf, pathValues, type Doc } from '../bson-values';
import type { PipelineContext } from './aggregate';
import { matchingDocs } from './read';

function keysAt(doc: Doc, path: string): unknown[] {
  const vals = pathValues(doc, path).map((v) => (v === undefined ? null : v));
  return vals.length === 0 ? [null] : vals;
}

/**
 * Equality `$lookup` (from/localField/foreignField/as, no pipeline): fetches only the foreign documents
 * whose foreignField equals one of the input's local values — through an index when there is one —
 * instead of hashing the whole foreign collection. Undefined for other forms (mingo runs those).
 */
export function fastLookup(ctx: PipelineContext, docs: Doc[], spec: unknown, copy: boolean): Doc[] | undefined {
  if (!isPlainObject(spec) || spec.pipeline !== undefined || spec.let !== undefined) return undefined;
  const { from, localField, foreignField, as } = spec;
  if (typeof from !== 'string' || typeof localField !== 'string' || typeof foreignField !== 'string' || typeof as !== 'string') return undefined;
  const localKeys = docs.map((d) => keysAt(d, localField));
  const wanted = new Map<string, unknown>();
  for (const ks of localKeys) for (const k of ks) wanted.set(keyOf(k), k);
  const byKey = new Map<string, Doc[]>();
  const order = new Map<Doc, number>();
  const foreign = ctx.engine.collection(ctx.db, from);
  if (foreign && wanted.size > 0) {
    let seq = 0;
    for (const m of matchingDocs(foreign, { [foreignField]: { $in: [...wanted.values()] } }, ctx.txn)) {
      const doc = copy ? cloneDeep(m.doc) : m.doc;
      order.set(doc, seq++);
      const seen = new Set<string>();
      for (const k of keysAt(m.doc, foreignField)) {
        const key = keyOf(k);
        if (seen.has(key) || !wanted.has(key)) continue;
        seen.add(key);
        let list = byKey.get(key);
        if (!list) byKey.set(key, (list = []));
        list.push(doc);
      }
    }
  }
  return docs.map((doc, i) => {
    const keys = localKeys[i];
    let matched: Doc[];
    if (keys.length === 1) matched = [...(byKey.get(keyOf(keys[0])) ?? [])];
    else {
      const set = new Set<Doc>();
      for (const k of keys) for (const d of byKey.get(keyOf(k)) ?? []) set.add(d);
      matched = [...set].sort((a, b) => order.get(a)! - order.get(b)!);
    }
    const out = { ...doc };
    setTopOrPath(out, as, matched);
    return out;
  });
}

/** `as` may be a dotted path; copies the objects along it so no input document is written into. */
function setTopOrPath(doc: Doc, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = cur[parts[i]];
    cur[parts[i]] = isPlainObject(next) ? { ...next } : {};
    cur = cur[parts[i]] as Doc;
  }
  cur[parts[parts.length - 1]] = value;
}
