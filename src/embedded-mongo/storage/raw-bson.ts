import { isUtf8 } from 'node:buffer';
import { ObjectId } from 'bson';

export class InvalidBson extends Error {}

/** Top-level shape of a BSON document, read without materializing it. */
export interface RawScan {
  /** Offsets of the top-level elements' type bytes (names follow them, NUL-terminated). */
  offsets: number[];
  /** Top-level fields holding int64 or Decimal128 values anywhere below. */
  exotic: string[] | undefined;
}

/** Whether the top-level element at `off` is named `name` (compared as bytes, nothing decoded). */
function isNamed(buf: Buffer, off: number, name: Buffer): boolean {
  const p = off + 1;
  if (buf[p + name.length] !== 0) return false;
  for (let i = 0; i < name.length; i++) if (buf[p + i] !== name[i]) return false;
  return true;
}

const encodedNames = new Map<string, Buffer>();

function encodedName(name: string): Buffer {
  let b = encodedNames.get(name);
  if (!b) {
    b = Buffer.from(name, 'utf8');
    if (encodedNames.size < 10_000) encodedNames.set(name, b);
  }
  return b;
}

/** Offset of the top-level element `name`, if present. */
export function fieldOffset(buf: Buffer, scan: RawScan, name: string): number | undefined {
  const b = encodedName(name);
  for (const off of scan.offsets) if (isNamed(buf, off, b)) return off;
  return undefined;
}

const ID = Buffer.from('_id');

/** Whether the first top-level element is `_id`. */
export function startsWithId(buf: Buffer, scan: RawScan): boolean {
  return scan.offsets.length > 0 && isNamed(buf, scan.offsets[0], ID);
}

function cstringEnd(buf: Buffer, p: number, end: number): number {
  const z = buf.indexOf(0, p);
  if (z < 0 || z >= end) throw new InvalidBson('unterminated key');
  return z;
}

function stringEnd(buf: Buffer, p: number, end: number): number {
  if (p + 4 > end) throw new InvalidBson('truncated string');
  const len = buf.readInt32LE(p);
  const stop = p + 4 + len;
  if (len < 1 || stop > end || buf[stop - 1] !== 0) throw new InvalidBson('invalid string length');
  for (let i = p + 4; i < stop - 1; i++) {
    if (buf[i] >= 0x80) {
      if (!isUtf8(buf.subarray(p + 4, stop - 1))) throw new InvalidBson('invalid UTF-8 string');
      break;
    }
  }
  return stop;
}

/** Set by valueEnd when it meets an int64 or Decimal128 value (single-threaded scan state). */
let sawExotic = false;

/** End offset of the value at `p` of type `t`; validates nested documents. */
function valueEnd(buf: Buffer, t: number, p: number, end: number): number {
  let stop: number;
  switch (t) {
    case 0x01: case 0x09: case 0x11: stop = p + 8; break;
    case 0x12: sawExotic = true; stop = p + 8; break;
    case 0x13: sawExotic = true; stop = p + 16; break;
    case 0x02: case 0x0d: case 0x0e: return stringEnd(buf, p, end);
    case 0x03: case 0x04: case 0x0f: {
      if (p + 5 > end) throw new InvalidBson('truncated document');
      const len = buf.readInt32LE(p);
      stop = p + len;
      if (len < 5 || stop > end) throw new InvalidBson('invalid document length');
      if (t === 0x0f) return stop;
      walk(buf, p, stop);
      return stop;
    }
    case 0x05: {
      if (p + 5 > end) throw new InvalidBson('truncated binary');
      const len = buf.readInt32LE(p);
      if (len < 0) throw new InvalidBson('invalid binary length');
      stop = p + 5 + len;
      break;
    }
    case 0x06: case 0x0a: case 0x7f: case 0xff: stop = p; break;
    case 0x07: stop = p + 12; break;
    case 0x08: stop = p + 1; break;
    case 0x0b: stop = cstringEnd(buf, cstringEnd(buf, p, end) + 1, end) + 1; break;
    case 0x0c: stop = stringEnd(buf, p, end) + 12; break;
    case 0x10: stop = p + 4; break;
    default: throw new InvalidBson(`unknown BSON type ${t}`);
  }
  if (stop > end) throw new InvalidBson('truncated value');
  return stop;
}

function walk(buf: Buffer, start: number, end: number): void {
  if (buf[end - 1] !== 0) throw new InvalidBson('document not terminated');
  let p = start + 4;
  while (p < end - 1) {
    const t = buf[p];
    const k = cstringEnd(buf, p + 1, end);
    p = valueEnd(buf, t, k + 1, end - 1);
  }
  if (p !== end - 1) throw new InvalidBson('document length mismatch');
}

/** Validates a whole BSON document and reads its top level. Throws InvalidBson. */
export function scanRaw(buf: Buffer): RawScan {
  const end = buf.length;
  if (end < 5 || buf.readInt32LE(0) !== end || buf[end - 1] !== 0) throw new InvalidBson('invalid document');
  const offsets: number[] = [];
  let exotic: string[] | undefined;
  let p = 4;
  while (p < end - 1) {
    const t = buf[p];
    const k = cstringEnd(buf, p + 1, end);
    offsets.push(p);
    sawExotic = false;
    const start = p;
    p = valueEnd(buf, t, k + 1, end - 1);
    if (sawExotic) (exotic ??= []).push(buf.toString('utf8', start + 1, k));
  }
  if (p !== end - 1) throw new InvalidBson('document length mismatch');
  return { offsets, exotic };
}

/** Marker: the value is not a plain scalar; the caller materializes the document instead. */
export const NOT_SCALAR = Symbol('notScalar');

/** The value of the top-level element at `off` when it is a plain scalar (as BSON.deserialize would give it). */
export function readScalar(buf: Buffer, off: number): unknown {
  const t = buf[off];
  const v = buf.indexOf(0, off + 1) + 1;
  switch (t) {
    case 0x01: return buf.readDoubleLE(v);
    case 0x02: return buf.toString('utf8', v + 4, v + 4 + buf.readInt32LE(v) - 1);
    case 0x07: return new ObjectId(buf.subarray(v, v + 12));
    case 0x08: return buf[v] === 1;
    case 0x09: return new Date(buf.readUInt32LE(v) + buf.readInt32LE(v + 4) * 4294967296);
    case 0x0a: return null;
    case 0x10: return buf.readInt32LE(v);
    default: return NOT_SCALAR;
  }
}

/** The embedded documents of the top-level array `name` of a validated document, as byte ranges. */
export function arrayDocuments(buf: Buffer, name: string): Buffer[] | undefined {
  const scan = scanRaw(buf);
  const off = fieldOffset(buf, scan, name);
  if (off === undefined || buf[off] !== 0x04) return undefined;
  const start = buf.indexOf(0, off + 1) + 1;
  const end = start + buf.readInt32LE(start) - 1;
  const out: Buffer[] = [];
  let p = start + 4;
  while (p < end) {
    if (buf[p] !== 0x03) return undefined;
    const v = buf.indexOf(0, p + 1) + 1;
    const len = buf.readInt32LE(v);
    out.push(buf.subarray(v, v + len));
    p = v + len;
  }
  return out;
}

/** The `_id` key (as keyOf would give it) of an ObjectId `_id` at `off`, without allocating an ObjectId. */
export function objectIdKeyAt(buf: Buffer, off: number): string | undefined {
  if (buf[off] !== 0x07) return undefined;
  const v = buf.indexOf(0, off + 1) + 1;
  return 'o' + buf.toString('hex', v, v + 12);
}
