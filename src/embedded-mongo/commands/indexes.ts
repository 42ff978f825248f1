import { isPlainObject, keyOf, type Doc } from '../bson-values';
import { badValue, indexNotFound, MongoCommandError, namespaceNotFound, notSupported } from '../errors';
import type { IndexSpec } from '../indexes/index-state';
import { refuseUnsupported } from '../query/refusals';
import { ID_INDEX } from '../storage/collection';
import { collectionName, type CommandContext } from './context';
import { cursorReply } from './read';
import { targetCollection } from './write';

const ALLOWED_OPTIONS = new Set(['key', 'name', 'unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds', 'background', 'v', 'hidden']);

function defaultName(key: Doc): string {
  return Object.entries(key).map(([k, v]) => `${k}_${String(v)}`).join('_');
}

function normalize(raw: unknown): IndexSpec {
  if (!isPlainObject(raw) || !isPlainObject(raw.key) || Object.keys(raw.key).length === 0) {
    throw new MongoCommandError(67, 'CannotCreateIndex', "Error in specification: the 'key' field must be a non-empty object");
  }
  for (const [field, dir] of Object.entries(raw.key)) {
    if (dir === 'text') throw notSupported('Text indexes');
    if (dir === '2d' || dir === '2dsphere' || dir === 'geoHaystack') throw notSupported('Geospatial indexes');
    if (dir === 'hashed') throw notSupported('Hashed indexes');
    if (typeof dir !== 'number' || dir === 0) {
      throw new MongoCommandError(67, 'CannotCreateIndex', `Values in the index key pattern can only be positive or negative numbers: ${field}: ${String(dir)}`);
    }
    if (field.includes('$**')) throw notSupported('Wildcard indexes');
  }
  for (const opt of Object.keys(raw)) {
    if (!ALLOWED_OPTIONS.has(opt)) {
      if (opt === 'collation') throw notSupported('Index collations');
      throw new MongoCommandError(197, 'InvalidIndexSpecificationOption', `The field '${opt}' is not valid for an index specification.`);
    }
  }
  if (raw.partialFilterExpression !== undefined) refuseUnsupported(raw.partialFilterExpression);
  const spec: IndexSpec = { v: 2, key: { ...raw.key }, name: typeof raw.name === 'string' ? raw.name : defaultName(raw.key) };
  if (raw.unique) spec.unique = true;
  if (raw.sparse) spec.sparse = true;
  if (raw.partialFilterExpression) spec.partialFilterExpression = raw.partialFilterExpression as Doc;
  if (raw.expireAfterSeconds !== undefined) spec.expireAfterSeconds = Number(raw.expireAfterSeconds);
  return spec;
}

function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  return !!a.unique === !!b.unique && !!a.sparse === !!b.sparse && a.expireAfterSeconds === b.expireAfterSeconds &&
    keyOf(a.partialFilterExpression ?? null) === keyOf(b.partialFilterExpression ?? null);
}

export function createIndexes(ctx: CommandContext): Doc {
  const raw = ctx.body.indexes;
  if (!Array.isArray(raw) || raw.length === 0) throw badValue("Must specify at least one index to create");
  const createdCollectionAutomatically = !ctx.engine.collection(ctx.db, collectionName(ctx));
  const coll = targetCollection(ctx);
  const before = coll.indexes.length + 1;
  const specs = raw.map(normalize);
  for (const spec of specs) {
    if (keyOf(spec.key) === keyOf(ID_INDEX.key) && !spec.unique && !spec.sparse && !spec.partialFilterExpression) continue;
    const sameName = spec.name === '_id_' ? ID_INDEX : coll.findIndex(spec.name)?.spec;
    if (sameName) {
      if (keyOf(sameName.key) !== keyOf(spec.key)) {
        throw new MongoCommandError(86, 'IndexKeySpecsConflict', `An existing index has the same name as the requested index. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName)}`);
      }
      if (!sameOptions(sameName, spec)) {
        throw new MongoCommandError(85, 'IndexOptionsConflict', `An equivalent index already exists with the same name but different options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName)}`);
      }
      continue;
    }
    const sameKey = coll.indexes.find((i) => keyOf(i.spec.key) === keyOf(spec.key) &&
      keyOf(i.spec.partialFilterExpression ?? null) === keyOf(spec.partialFilterExpression ?? null));
    if (sameKey) {
      throw new MongoCommandError(85, 'IndexOptionsConflict', `Index already exists with a different name: ${sameKey.name}`);
    }
    coll.indexes.push(coll.buildIndex(spec));
  }
  ctx.batch.meta(coll);
  const after = coll.indexes.length + 1;
  const reply: Doc = { numIndexesBefore: before, numIndexesAfter: after, createdCollectionAutomatically };
  if (before === after) reply.note = 'all indexes already exist';
  reply.ok = 1;
  return reply;
}

export function listIndexes(ctx: CommandContext): Buffer {
  const name = collectionName(ctx);
  const coll = ctx.engine.collection(ctx.db, name);
  if (!coll) throw namespaceNotFound(`ns does not exist: ${ctx.db}.${name}`);
  const specs = coll.indexSpecs().map((s) => ({ ...s }));
  return cursorReply(ctx, `${ctx.db}.${name}`, specs[Symbol.iterator](), {});
}

export function dropIndexes(ctx: CommandContext): Doc {
  const name = collectionName(ctx);
  const coll = ctx.engine.collection(ctx.db, name);
  if (!coll) throw namespaceNotFound(`ns not found ${ctx.db}.${name}`);
  const nIndexesWas = coll.indexes.length + 1;
  const which = ctx.body.index;
  const names: string[] = [];
  if (which === '*') names.push(...coll.indexes.map((i) => i.name));
  else if (typeof which === 'string') names.push(which);
  else if (Array.isArray(which)) names.push(...which.map(String));
  else if (isPlainObject(which)) {
    const found = coll.indexes.find((i) => keyOf(i.spec.key) === keyOf(which));
    if (!found) throw indexNotFound(`can't find index with key: ${JSON.stringify(which)}`);
    names.push(found.name);
  } else throw badValue('invalid index specification');
  for (const n of names) {
    if (n === '_id_') throw new MongoCommandError(72, 'InvalidOptions', 'cannot drop _id index');
    if (!coll.findIndex(n)) throw indexNotFound(`index not found with name [${n}]`);
  }
  coll.indexes = coll.indexes.filter((i) => !names.includes(i.name));
  ctx.batch.meta(coll);
  return { nIndexesWas, ok: 1 };
}
