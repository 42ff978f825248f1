import { Query } from 'mingo';
import { isPlainObject, type Doc } from '../bson-values';
import { badValue } from '../errors';
import type { BatchTransform } from './cursors';
import { QUERY_OPTIONS } from './mingo-options';
import { refuseUnsupported } from './refusals';

/** A batch projection through mingo, or undefined when the projection keeps whole documents. */
export function projector(projection: unknown, filter?: unknown): BatchTransform | undefined {
  if (projection === undefined || projection === null) return undefined;
  if (!isPlainObject(projection)) throw badValue('projection must be an object');
  if (Object.keys(projection).length === 0) return undefined;
  refuseUnsupported(projection, undefined, true);
  const positional = Object.keys(projection).some((k) => k.endsWith('.$'));
  const q = new Query(positional && isPlainObject(filter) ? filter : {}, QUERY_OPTIONS);
  return (docs) => {
    try {
      return q.find(docs, projection).all() as Doc[];
    } catch (e) {
      throw badValue((e as Error).message);
    }
  };
}
