import { aggregate, update as mingoUpdate } from 'mingo';
import { cloneDeep, isPlainObject, keyOf, type Doc } from '../bson-values';
import { badValue, failedToParse, immutableField, MongoCommandError } from '../errors';
import type { Collection } from '../storage/collection';
import { QUERY_OPTIONS } from './mingo-options';
import { refuseStage, refuseUnsupported } from './refusals';

const MODIFIERS = new Set(['$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$push', '$pull', '$pullAll',
  '$addToSet', '$pop', '$currentDate', '$setOnInsert', '$bit']);
const ARITHMETIC = new Set(['$inc', '$mul', '$min', '$max', '$bit']);
const PIPELINE_UPDATE_STAGES = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);

export type UpdateSpec = Doc | Doc[];

export function isReplacement(u: UpdateSpec): boolean {
  return !Array.isArray(u) && Object.keys(u).every((k) => !k.startsWith('$'));
}

export interface UpdateOptions {
  coll?: Collection;
  filter?: Doc;
  arrayFilters?: Doc[];
  /** The document is being created by an upsert: `$setOnInsert` applies. */
  inserting: boolean;
}

function sameValue(a: unknown, b: unknown): boolean {
  return keyOf(a) === keyOf(b);
}

/** Applies an update (operators, replacement or pipeline) to a copy of `old`; `old` itself is untouched. */
export function applyUpdate(old: Doc, spec: UpdateSpec, opts: UpdateOptions): { doc: Doc; changed: boolean } {
  let doc: Doc;
  if (Array.isArray(spec)) doc = applyPipeline(old, spec, opts.coll);
  else if (isReplacement(spec)) {
    if ('_id' in spec && !sameValue(spec._id, old._id) && !opts.inserting) throw immutableField('_id');
    const { _id, ...rest } = spec;
    doc = { _id: old._id === undefined ? _id : old._id, ...cloneDeep(rest) };
    if (doc._id === undefined) delete doc._id;
  } else doc = applyOperators(old, spec, opts);
  if (!opts.inserting && !sameValue(doc._id, old._id)) throw immutableField('_id');
  const changed = opts.inserting || keyOf(doc) !== keyOf(old);
  return { doc, changed };
}

function applyPipeline(old: Doc, stages: Doc[], coll?: Collection): Doc {
  for (const s of stages) {
    const name = Object.keys(s)[0];
    refuseStage(name);
    if (!PIPELINE_UPDATE_STAGES.has(name)) {
      throw new MongoCommandError(72, 'InvalidOptions', `${name} is not allowed to be used within an update`);
    }
  }
  refuseUnsupported(stages, coll, true);
  const out = aggregate([cloneDeep(old)], stages, QUERY_OPTIONS)[0] as Doc;
  if (old._id !== undefined && out._id === undefined) return { _id: old._id, ...out };
  return cloneDeep(out);
}

function applyOperators(old: Doc, spec: Doc, opts: UpdateOptions): Doc {
  const mod: Doc = {};
  for (const [op, fields] of Object.entries(spec)) {
    if (!MODIFIERS.has(op)) {
      throw failedToParse(`Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
    }
    if (!isPlainObject(fields)) throw failedToParse(`Modifiers operate on fields but we found type ${typeof fields} instead.`);
    if (op === '$setOnInsert') continue;
    if (ARITHMETIC.has(op)) refuseArithmetic(fields, opts.coll);
    mod[op] = { ...fields };
  }
  if (opts.inserting && isPlainObject(spec.$setOnInsert)) {
    const set = (mod.$set ??= {}) as Doc;
    for (const [k, v] of Object.entries(spec.$setOnInsert)) {
      if (k in set) throw new MongoCommandError(40, 'ConflictingUpdateOperators', `Updating the path '${k}' would create a conflict at '${k}'`);
      set[k] = v;
    }
  }
  for (const op of Object.keys(mod)) {
    const fields = mod[op] as Doc;
    for (const path of Object.keys(fields)) {
      if (path !== '_id' && !path.startsWith('_id.')) continue;
      if (op === '$set' && path === '_id' && (sameValue(fields._id, old._id) || (opts.inserting && old._id === undefined))) {
        if (!opts.inserting || old._id !== undefined) delete fields._id;
        continue;
      }
      throw immutableField('_id');
    }
    if (Object.keys(fields).length === 0) delete mod[op];
  }
  const doc = cloneDeep(old);
  if (Object.keys(mod).length === 0) return doc;
  try {
    mingoUpdate(doc, mod, opts.arrayFilters, opts.filter, { cloneMode: 'deep', queryOptions: QUERY_OPTIONS });
  } catch (e) {
    if (e instanceof MongoCommandError) throw e;
    throw badValue((e as Error).message);
  }
  return doc;
}

function refuseArithmetic(fields: Doc, coll?: Collection): void {
  refuseUnsupported(Object.values(fields));
  if (!coll) return;
  for (const path of Object.keys(fields)) {
    if (coll.exotic.has(path.split('.')[0])) refuseUnsupported({ [path]: 1 }, coll);
  }
}

function setPath(doc: Doc, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = cur[parts[i]];
    if (!isPlainObject(next)) cur[parts[i]] = {};
    cur = cur[parts[i]] as Doc;
  }
  cur[parts[parts.length - 1]] = cloneDeep(value);
}

/** The document an upsert starts from: the filter's equality fields (MongoDB seeds upserts the same way). */
export function seedFromFilter(filter: Doc | undefined): Doc {
  const seed: Doc = {};
  const visit = (f: Doc): void => {
    for (const [k, v] of Object.entries(f)) {
      if (k === '$and' && Array.isArray(v)) {
        for (const sub of v) if (isPlainObject(sub)) visit(sub);
        continue;
      }
      if (k.startsWith('$')) continue;
      if (v instanceof RegExp) continue;
      if (isPlainObject(v)) {
        const keys = Object.keys(v);
        if (keys.length > 0 && keys.every((x) => x.startsWith('$'))) {
          if (keys.length === 1 && '$eq' in v) setPath(seed, k, v.$eq);
          continue;
        }
      }
      setPath(seed, k, v);
    }
  };
  if (filter) visit(filter);
  return seed;
}
