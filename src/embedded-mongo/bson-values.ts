import { Binary } from 'bson';
import { notSupported } from './errors';

export type Doc = Record<string, unknown>;

/** Documents as the server keeps them: Long and Decimal128 stay exact, Binary stays Binary. */
export const DESERIALIZE_OPTIONS = { promoteLongs: false, promoteValues: true, promoteBuffers: false } as const;

type Tagged = { _bsontype?: string };

/** MongoDB's cross-type order: MinKey, null, numbers, strings, objects, arrays, BinData, ObjectId, bool, Date, Timestamp, RegExp, MaxKey. */
export function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 2;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return 3;
    case 'string':
      return 4;
    case 'boolean':
      return 9;
    case 'object':
      break;
    default:
      return 5;
  }
  if (Array.isArray(v)) return 6;
  if (v instanceof Date) return 10;
  if (v instanceof RegExp) return 12;
  switch ((v as Tagged)._bsontype) {
    case undefined:
      return 5;
    case 'ObjectId':
      return 8;
    case 'Binary':
      return 7;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return 3;
    case 'Timestamp':
      return 11;
    case 'MinKey':
      return 1;
    case 'MaxKey':
      return 13;
    case 'BSONRegExp':
      return 12;
    case 'BSONSymbol':
      return 4;
    default:
      return 5;
  }
}

/** A JS number for a numeric BSON value, refusing values a double cannot hold exactly. */
export function toComparableNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw notSupported('Comparing int64 values beyond 2^53');
    return Number(v);
  }
  const t = (v as Tagged)._bsontype;
  if (t === 'Int32' || t === 'Double') return (v as { value: number }).value;
  if (t === 'Long') {
    const l = v as { toNumber(): number; toString(): string };
    const n = l.toNumber();
    if (!Number.isSafeInteger(n)) throw notSupported('Comparing or computing with int64 (Long) values beyond 2^53');
    return n;
  }
  throw notSupported('Comparing or computing with Decimal128 values');
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 3: {
      const x = toComparableNumber(a);
      const y = toComparableNumber(b);
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
      if (Number.isNaN(y)) return 1;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 4: {
      const x = typeof a === 'string' ? a : String((a as { value: string }).value);
      const y = typeof b === 'string' ? b : String((b as { value: string }).value);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 5:
      return compareObjects(a as Doc, b as Doc);
    case 6: {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case 7: {
      const x = a as Binary;
      const y = b as Binary;
      if (x.position !== y.position) return x.position - y.position;
      if (x.sub_type !== y.sub_type) return x.sub_type - y.sub_type;
      return compareBytes(x.buffer.subarray(0, x.position), y.buffer.subarray(0, y.position));
    }
    case 8:
      return compareBytes((a as { id: Uint8Array }).id, (b as { id: Uint8Array }).id);
    case 9:
      return (a ? 1 : 0) - (b ? 1 : 0);
    case 10:
      return (a as Date).getTime() - (b as Date).getTime();
    case 11: {
      const x = a as { t: number; i: number };
      const y = b as { t: number; i: number };
      return x.t !== y.t ? x.t - y.t : x.i - y.i;
    }
    case 12: {
      const x = String(a);
      const y = String(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    default:
      return 0;
  }
}

function compareObjects(a: Doc, b: Doc): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const va = a[ka[i]];
    const vb = b[kb[i]];
    const r = typeRank(va) - typeRank(vb);
    if (r !== 0) return r;
    if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
    const c = compareValues(va, vb);
    if (c !== 0) return c;
  }
  return ka.length - kb.length;
}

/** A canonical string such that two values are equal (for `_id` and index equality) iff their strings are equal. */
export function keyOf(v: unknown): string {
  if (v === undefined || v === null) return 'n';
  switch (typeof v) {
    case 'number':
      return 'd' + (v === 0 ? 0 : v);
    case 'string':
      return 's' + v;
    case 'boolean':
      return v ? 'T' : 'F';
    case 'bigint':
      return 'd' + v.toString();
    default:
      break;
  }
  if (v instanceof Date) return 't' + v.getTime();
  if (Array.isArray(v)) {
    let out = 'a[';
    for (const e of v) {
      const k = keyOf(e);
      out += k.length + ':' + k;
    }
    return out + ']';
  }
  const t = (v as Tagged)._bsontype;
  switch (t) {
    case 'ObjectId':
      return 'o' + (v as { toHexString(): string }).toHexString();
    case 'Int32':
    case 'Double':
      return 'd' + (v as { value: number }).value;
    case 'Long': {
      const n = (v as { toNumber(): number }).toNumber();
      return Number.isSafeInteger(n) ? 'd' + n : 'L' + String(v);
    }
    case 'Decimal128':
      return 'D' + String(v);
    case 'Binary': {
      const bin = v as Binary;
      return 'b' + bin.sub_type + ':' + Buffer.from(bin.buffer.subarray(0, bin.position)).toString('base64');
    }
    case undefined:
      if (v instanceof RegExp) return 'r' + String(v);
      return objectKey(v as Doc);
    default:
      return t + ':' + JSON.stringify(v);
  }
}

/** Length-prefixed, so no field name or value can imitate a separator. */
function objectKey(doc: Doc): string {
  let out = 'O{';
  for (const name in doc) {
    const k = keyOf(doc[name]);
    out += name.length + ':' + name + k.length + ':' + k;
  }
  return out + '}';
}

/** Deep copy of a document; immutable BSON values (ObjectId, Long, Decimal128 …) are shared, Binary and Date copied. */
export function cloneDeep<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const n = v.length;
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = cloneDeep(v[i]);
    return out as T;
  }
  if (v instanceof Date) return new Date(v.getTime()) as T;
  const t = (v as Tagged)._bsontype;
  if (t === undefined && !(v instanceof RegExp)) {
    const out: Doc = {};
    for (const k of Object.keys(v)) out[k] = cloneDeep((v as Doc)[k]);
    return out as T;
  }
  if (t === 'Binary') {
    const b = v as unknown as Binary;
    return new Binary(Buffer.from(b.buffer.subarray(0, b.position)), b.sub_type) as T;
  }
  return v;
}

