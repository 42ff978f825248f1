import { BSON, type Document, Long } from 'bson';
import { DESERIALIZE_OPTIONS } from '../bson-values';
import { LazyDoc } from '../storage/doc-store';
import { arrayDocuments, InvalidBson, scanRaw, type RawScan } from '../storage/raw-bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

const FLAG_CHECKSUM = 1;
const FLAG_MORE_TO_COME = 2;
const FLAG_EXHAUST_ALLOWED = 1 << 16;
const KNOWN_FLAGS = FLAG_CHECKSUM | FLAG_MORE_TO_COME | FLAG_EXHAUST_ALLOWED;

export { DESERIALIZE_OPTIONS };


export class ProtocolError extends Error {}

function scanOrFail(raw: Buffer): RawScan {
  try {
    return scanRaw(raw);
  } catch (e) {
    throw new ProtocolError(e instanceof InvalidBson ? `invalid BSON document: ${e.message}` : String(e));
  }
}

export interface IncomingMessage {
  requestId: number;
  opCode: number;
  body: Document;
  moreToCome: boolean;
  /** OP_QUERY: the legacy handshake, answered with OP_REPLY. */
  legacy: boolean;
}

function readCString(buf: Buffer, pos: number, end: number): [string, number] {
  const zero = buf.indexOf(0, pos);
  if (zero < 0 || zero >= end) throw new ProtocolError('unterminated cstring');
  return [buf.toString('utf8', pos, zero), zero + 1];
}

function readDoc(buf: Buffer, pos: number, end: number): [Buffer, number] {
  if (pos + 5 > end) throw new ProtocolError('truncated document');
  const size = buf.readInt32LE(pos);
  if (size < 5 || pos + size > end) throw new ProtocolError(`invalid document size ${size}`);
  return [buf.subarray(pos, pos + size), pos + size];
}

/** Parses one complete message (header included). Throws ProtocolError on anything malformed. */
export function parseMessage(buf: Buffer): IncomingMessage {
  const requestId = buf.readInt32LE(4);
  const opCode = buf.readInt32LE(12);
  if (opCode === OP_MSG) return parseOpMsg(buf, requestId);
  if (opCode === OP_QUERY) return parseOpQuery(buf, requestId);
  throw new ProtocolError(`unsupported opCode ${opCode}`);
}

