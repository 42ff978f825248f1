import { type Doc, isPlainObject } from '../bson-values';
import { badValue, namespaceExists, namespaceNotFound, notSupported } from '../errors';
import { compileFilter } from '../query/filter';
import { Collection } from '../storage/collection';
import { collectionName, type CommandContext } from './context';
import { cursorReply } from './read';

export function create(ctx: CommandContext): Doc {
  const name = collectionName(ctx);
  if (ctx.engine.collection(ctx.db, name)) throw namespaceExists(`Collection ${ctx.db}.${name} already exists.`);
  const b = ctx.body;
  if (b.viewOn !== undefined) throw notSupported('Views (create with viewOn)');
  if (b.capped) throw notSupported('Capped collections');
  if (b.timeseries) throw notSupported('Time series collections');
  if (b.clusteredIndex) throw notSupported('Clustered collections');
  const options: Doc = {};
  for (const k of ['validator', 'validationLevel', 'validationAction', 'collation']) if (b[k] !== undefined) options[k] = b[k];
  if (options.validator) throw notSupported('Collection validators');
  if (options.collation) throw notSupported('Collections with a default collation');
  const coll = ctx.engine.ensureCollection(ctx.db, name, ctx.batch, options);
  ctx.txn?.createdColls.add(coll);
  return { ok: 1 };
}

export function drop(ctx: CommandContext): Doc {
  const name = collectionName(ctx);
  const coll = ctx.engine.collection(ctx.db, name);
  if (!coll) return { ok: 1 };
  const nIndexesWas = coll.indexes.length + 1;
  ctx.engine.removeCollection(coll, ctx.batch);
  return { nIndexesWas, ns: coll.ns, ok: 1 };
}

export function dropDatabase(ctx: CommandContext): Doc {
  const colls = ctx.engine.dbs.get(ctx.db);
  if (colls) for (const c of [...colls.values()]) ctx.engine.removeCollection(c, ctx.batch);
  return { dropped: ctx.db, ok: 1 };
}

export function listCollections(ctx: CommandContext): Buffer {
  const colls = [...(ctx.engine.dbs.get(ctx.db)?.values() ?? [])];
  const nameOnly = ctx.body.nameOnly === true;
  const infos = colls.map((c: Collection): Doc => nameOnly
    ? { name: c.name, type: 'collection' }
    : {
      name: c.name,
      type: 'collection',
      options: { ...c.options },
      info: { readOnly: false, uuid: c.uuid },
      idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
    });
  const filter = ctx.body.filter;
  const test = compileFilter(isPlainObject(filter) ? filter : undefined);
  const out = infos.filter((i) => test(i));
  out.sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1));
  return cursorReply(ctx, `${ctx.db}.$cmd.listCollections`, out[Symbol.iterator](), {});
}

export function listDatabases(ctx: CommandContext): Doc {
  const databases: Doc[] = [];
  let total = 0;
  for (const [name, colls] of ctx.engine.dbs) {
    if (colls.size === 0) continue;
    let docs = 0;
    for (const c of colls.values()) docs += c.docs.size;
    const sizeOnDisk = 4096 + docs * 64;
    total += sizeOnDisk;
    databases.push(ctx.body.nameOnly ? { name } : { name, sizeOnDisk, empty: docs === 0 });
  }
  const filter = isPlainObject(ctx.body.filter) ? compileFilter(ctx.body.filter) : () => true;
  const listed = databases.filter((d) => filter(d)).sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1));
  return ctx.body.nameOnly ? { databases: listed, ok: 1 } : { databases: listed, totalSize: total, totalSizeMb: Math.floor(total / 1048576), ok: 1 };
}

function splitNs(v: unknown): [string, string] {
  if (typeof v !== 'string' || !v.includes('.')) throw badValue(`Invalid namespace specified '${String(v)}'`);
  const i = v.indexOf('.');
  return [v.slice(0, i), v.slice(i + 1)];
}

export function renameCollection(ctx: CommandContext): Doc {
  const [fromDb, fromName] = splitNs(ctx.body.renameCollection);
  const [toDb, toName] = splitNs(ctx.body.to);
  const { engine, batch } = ctx;
  const source = engine.collection(fromDb, fromName);
  if (!source) throw namespaceNotFound('Source collection ' + `${fromDb}.${fromName} does not exist`);
  const existing = engine.collection(toDb, toName);
  if (existing === source) return { ok: 1 };
  if (existing) {
    if (ctx.body.dropTarget !== true) throw namespaceExists('target namespace exists');
    engine.removeCollection(existing, batch);
  }
  const moved = new Collection(toDb, toName, source.options);
  moved.indexes = source.indexes;
  for (const [k, d] of source.docs) moved.docs.set(k, d);
  for (const e of source.exotic) moved.exotic.add(e);
  engine.removeCollection(source, batch);
  engine.addCollection(moved);
  batch.meta(moved);
  for (const [k, d] of moved.docs) batch.put(moved, k, d);
  return { ok: 1 };
}