/**
 * Values at a dotted path with MongoDB's array traversal: arrays met on the way are descended into,
 * numeric components index arrays. A leaf array contributes its elements (and itself when `withArrays`).
 */
export function pathValues(doc: unknown, path: string, withArrays = false): unknown[] {
  const out: unknown[] = [];
  collect(doc, path.split('.'), 0, out, withArrays);
  return out;
}

function collect(v: unknown, parts: string[], i: number, out: unknown[], withArrays: boolean): void {
  if (i === parts.length) {
    if (Array.isArray(v)) {
      if (withArrays) out.push(v);
      for (const e of v) out.push(e);
      if (v.length === 0 && !withArrays) out.push(undefined);
    } else out.push(v);
    return;
  }
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    const part = parts[i];
    if (/^\d+$/.test(part)) {
      collect(v[Number(part)], parts, i + 1, out, withArrays);
      return;
    }
    for (const e of v) if (e !== null && typeof e === 'object' && !Array.isArray(e)) collect(e, parts, i, out, withArrays);
    return;
  }
  if ((v as Tagged)._bsontype !== undefined || v instanceof Date) return;
  const next = (v as Doc)[parts[i]];
  if (next === undefined && i < parts.length) {
    if (i === parts.length - 1) return;
    return;
  }
  collect(next, parts, i + 1, out, withArrays);
}

export function isPlainObject(v: unknown): v is Doc {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date || v instanceof RegExp) return false;
  return (v as Tagged)._bsontype === undefined;
}

/** Top-level field names whose values (anywhere below) are Long or Decimal128, which mingo cannot compare or compute with. */
export function exoticRoots(doc: Doc, into: Set<string>): void {
  for (const k of Object.keys(doc)) if (hasExotic(doc[k])) into.add(k);
}

function hasExotic(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return typeof v === 'bigint';
  if (Array.isArray(v)) return v.some(hasExotic);
  const t = (v as Tagged)._bsontype;
  if (t === 'Long' || t === 'Decimal128') return true;
  if (t !== undefined || v instanceof Date) return false;
  for (const k in v as Doc) if (hasExotic((v as Doc)[k])) return true;
  return false;
}
