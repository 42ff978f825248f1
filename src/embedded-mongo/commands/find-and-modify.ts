import type { Doc } from '../bson-values';
import { badValue, MongoCommandError } from '../errors';
import { projector } from '../query/projection';
import { matchingDocs, type Match } from '../query/read';
import { parseSort, sortDocs } from '../query/sort';
import { applyUpdate, type UpdateSpec } from '../query/update';
import { visibleDoc, writeDoc } from '../storage/writes';
import { runBlockingWrite, writeContext, type CommandContext } from './context';
import { refuseCollation, targetCollection, upsertDoc } from './write';

function project(doc: Doc | null, projection: unknown): Doc | null {
  if (!doc) return null;
  const t = projector(projection);
  return t ? t([doc])[0] : doc;
}

export async function findAndModify(ctx: CommandContext): Promise<Doc> {
  const b = ctx.body;
  refuseCollation(b.collation);
  const coll = targetCollection(ctx);
  const filter = (b.query ?? {}) as Doc;
  const remove = b.remove === true;
  const spec = b.update as UpdateSpec | undefined;
  if (remove && spec !== undefined) throw new MongoCommandError(9, 'FailedToParse', 'Cannot specify both an update and remove=true');
  if (!remove && spec === undefined) throw new MongoCommandError(9, 'FailedToParse', 'Either an update or remove=true must be specified');
  if (remove && b.upsert) throw new MongoCommandError(9, 'FailedToParse', 'Cannot specify both upsert=true and remove=true');
  if (spec !== undefined && typeof spec !== 'object') throw badValue('update must be an object or a pipeline');
  const projection = b.fields ?? b.projection;
  const sort = parseSort(b.sort);
  let target: Match | undefined;
  if (sort) {
    const all = [...matchingDocs(coll, filter, ctx.txn)];
    target = sortDocs(all, sort, (m) => m.doc, 1)[0];
  } else {
    target = matchingDocs(coll, filter, ctx.txn).next().value ?? undefined;
  }
  const wctx = writeContext(ctx);
  if (remove) {
    if (!target) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
    const key = target.key;
    const old = await runBlockingWrite(() => {
      const current = visibleDoc(coll, key, ctx.txn);
      if (current) writeDoc(wctx, coll, key, null, false);
      return current;
    });
    return { lastErrorObject: { n: old ? 1 : 0 }, value: project(old ?? null, projection), ok: 1 };
  }
  if (!target) {
    if (!b.upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    const created = await upsertDoc(ctx, coll, filter, spec!, b.arrayFilters as Doc[] | undefined);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: created._id },
      value: b.new ? project(created, projection) : null,
      ok: 1,
    };
  }
  const key = target.key;
  const [before, after] = await runBlockingWrite(() => {
    const current = visibleDoc(coll, key, ctx.txn) ?? target.doc;
    const r = applyUpdate(current, spec!, { coll, filter, arrayFilters: b.arrayFilters as Doc[] | undefined, inserting: false });
    if (r.changed) writeDoc(wctx, coll, key, r.doc, false);
    return [current, r.doc] as const;
  });
  return {
    lastErrorObject: { n: 1, updatedExisting: true },
    value: project(b.new ? after : before, projection),
    ok: 1,
  };
}
