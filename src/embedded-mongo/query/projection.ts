import { Query } from 'mingo';
import { isPlainObject, type Doc } from '../bson-values';
import { badValue } from '../errors';
import type { BatchTransform } from './cursors';
import { QUERY_OPTIONS } from './mingo-options';
import { refuseUnsupported } from './refusals';

/**
 * Top-level inclusion or exclusion projections (`{ a: 1, b: 1 }`, `{ secret: 0 }`) applied directly, in
 * MongoDB's way (document field order kept, `_id` included unless excluded); undefined for anything else.
 */
function simpleProjection(projection: Doc): BatchTransform | undefined {
  const include: string[] = [];
  const exclude: string[] = [];
  let idWanted = true;
  for (const [k, v] of Object.entries(projection)) {
    if (k.includes('.') || k.startsWith('$') || (typeof v !== 'number' && typeof v !== 'boolean')) return undefined;
    const on = v === true || (typeof v === 'number' && v !== 0);
    if (k === '_id') idWanted = on;
    else (on ? include : exclude).push(k);
  }
  if (include.length > 0 && exclude.length > 0) return undefined;
  if (include.length > 0) {
    const wanted = new Set(include);
    if (idWanted) wanted.add('_id');
    return (docs) => docs.map((d) => {
      const out: Doc = {};
      for (const k of Object.keys(d)) if (wanted.has(k)) out[k] = d[k];
      return out;
    });
  }
  const dropped = new Set(exclude);
  if (!idWanted) dropped.add('_id');
  return (docs) => docs.map((d) => {
    const out: Doc = {};
    for (const k of Object.keys(d)) if (!dropped.has(k)) out[k] = d[k];
    return out;
  });
}

/** A batch projection, or undefined when the projection keeps whole documents. */
export function projector(projection: unknown, filter?: unknown): BatchTransform | undefined {
  if (projection === undefined || projection === null) return undefined;
  if (!isPlainObject(projection)) throw badValue('projection must be an object');
  if (Object.keys(projection).length === 0) return undefined;
  refuseUnsupported(projection, undefined, true);
  const simple = simpleProjection(projection);
  if (simple) return simple;
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