function parseOpMsg(buf: Buffer, requestId: number): IncomingMessage {
  const flags = buf.readUInt32LE(16);
  if ((flags & 0xffff & ~KNOWN_FLAGS) !== 0) throw new ProtocolError(`unknown required OP_MSG flag bits ${flags}`);
  const end = flags & FLAG_CHECKSUM ? buf.length - 4 : buf.length;
  let pos = 20;
  let body: Document | undefined;
  const sequences: Array<[string, Buffer[]]> = [];
  while (pos < end) {
    const kind = buf[pos++];
    if (kind === 0) {
      if (body) throw new ProtocolError('more than one body section');
      const [bytes, next] = readDoc(buf, pos, end);
      body = BSON.deserialize(bytes, DESERIALIZE_OPTIONS);
      if (body.insert !== undefined && Array.isArray(body.documents)) {
        const raws = arrayDocuments(bytes, 'documents');
        if (raws) body.documents = raws.map((r) => new LazyDoc(r, scanOrFail(r)));
      }
      pos = next;
    } else if (kind === 1) {
      if (pos + 4 > end) throw new ProtocolError('truncated document sequence');
      const size = buf.readInt32LE(pos);
      const secEnd = pos + size;
      if (size < 5 || secEnd > end) throw new ProtocolError(`invalid document sequence size ${size}`);
      const [id, docsStart] = readCString(buf, pos + 4, secEnd);
      const raws: Buffer[] = [];
      let p = docsStart;
      while (p < secEnd) {
        const [bytes, next] = readDoc(buf, p, secEnd);
        raws.push(bytes);
        p = next;
      }
      sequences.push([id, raws]);
      pos = secEnd;
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new ProtocolError('OP_MSG without a body section');
  for (const [id, raws] of sequences) {
    // Inserted documents stay BSON until first read (validated here); other sequences are parsed now.
    body[id] = body.insert !== undefined && id === 'documents'
      ? raws.map((r) => new LazyDoc(r, scanOrFail(r)))
      : raws.map((r) => BSON.deserialize(r, DESERIALIZE_OPTIONS));
  }
  return { requestId, opCode: OP_MSG, body, moreToCome: (flags & FLAG_MORE_TO_COME) !== 0, legacy: false };
}

function parseOpQuery(buf: Buffer, requestId: number): IncomingMessage {
  const [collection, pos] = readCString(buf, 20, buf.length);
  const [bytes] = readDoc(buf, pos + 8, buf.length);
  let body = BSON.deserialize(bytes, DESERIALIZE_OPTIONS);
  if (body.$query && typeof body.$query === 'object') body = body.$query;
  const db = collection.endsWith('.$cmd') ? collection.slice(0, -5) : collection.split('.')[0];
  return { requestId, opCode: OP_QUERY, body: { ...body, $db: db }, moreToCome: false, legacy: true };
}

let nextRequestId = 1;

function header(len: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.allocUnsafe(16);
  h.writeInt32LE(len, 0);
  h.writeInt32LE(nextRequestId++ & 0x7fffffff, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** OP_MSG reply; `bodyBytes` is an already serialized BSON document. */
export function encodeOpMsg(responseTo: number, bodyBytes: Uint8Array): Buffer[] {
  const h = header(16 + 5 + bodyBytes.length, responseTo, OP_MSG);
  const flagsAndKind = Buffer.alloc(5);
  return [h, flagsAndKind, Buffer.from(bodyBytes.buffer, bodyBytes.byteOffset, bodyBytes.byteLength)];
}

export function encodeOpReply(responseTo: number, doc: Document): Buffer[] {
  const bytes = BSON.serialize(doc);
  const h = header(16 + 20 + bytes.length, responseTo, OP_REPLY);
  const fixed = Buffer.alloc(20);
  fixed.writeInt32LE(8, 0); // AwaitCapable
  fixed.writeBigInt64LE(0n, 4);
  fixed.writeInt32LE(0, 12);
  fixed.writeInt32LE(1, 16);
  return [h, fixed, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)];
}

/** Builds `{ cursor: { <batchField>: [docs], id, ns }, ok: 1 }` from pre-serialized documents, without re-encoding them. */
export function encodeCursorReply(batchField: string, docs: Buffer[], id: Long, ns: string, extra?: Document): Buffer {
  const parts: Buffer[] = [];
  let arrLen = 5;
  const keyBufs: Buffer[] = [];
  for (let i = 0; i < docs.length; i++) {
    const k = Buffer.from('\x03' + i + '\x00', 'latin1');
    keyBufs.push(k);
    arrLen += k.length + docs[i].length;
  }
  const arrHead = Buffer.alloc(4);
  arrHead.writeInt32LE(arrLen, 0);
  parts.push(arrHead);
  for (let i = 0; i < docs.length; i++) parts.push(keyBufs[i], docs[i]);
  parts.push(Buffer.from([0]));
  const tail = Buffer.from(BSON.serialize({ id, ns }));
  // cursor doc = int32 + [0x04 batchField\0 array] + tail elements (without tail's own length and terminator)
  const fieldHead = Buffer.from('\x04' + batchField + '\x00', 'latin1');
  const cursorLen = 4 + fieldHead.length + arrLen + (tail.length - 5) + 1;
  const cursorHead = Buffer.alloc(4);
  cursorHead.writeInt32LE(cursorLen, 0);
  const rest = Buffer.from(BSON.serialize({ ...(extra ?? {}), ok: 1 }));
  const outerHead = Buffer.from('\x03cursor\x00', 'latin1');
  const totalLen = 4 + outerHead.length + cursorLen + (rest.length - 5) + 1;
  const total = Buffer.alloc(4);
  total.writeInt32LE(totalLen, 0);
  return Buffer.concat([
    total, outerHead, cursorHead, fieldHead, ...parts,
    tail.subarray(4, tail.length - 1), Buffer.from([0]),
    rest.subarray(4, rest.length - 1), Buffer.from([0]),
  ]);
}
