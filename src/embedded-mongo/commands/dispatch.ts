import type { Binary, Long } from 'bson';
import type { Doc } from '../bson-values';
import { commandNotFound, MongoCommandError } from '../errors';
import type { Engine } from '../storage/engine';
import * as admin from './admin';
import { aggregate } from './aggregate';
import type { CommandContext, CommandHandler, CommandReply, ServerInfo } from './context';
import { explain } from './explain';
import { findAndModify } from './find-and-modify';
import * as handshake from './handshake';
import * as indexes from './indexes';
import * as read from './read';
import { abortTransaction, abortTxn, commitTransaction, endSessions } from './transactions';
import * as write from './write';

const COMMANDS: Record<string, CommandHandler> = {
  hello: handshake.hello,
  isMaster: handshake.hello,
  ismaster: handshake.hello,
  ping: handshake.ping,
  buildInfo: handshake.buildInfo,
  buildinfo: handshake.buildInfo,
  serverStatus: handshake.serverStatus,
  saslStart: handshake.authRefused,
  authenticate: handshake.authRefused,
  listDatabases: admin.listDatabases,
  create: admin.create,
  drop: admin.drop,
  dropDatabase: admin.dropDatabase,
  listCollections: admin.listCollections,
  renameCollection: admin.renameCollection,
  createIndexes: indexes.createIndexes,
  listIndexes: indexes.listIndexes,
  dropIndexes: indexes.dropIndexes,
  deleteIndexes: indexes.dropIndexes,
  insert: write.insert,
  update: write.update,
  delete: write.remove,
  find: read.find,
  getMore: read.getMore,
  killCursors: read.killCursors,
  count: read.count,
  distinct: read.distinct,
  findAndModify: findAndModify,
  findandmodify: findAndModify,
  aggregate,
  explain,
  endSessions,
  commitTransaction,
  abortTransaction,
};

const RETRYABLE = new Set(['insert', 'update', 'delete', 'findAndModify', 'findandmodify']);
const IN_TRANSACTION = new Set(['find', 'getMore', 'insert', 'update', 'delete', 'findAndModify', 'findandmodify', 'aggregate',
  'distinct', 'commitTransaction', 'abortTransaction', 'killCursors', 'create', 'createIndexes']);

function txnNumberOf(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' ? v : Number((v as Long).toString());
}

/** Runs one command: session/transaction bookkeeping, retryable-write deduplication, durable flush before replying. */
export async function dispatch(engine: Engine, server: ServerInfo, body: Doc, connectionId: number): Promise<CommandReply> {
  const name = Object.keys(body)[0];
  const handler = name === undefined ? undefined : COMMANDS[name];
  if (!handler) throw commandNotFound(name ?? '');
  const db = typeof body.$db === 'string' ? body.$db : 'admin';
  const ctx: CommandContext = { engine, server, name, db, body, batch: engine.newBatch(), connectionId };
  const lsid = body.lsid as { id?: Binary } | undefined;
  const txnNumber = txnNumberOf(body.txnNumber);
  if (lsid?.id && name !== 'endSessions') ctx.session = engine.sessions.session(lsid.id.toString('hex'));
  const s = ctx.session;
  if (s && txnNumber !== undefined && body.autocommit === false) {
    if (!IN_TRANSACTION.has(name)) {
      throw new MongoCommandError(263, 'OperationNotSupportedInTransaction', `Cannot run '${name}' in a multi-document transaction.`);
    }
    ctx.txn = body.startTransaction === true ? engine.sessions.startTransaction(s, txnNumber) : engine.sessions.continueTransaction(s, txnNumber, name);
    return runInTransaction(ctx, handler);
  }
  if (s && txnNumber !== undefined && RETRYABLE.has(name)) {
    if (s.retried?.txnNumber === txnNumber) return s.retried.reply;
    if (txnNumber < s.highestTxnNumber) {
      throw new MongoCommandError(225, 'TransactionTooOld', `Retryable write with txnNumber ${txnNumber} is prohibited on session because a newer retryable write with txnNumber ${s.highestTxnNumber} has already started`);
    }
    s.highestTxnNumber = txnNumber;
    const reply = await runFlushed(ctx, handler);
    if (!Buffer.isBuffer(reply)) s.retried = { txnNumber, reply };
    return reply;
  }
  return runFlushed(ctx, handler);
}

async function runFlushed(ctx: CommandContext, handler: CommandHandler): Promise<CommandReply> {
  try {
    return await handler(ctx);
  } finally {
    ctx.engine.flush(ctx.batch);
  }
}

/** MongoDB aborts a transaction when one of its statements fails. */
async function runInTransaction(ctx: CommandContext, handler: CommandHandler): Promise<CommandReply> {
  const txn = ctx.txn!;
  txn.lastUse = Date.now();
  try {
    const reply = await runFlushed(ctx, handler);
    if (!Buffer.isBuffer(reply) && Array.isArray(reply.writeErrors) && txn.state === 'in_progress') abortTxn(ctx.engine, txn);
    return reply;
  } catch (e) {
    if (txn.state === 'in_progress' && ctx.name !== 'commitTransaction') abortTxn(ctx.engine, txn);
    if (e instanceof MongoCommandError && txn.state !== 'committed' && e.code === 112 && !e.errorLabels.includes('TransientTransactionError')) {
      e.errorLabels.push('TransientTransactionError');
    }
    throw e;
  }
}
