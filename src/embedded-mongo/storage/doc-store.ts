import { BSON } from 'bson';
import { DESERIALIZE_OPTIONS, type Doc } from '../bson-values';
import type { RawScan } from './raw-bson';

/** The BSON bytes a stored document object was read from (non-enumerable; only on unmodified documents). */
export const RAW_BSON = Symbol('rawBson');

/**
 * A stored document kept as the BSON bytes the client sent, turned into an object on first read.
 * Bulk inserts then cost no deserialization, and unmodified documents are sent back byte for byte.
 */
export class LazyDoc {
  private obj?: Doc;

  constructor(
    readonly raw: Buffer,
    /** Its validated top level, needed only until it is stored (then dropped to save memory). */
    public scan: RawScan | undefined,
  ) {}

  materialize(): Doc {
    if (!this.obj) {
      const obj = BSON.deserialize(this.raw, DESERIALIZE_OPTIONS) as Doc;
      Object.defineProperty(obj, RAW_BSON, { value: this.raw, enumerable: false });
      this.obj = obj;
    }
    return this.obj;
  }
}

export function rawBsonOf(doc: Doc): Buffer | undefined {
  return (doc as { [RAW_BSON]?: Buffer })[RAW_BSON];
}

type Entry = Doc | LazyDoc;

function value(e: Entry): Doc {
  return e instanceof LazyDoc ? e.materialize() : e;
}

/** The documents of a collection by `_id` key; reads always see objects, materialized on demand. */
export class DocStore {
  private readonly m = new Map<string, Entry>();

  get size(): number {
    return this.m.size;
  }

  get(key: string): Doc | undefined {
    const e = this.m.get(key);
    return e === undefined ? undefined : value(e);
  }

  has(key: string): boolean {
    return this.m.has(key);
  }

  set(key: string, doc: Doc | LazyDoc): void {
    this.m.set(key, doc);
  }

  delete(key: string): boolean {
    return this.m.delete(key);
  }

  *keys(): Generator<string> {
    yield* this.m.keys();
  }

  *values(): Generator<Doc> {
    for (const e of this.m.values()) yield value(e);
  }

  *entries(): Generator<[string, Doc]> {
    for (const [k, e] of this.m) yield [k, value(e)];
  }

  [Symbol.iterator](): Generator<[string, Doc]> {
    return this.entries();
  }
}
