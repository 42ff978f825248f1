import type { Binary } from 'bson';
import type { Doc } from '../bson-values';
import { MongoCommandError } from '../errors';
import type { Engine } from '../storage/engine';
import { commitTxn } from '../storage/writes';
import type { Txn } from '../transactions/txn';
import type { CommandContext } from './context';

function requireTxn(ctx: CommandContext): Txn {
  if (!ctx.txn) {
    throw new MongoCommandError(125, 'NoSuchTransaction', `${ctx.name} requires a transaction (lsid, txnNumber and autocommit: false)`);
  }
  return ctx.txn;
}

export function commitTransaction(ctx: CommandContext): Doc {
  const txn = requireTxn(ctx);
  if (txn.state === 'committed') return { ok: 1 };
  commitTxn(ctx.engine, txn, ctx.batch);
  return { ok: 1 };
}

/** Aborts, dropping collections the transaction created that hold nothing committed. */
export function abortTxn(engine: Engine, txn: Txn): void {
  engine.sessions.abort(txn);
  for (const coll of txn.createdColls) {
    if (coll.docs.size === 0 && coll.indexes.length === 0 && engine.collection(coll.db, coll.name) === coll) {
      const batch = engine.newBatch();
      engine.removeCollection(coll, batch);
      engine.flush(batch);
    }
  }
}

export function abortTransaction(ctx: CommandContext): Doc {
  const txn = requireTxn(ctx);
  abortTxn(ctx.engine, txn);
  return { ok: 1 };
}

export function endSessions(ctx: CommandContext): Doc {
  const list = (ctx.body.endSessions ?? []) as Array<{ id?: Binary }>;
  for (const lsid of list) {
    if (!lsid?.id) continue;
    const key = lsid.id.toString('hex');
    const s = ctx.engine.sessions.sessions.get(key);
    if (s?.txn && s.txn.state === 'in_progress') abortTxn(ctx.engine, s.txn);
    ctx.engine.sessions.endSession(key);
  }
  return { ok: 1 };
}
