import { UUID } from 'bson';
import { exoticRoots, keyOf, type Doc } from '../bson-values';
import { IndexState, type IndexSpec } from '../indexes/index-state';
import { DocStore, type LazyDoc } from './doc-store';

export const ID_INDEX: IndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' };

/** Committed state of one collection. Stored documents are never mutated: writes replace them. */
export class Collection {
  readonly docs = new DocStore();
  indexes: IndexState[] = [];
  /** Top-level fields holding Long/Decimal128 values somewhere: queries over them are refused. */
  readonly exotic = new Set<string>();

  constructor(
    readonly db: string,
    public name: string,
    public options: Doc,
    readonly uuid: UUID = new UUID(),
  ) {}

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  findIndex(name: string): IndexState | undefined {
    return this.indexes.find((i) => i.name === name);
  }

  indexSpecs(): IndexSpec[] {
    return [ID_INDEX, ...this.indexes.map((i) => i.spec)];
  }

  /**
   * Writes a committed document version (checks already done by the caller). `newKeys` are the new
   * version's keys per index when the caller computed them already; `raw` its BSON, if at hand.
   */
  applyPut(key: string, oldDoc: Doc | undefined, newDoc: Doc, newKeys?: Array<unknown[][] | null>, raw?: Uint8Array): void {
    for (let i = 0; i < this.indexes.length; i++) {
      const idx = this.indexes[i];
      if (oldDoc) idx.remove(oldDoc, key);
      idx.add(newDoc, key, newKeys ? newKeys[i] : idx.keysFor(newDoc));
    }
    this.docs.set(key, newDoc);
    if (!raw || mayHoldExotic(raw)) exoticRoots(newDoc, this.exotic);
  }

  /** Stores a document still in BSON form; `keys` were read from its bytes (plain scalars, so not multikey). */
  applyPutLazy(key: string, lazy: LazyDoc, keys: Array<unknown[][] | null>, exotic: string[] | undefined): void {
    for (let i = 0; i < this.indexes.length; i++) this.indexes[i].addKeys(keys[i], key);
    lazy.scan = undefined;
    this.docs.set(key, lazy);
    if (exotic) for (const f of exotic) this.exotic.add(f);
  }

  applyDelete(key: string, oldDoc: Doc): void {
    for (const idx of this.indexes) idx.remove(oldDoc, key);
    this.docs.delete(key);
  }

  /** Builds a new index over the current documents; throws (leaving the collection unchanged) on duplicates. */
  buildIndex(spec: IndexSpec): IndexState {
    const idx = new IndexState(spec);
    for (const [key, doc] of this.docs) {
      const conflict = idx.isUnique ? idx.conflicts(doc, key)[0] : undefined;
      if (conflict) throw idx.duplicateKeyError(this.ns, conflict.key);
      idx.add(doc, key);
    }
    return idx;
  }
}

/** BSON type bytes 0x12 (int64) and 0x13 (decimal128) cannot occur if neither byte value occurs at all. */
function mayHoldExotic(raw: Uint8Array): boolean {
  return raw.indexOf(0x12) >= 0 || raw.indexOf(0x13) >= 0;
}

export function docKey(doc: Doc): string {
  return keyOf(doc._id);
}
