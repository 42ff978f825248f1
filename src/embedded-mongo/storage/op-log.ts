/**
 * Encoding of the durable operation log: a command's document writes are appended as one SQLite row
 * (cheap to commit before replying) and folded into the documents table later, in small steps.
 * Record: u8 kind (1 put, 2 delete) · u32 collection id · u16 key length · key · [u32 length · BSON document].
 */
export interface LogOp {
  kind: 1 | 2;
  coll: number;
  key: string;
  doc?: Uint8Array;
}

/** Encodes `ops[from, to)` (puts carry BSON bytes, deletes none) without intermediate objects. */
export function encodeLog(ops: ReadonlyArray<LogOp>, from = 0, to = ops.length): Buffer {
  let size = 0;
  for (let i = from; i < to; i++) {
    const op = ops[i];
    size += 7 + Buffer.byteLength(op.key, 'utf8') + (op.kind === 1 ? 4 + op.doc!.length : 0);
  }
  const out = Buffer.allocUnsafe(size);
  let p = 0;
  for (let i = from; i < to; i++) {
    const op = ops[i];
    out[p] = op.kind;
    out.writeUInt32LE(op.coll, p + 1);
    const klen = out.write(op.key, p + 7, 'utf8');
    out.writeUInt16LE(klen, p + 5);
    p += 7 + klen;
    if (op.kind === 1) {
      out.writeUInt32LE(op.doc!.length, p);
      out.set(op.doc!, p + 4);
      p += 4 + op.doc!.length;
    }
  }
  return out;
}

export function* decodeLog(buf: Buffer): Generator<LogOp> {
  let p = 0;
  while (p < buf.length) {
    const kind = buf.readUInt8(p) as 1 | 2;
    const coll = buf.readUInt32LE(p + 1);
    const klen = buf.readUInt16LE(p + 5);
    const key = buf.toString('utf8', p + 7, p + 7 + klen);
    p += 7 + klen;
    if (kind === 1) {
      const dlen = buf.readUInt32LE(p);
      yield { kind, coll, key, doc: buf.subarray(p + 4, p + 4 + dlen) };
      p += 4 + dlen;
    } else {
      yield { kind, coll, key };
    }
  }
}
