import net from 'node:net';
import { BSON } from 'bson';
import type { Doc } from '../bson-values';
import { dispatch } from '../commands/dispatch';
import type { ServerInfo } from '../commands/context';
import { MAX_MESSAGE_SIZE } from '../commands/handshake';
import { MongoCommandError } from '../errors';
import type { Engine } from '../storage/engine';
import { encodeOpMsg, encodeOpReply, parseMessage, ProtocolError, type IncomingMessage } from './protocol';

export type Logger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

const MIN_MESSAGE = 16;
/** A little above maxMessageSizeBytes, for the header and a checksum. */
const MAX_ACCEPTED = MAX_MESSAGE_SIZE + 64 * 1024;

function errorReply(e: unknown): Doc {
  if (e instanceof MongoCommandError) return e.toReply();
  return { ok: 0, errmsg: (e as Error)?.message ?? String(e), code: 1, codeName: 'InternalError' };
}

/** One client connection: frames messages, answers them strictly in order. */
class Connection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private queue: Buffer[] = [];
  private busy = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly id: number,
    private readonly engine: Engine,
    private readonly server: ServerInfo,
    private readonly log: Logger,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d) => this.onData(d));
    socket.on('error', () => socket.destroy());
  }

  private fail(reason: string): void {
    this.log('warn', 'embedded-mongo: closing connection after malformed message', { connectionId: this.id, reason });
    this.queue = [];
    this.chunks = [];
    this.buffered = 0;
    this.socket.destroy();
  }

  private onData(data: Buffer): void {
    if (this.socket.destroyed) return;
    this.chunks.push(data);
    this.buffered += data.length;
    while (this.buffered >= 4) {
      const head = this.chunks[0].length >= 4 ? this.chunks[0] : Buffer.concat(this.chunks);
      const len = head.readInt32LE(0);
      if (len < MIN_MESSAGE || len > MAX_ACCEPTED) return this.fail(`invalid message length ${len}`);
      if (this.buffered < len) return;
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.queue.push(all.subarray(0, len));
      const rest = all.subarray(len);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.drainQueue();
    } catch (e) {
      this.log('error', 'embedded-mongo: connection failed', { connectionId: this.id, error: String((e as Error)?.stack ?? e) });
      this.socket.destroy();
    } finally {
      this.busy = false;
    }
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0 && !this.socket.destroyed) {
      const raw = this.queue.shift()!;
      let msg: IncomingMessage;
      try {
        msg = parseMessage(raw);
      } catch (e) {
        return this.fail(e instanceof ProtocolError ? e.message : `undecodable message: ${(e as Error).message}`);
      }
      await this.answer(msg);
    }
  }

  private async answer(msg: IncomingMessage): Promise<void> {
    let reply: Doc | Buffer;
    try {
      reply = await dispatch(this.engine, this.server, msg.body, this.id);
    } catch (e) {
      if (!(e instanceof MongoCommandError)) this.log('error', 'embedded-mongo: command failed', { error: String((e as Error)?.stack ?? e) });
      reply = errorReply(e);
    }
    if (msg.moreToCome || this.socket.destroyed) return;
    let parts: Buffer[];
    try {
      if (msg.legacy) parts = encodeOpReply(msg.requestId, Buffer.isBuffer(reply) ? BSON.deserialize(reply) : reply);
      else parts = encodeOpMsg(msg.requestId, Buffer.isBuffer(reply) ? reply : BSON.serialize(reply));
    } catch (e) {
      parts = encodeOpMsg(msg.requestId, BSON.serialize(errorReply(new MongoCommandError(10334, 'BSONObjectTooLarge', (e as Error).message))));
    }
    this.socket.cork();
    for (const p of parts) this.socket.write(p);
    this.socket.uncork();
  }
}

export interface WireServer {
  server: net.Server;
  close(): Promise<void>;
}

export function listen(engine: Engine, info: Omit<ServerInfo, 'port'>, bindHost: string, port: number, log: Logger): Promise<{ wire: WireServer; port: number; info: ServerInfo }> {
  const sockets = new Set<net.Socket>();
  let nextId = 1;
  const serverInfo: ServerInfo = { ...info, port };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    engine.connections++;
    socket.on('close', () => {
      sockets.delete(socket);
      engine.connections--;
    });
    new Connection(socket, nextId++, engine, serverInfo, log);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bindHost, () => {
      server.off('error', reject);
      const addr = server.address() as net.AddressInfo;
      serverInfo.port = addr.port;
      const close = (): Promise<void> => new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      });
      resolve({ wire: { server, close }, port: addr.port, info: serverInfo });
    });
  });
}
