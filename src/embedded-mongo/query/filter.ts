import { Query } from 'mingo';
import type { Doc } from '../bson-values';
import { badValue } from '../errors';
import type { Collection } from '../storage/collection';
import { QUERY_OPTIONS } from './mingo-options';
import { refuseUnsupported } from './refusals';

export type Matcher = (doc: Doc) => boolean;

const matchAll: Matcher = () => true;

/** Compiles a query filter with mingo after refusing what it cannot answer like MongoDB. */
export function compileFilter(filter: unknown, coll?: Collection): Matcher {
  if (filter === undefined || filter === null) return matchAll;
  if (typeof filter !== 'object' || Array.isArray(filter)) throw badValue('filter must be an object');
  if (Object.keys(filter).length === 0) return matchAll;
  refuseUnsupported(filter, coll);
  let q: Query;
  try {
    q = new Query(filter as Doc, QUERY_OPTIONS);
  } catch (e) {
    throw badValue((e as Error).message);
  }
  return (doc) => q.test(doc);
}
