import { compareValues, isPlainObject, keyOf, type Doc } from '../bson-values';

/** Raised while grouping when a document has a shape the fast path does not cover; mingo then runs the stage. */
class Unsupported extends Error {}

type Getter = (doc: Doc) => unknown;

/** A `$field.path` getter that refuses (falls back) when the path crosses an array. */
function fieldGetter(expr: string): Getter | undefined {
  if (expr === '$$ROOT' || expr === '$$CURRENT') return (doc) => doc;
  if (!expr.startsWith('$') || expr.startsWith('$$')) return undefined;
  const parts = expr.slice(1).split('.');
  if (parts.some((p) => p === '' || p.startsWith('$'))) return undefined;
  return (doc) => {
    let v: unknown = doc;
    for (const p of parts) {
      if (Array.isArray(v)) throw new Unsupported();
      if (!isPlainObject(v)) return undefined;
      v = v[p];
    }
    return v;
  };
}

function isConstant(v: unknown): boolean {
  return v === null || typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && !v.startsWith('$'));
}

/** Group key of a document: its hash string, and the `_id` value built only for a new group. */
type KeyOf = (doc: Doc) => [string, () => unknown];

function keyGetter(expr: unknown): KeyOf | undefined {
  if (isConstant(expr)) {
    const k = keyOf(expr);
    return () => [k, () => expr];
  }
  if (typeof expr === 'string') {
    const g = fieldGetter(expr);
    if (!g) return undefined;
    return (doc) => {
      const v = g(doc) ?? null;
      return [keyOf(v), () => v];
    };
  }
  if (!isPlainObject(expr) || Object.keys(expr).some((k) => k.startsWith('$'))) return undefined;
  const fields: Array<[string, Getter]> = [];
  for (const [k, v] of Object.entries(expr)) {
    const g = isConstant(v) ? () => v : typeof v === 'string' ? fieldGetter(v) : undefined;
    if (!g) return undefined;
    fields.push([k, g]);
  }
  return (doc) => {
    const vals = fields.map(([, g]) => g(doc));
    let key = 'O{';
    for (let i = 0; i < fields.length; i++) {
      if (vals[i] === undefined) continue;
      const k = keyOf(vals[i]);
      key += fields[i][0].length + ':' + fields[i][0] + k.length + ':' + k;
    }
    return [key + '}', () => {
      const out: Doc = {};
      fields.forEach(([name], i) => {
        if (vals[i] !== undefined) out[name] = vals[i];
      });
      return out;
    }];
  };
}

interface Accumulator {
  add(doc: Doc): void;
  result(): unknown;
}
type AccFactory = () => Accumulator;

const isNum = (v: unknown): v is number => typeof v === 'number';

/** Neumaier-compensated sum, closer to MongoDB's double-double summation than a naive sum. */
function summer(): { add(x: number): void; value(): number; count: number } {
  let sum = 0;
  let c = 0;
  let count = 0;
  return {
    add(x) {
      const t = sum + x;
      c += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
      sum = t;
      count++;
    },
    value: () => sum + c,
    get count() {
      return count;
    },
  };
}

function accumulator(spec: unknown): AccFactory | undefined {
  if (!isPlainObject(spec) || Object.keys(spec).length !== 1) return undefined;
  const [op, arg] = Object.entries(spec)[0];
  if (op === '$count' && isPlainObject(arg) && Object.keys(arg).length === 0) {
    return () => { let n = 0; return { add: () => void n++, result: () => n }; };
  }
  const get: Getter | undefined = isNum(arg) ? () => arg : typeof arg === 'string' ? fieldGetter(arg) : undefined;
  if (!get) return undefined;
  switch (op) {
    case '$sum':
      return () => { const s = summer(); return { add: (d) => { const v = get(d); if (isNum(v)) s.add(v); }, result: () => s.value() }; };
    case '$avg':
      return () => { const s = summer(); return { add: (d) => { const v = get(d); if (isNum(v)) s.add(v); }, result: () => (s.count ? s.value() / s.count : null) }; };
    case '$min':
    case '$max': {
      const sign = op === '$min' ? -1 : 1;
      return () => {
        let best: unknown;
        return {
          add: (d) => {
            const v = get(d);
            if (v === undefined || v === null) return;
            if (best === undefined || compareValues(v, best) * sign > 0) best = v;
          },
          result: () => best ?? null,
        };
      };
    }
    case '$first':
      return () => { let seen = false; let v: unknown = null; return { add: (d) => { if (!seen) { seen = true; v = get(d) ?? null; } }, result: () => v }; };
    case '$last':
      return () => { let v: unknown = null; return { add: (d) => { v = get(d) ?? null; }, result: () => v }; };
    case '$push':
      return () => { const out: unknown[] = []; return { add: (d) => { const v = get(d); if (v !== undefined) out.push(v); }, result: () => out }; };
    case '$addToSet':
      return () => {
        const seen = new Map<string, unknown>();
        return { add: (d) => { const v = get(d); if (v !== undefined) { const k = keyOf(v); if (!seen.has(k)) seen.set(k, v); } }, result: () => [...seen.values()] };
      };
    default:
      return undefined;
  }
}

/**
 * `$group` for the common shapes (field-path or constant keys, field-path accumulators $sum/$avg/$min/
 * $max/$first/$last/$push/$addToSet/$count) in one pass with hashed keys; undefined when the stage (or
 * a document met on the way) needs mingo.
 */
export function fastGroup(docs: Doc[], spec: unknown): Doc[] | undefined {
  if (!isPlainObject(spec) || !('_id' in spec)) return undefined;
  const key = keyGetter(spec._id);
  if (!key) return undefined;
  const accs: Array<[string, AccFactory]> = [];
  for (const [field, acc] of Object.entries(spec)) {
    if (field === '_id') continue;
    if (field.includes('.')) return undefined;
    const f = accumulator(acc);
    if (!f) return undefined;
    accs.push([field, f]);
  }
  const groups = new Map<string, { id: unknown; accs: Accumulator[] }>();
  try {
    for (const doc of docs) {
      const [k, makeId] = key(doc);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { id: makeId(), accs: accs.map(([, f]) => f()) }));
      for (const a of g.accs) a.add(doc);
    }
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  const out: Doc[] = [];
  for (const g of groups.values()) {
    const row: Doc = { _id: g.id };
    accs.forEach(([field], i) => (row[field] = g.accs[i].result()));
    out.push(row);
  }
  return out;
}
