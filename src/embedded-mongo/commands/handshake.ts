import { Long, Timestamp } from 'bson';
import type { Doc } from '../bson-values';
import { MongoCommandError } from '../errors';
import type { CommandContext } from './context';

export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
export const MAX_MESSAGE_SIZE = 48_000_000;
export const VERSION = '7.0.0';

/**
 * hello / isMaster: a single-member replica set (the driver runs transactions and retryable writes only
 * against replica sets), with setName always accompanied by hosts, me and primary. No topologyVersion:
 * the driver then polls instead of streaming awaitable hellos.
 */
export function hello(ctx: CommandContext): Doc {
  const { server } = ctx;
  const me = `${server.host}:${server.port}`;
  const legacy = ctx.name !== 'hello';
  const now = new Date();
  const opTime = { ts: new Timestamp({ t: Math.floor(now.getTime() / 1000), i: 1 }), t: Long.fromNumber(1) };
  const reply: Doc = {
    ...(legacy ? { ismaster: true } : { isWritablePrimary: true }),
    helloOk: true,
    setName: server.setName,
    setVersion: 1,
    hosts: [me],
    me,
    primary: me,
    secondary: false,
    electionId: server.electionId,
    lastWrite: { opTime, lastWriteDate: now, majorityOpTime: opTime, majorityWriteDate: now },
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE,
    maxWriteBatchSize: 100_000,
    localTime: now,
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  };
  if (ctx.body.saslSupportedMechs !== undefined) reply.saslSupportedMechs = [];
  return reply;
}

export function buildInfo(): Doc {
  return {
    version: VERSION,
    gitVersion: 'embedded',
    versionArray: [7, 0, 0, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    storageEngines: ['embedded-sqlite'],
    modules: [],
    javascriptEngine: 'none',
    ok: 1,
  };
}

export function serverStatus(ctx: CommandContext): Doc {
  const uptimeMs = Date.now() - ctx.server.startedAt.getTime();
  return {
    host: `${ctx.server.host}:${ctx.server.port}`,
    version: VERSION,
    process: 'embedded-mongo',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor(uptimeMs / 1000),
    uptimeMillis: Long.fromNumber(uptimeMs),
    localTime: new Date(),
    connections: { current: ctx.engine.connections, available: 1_000_000 - ctx.engine.connections },
    metrics: { cursor: { open: { total: Long.fromNumber(ctx.engine.cursors.size) } } },
    storageEngine: { name: ctx.engine.store ? 'embedded-sqlite' : 'embedded-memory', supportsCommittedReads: true, persistent: !!ctx.engine.store },
    ok: 1,
  };
}

export function ping(): Doc {
  return { ok: 1 };
}

export function authRefused(): Doc {
  throw new MongoCommandError(238, 'NotImplemented', 'Authentication is not supported by the embedded MongoDB-compatible server (it listens on loopback only); use a real MongoDB (MONGODB_URI) for it');
}
