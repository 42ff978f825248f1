import net from 'node:net';
import { BSON, type Document } from 'bson';

/** Test-side raw wire client: builds OP_MSG / OP_QUERY frames and reads replies, without the driver. */
export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function header(len: number, requestId: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(len, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(0, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

export function opMsg(requestId: number, body: Document, opts: { sequence?: [string, Document[]]; moreToCome?: boolean; checksum?: boolean } = {}): Buffer {
  const parts: Buffer[] = [Buffer.from([0]), Buffer.from(BSON.serialize(body))];
  if (opts.sequence) {
    const [id, docs] = opts.sequence;
    const docBufs = docs.map((d) => Buffer.from(BSON.serialize(d)));
    const idBuf = Buffer.from(id + '\0', 'utf8');
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + idBuf.length + docBufs.reduce((n, b) => n + b.length, 0), 0);
    parts.push(Buffer.from([1]), size, idBuf, ...docBufs);
  }
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE((opts.moreToCome ? 2 : 0) | (opts.checksum ? 1 : 0), 0);
  const payload = Buffer.concat([flags, ...parts]);
  const len = 16 + payload.length + (opts.checksum ? 4 : 0);
  const msg = Buffer.concat([header(len, requestId, OP_MSG), payload]);
  if (!opts.checksum) return msg;
  const sum = Buffer.alloc(4);
  sum.writeUInt32LE(crc32c(msg), 0);
  return Buffer.concat([msg, sum]);
}

export function opQuery(requestId: number, collection: string, query: Document): Buffer {
  const body = Buffer.concat([
    Buffer.alloc(4), Buffer.from(collection + '\0', 'utf8'), Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), Buffer.from(BSON.serialize(query)),
  ]);
  return Buffer.concat([header(16 + body.length, requestId, OP_QUERY), body]);
}

export interface Reply {
  responseTo: number;
  opCode: number;
  doc: Document;
}

/** A socket that collects whole reply messages and reports when the server closes it. */
export class RawConnection {
  private buf = Buffer.alloc(0);
  private waiters: Array<(r: Reply | null) => void> = [];
  private replies: Reply[] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= this.buf.readInt32LE(0)) {
        const len = this.buf.readInt32LE(0);
        const msg = this.buf.subarray(0, len);
        this.buf = this.buf.subarray(len);
        const opCode = msg.readInt32LE(12);
        const docStart = opCode === OP_REPLY ? 36 : 21;
        const r = { responseTo: msg.readInt32LE(8), opCode, doc: BSON.deserialize(msg.subarray(docStart)) };
        const w = this.waiters.shift();
        if (w) w(r);
        else this.replies.push(r);
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
    socket.on('error', () => undefined);
  }

  static open(host: string, port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  send(b: Buffer): void {
    this.socket.write(b);
  }

  /** The next reply, or null if the server closed the connection first. */
  next(timeoutMs = 3000): Promise<Reply | null> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply')), timeoutMs);
      this.waiters.push((x) => {
        clearTimeout(timer);
        resolve(x);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export function hostPort(uri: string): { host: string; port: number } {
  const m = /^mongodb:\/\/(?:[^@/]*@)?([^,/:?]+)(?::(\d+))?/.exec(uri);
  if (!m) throw new Error(`cannot read host from ${uri}`);
  return { host: m[1], port: Number(m[2] ?? 27017) };
}
