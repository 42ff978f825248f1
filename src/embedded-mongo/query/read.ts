import type { Doc } from '../bson-values';
import type { Collection } from '../storage/collection';
import type { Txn } from '../transactions/txn';
import { compileFilter } from './filter';
import { planCandidates } from './planner';

export interface Match {
  key: string;
  doc: Doc;
}

/**
 * Documents visible to the reader (committed state, or the transaction's snapshot plus own writes)
 * that match `filter`, using an index when the filter allows. Lazy: nothing is copied.
 */
export function* matchingDocs(coll: Collection | undefined, filter: unknown, txn?: Txn): Generator<Match> {
  if (!coll) return;
  const test = compileFilter(filter, coll);
  const over = txn?.overrides(coll.ns);
  const ids = planCandidates(coll, filter);
  const docs = coll.docs;
  if (ids) {
    for (const key of ids) {
      if (over?.has(key)) continue;
      const doc = docs.get(key);
      if (doc && test(doc)) yield { key, doc };
    }
  } else if (!over) {
    for (const [key, doc] of docs) if (test(doc)) yield { key, doc };
  } else {
    for (const [key, doc] of docs) if (!over.has(key) && test(doc)) yield { key, doc };
  }
  if (over) for (const [key, doc] of over) if (doc && test(doc)) yield { key, doc };
}

/** Documents of `ids` (an index-ordered scan) that match `filter`, in that order. */
export function* orderedMatches(coll: Collection, ids: Iterable<string>, filter: unknown): Generator<Doc> {
  const test = compileFilter(filter, coll);
  for (const key of ids) {
    const doc = coll.docs.get(key);
    if (doc && test(doc)) yield doc;
  }
}
