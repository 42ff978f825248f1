import type { ObjectId } from 'bson';
import type { Doc } from '../bson-values';
import { badValue, invalidOptions, MongoCommandError, WaitForTransaction, writeConflict } from '../errors';
import type { Engine } from '../storage/engine';
import type { WriteBatch } from '../storage/write-batch';
import type { WriteContext } from '../storage/writes';
import type { SessionState } from '../transactions/sessions';
import type { Txn } from '../transactions/txn';

export interface ServerInfo {
  host: string;
  port: number;
  setName: string;
  electionId: ObjectId;
  startedAt: Date;
}

export interface CommandContext {
  engine: Engine;
  server: ServerInfo;
  name: string;
  db: string;
  body: Doc;
  batch: WriteBatch;
  connectionId: number;
  session?: SessionState;
  txn?: Txn;
}

/** A reply document, or an already encoded BSON reply (cursor batches). */
export type CommandReply = Doc | Buffer;
export type CommandHandler = (ctx: CommandContext) => CommandReply | Promise<CommandReply>;

export function writeContext(ctx: CommandContext): WriteContext {
  return { engine: ctx.engine, batch: ctx.batch, txn: ctx.txn };
}

/** The collection name a command targets (`{ find: "users" }`). */
export function collectionName(ctx: CommandContext): string {
  const v = ctx.body[ctx.name];
  if (typeof v !== 'string' || v.length === 0) {
    throw invalidOptions(`collection name has invalid type ${typeof v}`);
  }
  if (v.includes('\0') || v.startsWith('$')) {
    throw new MongoCommandError(73, 'InvalidNamespace', `Invalid namespace specified '${ctx.db}.${v}'`);
  }
  return v;
}

export function ns(ctx: CommandContext, coll: string): string {
  return `${ctx.db}.${coll}`;
}

const WAIT_LIMIT_MS = 30_000;

/**
 * Runs one write; if it touches a document another session's transaction holds, waits for that transaction
 * to end (as mongod blocks such writes) and retries, up to 30 s, then answers WriteConflict.
 */
export function runBlockingWrite<T>(fn: () => T): T | Promise<T> {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof WaitForTransaction)) throw e;
    return waitAndRetry(fn, e);
  }
}

async function waitAndRetry<T>(fn: () => T, first: WaitForTransaction): Promise<T> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  let e: unknown = first;
  for (;;) {
    if (!(e instanceof WaitForTransaction)) throw e;
    const left = deadline - Date.now();
    if (left <= 0) throw writeConflict();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([e.done, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
    clearTimeout(timer);
    try {
      return fn();
    } catch (next) {
      e = next;
    }
  }
}

export function asNumber(v: unknown, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  const n = Number(typeof v === 'object' ? String(v) : v);
  if (Number.isNaN(n)) throw badValue(`expected a number, got ${String(v)}`);
  return n;
}
