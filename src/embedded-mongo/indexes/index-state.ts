import { Query } from 'mingo';
import { compareValues, keyOf, pathValues, typeRank, type Doc } from '../bson-values';
import { MongoCommandError } from '../errors';
import { QUERY_OPTIONS } from '../query/mingo-options';
import { fieldOffset, NOT_SCALAR, readScalar, type RawScan } from '../storage/raw-bson';
import { SortedList } from './sorted-list';

export interface IndexSpec {
  v?: number;
  key: Doc;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Doc;
  expireAfterSeconds?: number;
  [option: string]: unknown;
}

interface Entry {
  key: unknown[];
  id: string;
}

export interface RangeBound {
  lo?: unknown;
  loInc: boolean;
  hi?: unknown;
  hiInc: boolean;
  rank: number;
}

/** Direct references: calls through the module namespace cost a property lookup each (hot path). */
const cmpValues = compareValues;

function compareKeys(a: unknown[], b: unknown[], n = a.length): number {
  for (let i = 0; i < n; i++) {
    const c = cmpValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

function compareEntries(a: Entry, b: Entry): number {
  return compareKeys(a.key, b.key) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** One secondary index: its definition and a sorted list of (key, document id) entries. */
export class IndexState {
  readonly fields: string[];
  private readonly simple: boolean[];
  private readonly partial?: Query;
  private readonly tree = new SortedList<Entry>(compareEntries);
  /** Some document had an array (or a dotted path) under this index: its order is not MongoDB's sort order. */
  private multikey = false;

  constructor(readonly spec: IndexSpec) {
    this.fields = Object.keys(spec.key);
    this.simple = this.fields.map((f) => !f.includes('.'));
    if (spec.partialFilterExpression) this.partial = new Query(spec.partialFilterExpression, QUERY_OPTIONS);
  }

  get name(): string {
    return this.spec.name;
  }

  get isUnique(): boolean {
    return this.spec.unique === true;
  }

  /** Usable to answer arbitrary queries on its fields (a partial index only covers part of the collection). */
  get coversAllMatches(): boolean {
    return !this.partial;
  }

  /** Index keys of a document; null when the document is not in this index (sparse or partial). */
  keysFor(doc: Doc): unknown[][] | null {
    if (this.partial && !this.partial.test(doc)) return null;
    if (this.fields.length === 1 && this.simple[0]) {
      const v = doc[this.fields[0]];
      if (!Array.isArray(v)) {
        if (v === undefined && this.spec.sparse) return null;
        return [[v === undefined ? null : v]];
      }
    }
    const perField: unknown[][] = [];
    let multi = -1;
    let allMissing = true;
    for (let i = 0; i < this.fields.length; i++) {
      const direct = this.simple[i] ? doc[this.fields[i]] : undefined;
      const vals = !this.simple[i] || Array.isArray(direct) ? pathValues(doc, this.fields[i]) : direct === undefined ? [] : [direct];
      if (vals.length === 0) perField.push([null]);
      else {
        allMissing = false;
        if (vals.length > 1) {
          if (multi >= 0) {
            throw new MongoCommandError(171, 'CannotIndexParallelArrays', `cannot index parallel arrays [${this.fields[i]}] [${this.fields[multi]}]`);
          }
          multi = i;
          const seen = new Set<string>();
          perField.push(vals.filter((v) => {
            const k = keyOf(v);
            if (seen.has(k)) return false;
            seen.add(k);
            return true;
          }));
        } else perField.push([vals[0] === undefined ? null : vals[0]]);
      }
    }
    if (this.spec.sparse && allMissing) return null;
    if (multi < 0) return [perField.map((v) => v[0])];
    return perField[multi].map((v) => perField.map((f, i) => (i === multi ? v : f[0])));
  }

  add(doc: Doc, id: string, keys = this.keysFor(doc)): void {
    if (!keys) return;
    if (!this.multikey && (keys.length > 1 || this.fields.some((f, i) => !this.simple[i] || Array.isArray(doc[f])))) this.multikey = true;
    for (const key of keys) this.tree.insert({ key, id });
  }

  addKeys(keys: unknown[][] | null, id: string): void {
    if (keys) for (const key of keys) this.tree.insert({ key, id });
  }

  /**
   * Keys of a document still in BSON form, when every indexed field is top-level and plain scalar or
   * missing; undefined when the document must be materialized first (partial index, dotted path, array …).
   */
  keysForRaw(raw: Buffer, scan: RawScan): unknown[][] | null | undefined {
    if (this.partial) return undefined;
    const key: unknown[] = [];
    let allMissing = true;
    for (let i = 0; i < this.fields.length; i++) {
      if (!this.simple[i]) return undefined;
      const off = fieldOffset(raw, scan, this.fields[i]);
      if (off === undefined) {
        key.push(null);
        continue;
      }
      const v = readScalar(raw, off);
      if (v === NOT_SCALAR) return undefined;
      allMissing = false;
      key.push(v);
    }
    if (this.spec.sparse && allMissing) return null;
    return [key];
  }

  /**
   * Ids with key prefix `eq`, in index order (reversed when `reverse`) — MongoDB's order for a sort on
   * the following fields, unless the index is multikey (then undefined).
   */
  orderedScan(eq: unknown[], reverse: boolean): Generator<string> | undefined {
    if (this.multikey || !this.coversAllMatches || this.spec.sparse) return undefined;
    const k = eq.length;
    const tree = this.tree;
    return (function* () {
      const inRange = (x: Entry) => compareKeys(x.key, eq, k) === 0;
      const entries = reverse
        ? tree.scanReverse((x) => compareKeys(x.key, eq, k) <= 0, inRange)
        : tree.scan((x) => compareKeys(x.key, eq, k) < 0, inRange);
      for (const e of entries) yield e.id;
    })();
  }

  remove(doc: Doc, id: string, keys = this.keysFor(doc)): void {
    if (keys) for (const key of keys) this.tree.remove({ key, id });
  }

  /** For a unique index: ids of other documents holding one of `doc`'s keys, with the key. */
  conflicts(doc: Doc | undefined, id: string, keys = doc ? this.keysFor(doc) : null): Array<{ id: string; key: unknown[] }> {
    if (!this.isUnique || !keys) return [];
    let out: Array<{ id: string; key: unknown[] }> | undefined;
    for (const key of keys) {
      this.tree.forEqual(function (x) { return compareKeys(x.key, key); }, function (e) {
        if (e.id !== id) (out ??= []).push({ id: e.id, key });
      });
    }
    return out ?? [];
  }

  /** Ids whose key starts with `eq` and whose next component lies within `range` (type-bracketed like MongoDB). */
  *scan(eq: unknown[], range?: RangeBound): Generator<string> {
    const k = eq.length;
    const before = (x: Entry): boolean => {
      const c = compareKeys(x.key, eq, k);
      if (c !== 0) return c < 0;
      if (!range) return false;
      const v = x.key[k];
      const r = typeRank(v);
      if (r !== range.rank) return r < range.rank;
      if (range.lo === undefined) return false;
      const d = compareValues(v, range.lo);
      return d < 0 || (d === 0 && !range.loInc);
    };
    const inRange = (x: Entry): boolean => {
      if (compareKeys(x.key, eq, k) !== 0) return false;
      if (!range) return true;
      const v = x.key[k];
      if (typeRank(v) !== range.rank) return false;
      if (range.hi === undefined) return true;
      const d = compareValues(v, range.hi);
      return d < 0 || (d === 0 && range.hiInc);
    };
    for (const e of this.tree.scan(before, inRange)) yield e.id;
  }

  duplicateKeyError(ns: string, key: unknown[]): MongoCommandError {
    const keyValue: Doc = {};
    this.fields.forEach((f, i) => (keyValue[f] = key[i]));
    const shown = this.fields.map((f, i) => `${f}: ${JSON.stringify(key[i])}`).join(', ');
    return new MongoCommandError(11000, 'DuplicateKey',
      `E11000 duplicate key error collection: ${ns} index: ${this.name} dup key: { ${shown} }`,
      { keyPattern: { ...this.spec.key }, keyValue });
  }

  clear(): void {
    this.tree.clear();
  }
}
