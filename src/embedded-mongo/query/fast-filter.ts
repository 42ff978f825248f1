import { compareValues, isPlainObject, keyOf, pathValues, typeRank, type Doc } from '../bson-values';

type Test = (doc: Doc) => boolean;

/** Direct references for the per-document tests (calls through the module namespace cost a lookup each). */
const cmpValues = compareValues;
const rankOf = typeRank;
const keyFor = keyOf;
const valuesOf = pathValues;

/** Operand types whose MongoDB comparison this module reproduces exactly (no null, regex, arrays, objects, Long, Decimal). */
function isScalar(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return !Number.isNaN(v);
    case 'object':
      return v instanceof Date || (v as { _bsontype?: string })?._bsontype === 'ObjectId';
    default:
      return false;
  }
}

function valuesAt(path: string): (doc: Doc) => unknown[] {
  if (path.includes('.')) return (doc) => valuesOf(doc, path);
  return (doc) => {
    const v = doc[path];
    if (v === undefined) return [];
    return Array.isArray(v) ? valuesOf(doc, path) : [v];
  };
}

function cmpTest(op: string, operand: unknown): ((x: unknown) => boolean) | undefined {
  if (op === '$in') {
    if (!Array.isArray(operand) || !operand.every(isScalar)) return undefined;
    const keys = new Set(operand.map(keyFor));
    return (x) => isScalar(x) && keys.has(keyFor(x));
  }
  if (!isScalar(operand)) return undefined;
  const rank = rankOf(operand);
  switch (op) {
    case '$eq':
      return (x) => rankOf(x) === rank && cmpValues(x, operand) === 0;
    case '$gt':
      return (x) => rankOf(x) === rank && cmpValues(x, operand) > 0;
    case '$gte':
      return (x) => rankOf(x) === rank && cmpValues(x, operand) >= 0;
    case '$lt':
      return (x) => rankOf(x) === rank && cmpValues(x, operand) < 0;
    case '$lte':
      return (x) => rankOf(x) === rank && cmpValues(x, operand) <= 0;
    default:
      return undefined;
  }
}

function fieldTest(path: string, cond: unknown): Test | undefined {
  if (path.startsWith('$') || path.split('.').some((p) => p === '' || /^\d+$/.test(p))) return undefined;
  const values = valuesAt(path);
  if (!isPlainObject(cond)) {
    const eq = cmpTest('$eq', cond);
    return eq && ((doc) => values(doc).some(eq));
  }
  const entries = Object.entries(cond);
  if (entries.length === 0 || !entries.every(([k]) => k.startsWith('$'))) return undefined;
  const parts: Test[] = [];
  for (const [op, operand] of entries) {
    if (op === '$ne') {
      const eq = cmpTest('$eq', operand);
      if (!eq) return undefined;
      parts.push((doc) => !values(doc).some(eq));
      continue;
    }
    if (op === '$exists') {
      const want = Boolean(operand);
      parts.push((doc) => (values(doc).length > 0) === want);
      continue;
    }
    const t = cmpTest(op, operand);
    if (!t) return undefined;
    parts.push((doc) => values(doc).some(t));
  }
  return parts.length === 1 ? parts[0] : (doc) => parts.every((p) => p(doc));
}

/**
 * A matcher for the common filter shapes (conjunctions of equality, $in, ranges, $ne and $exists over
 * plain scalar values) with MongoDB's semantics — type-bracketed comparisons, array elements — without
 * compiling a mingo query. Undefined for anything else.
 */
export function compileSimpleFilter(filter: Doc): Test | undefined {
  const parts: Test[] = [];
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) {
        if (!isPlainObject(sub)) return undefined;
        const t = compileSimpleFilter(sub);
        if (!t) return undefined;
        parts.push(t);
      }
      continue;
    }
    const t = fieldTest(k, v);
    if (!t) return undefined;
    parts.push(t);
  }
  if (parts.length === 1) return parts[0];
  return (doc) => {
    for (const p of parts) if (!p(doc)) return false;
    return true;
  };
}
