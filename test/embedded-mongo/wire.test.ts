import { Binary, Long } from 'bson';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { openTarget, type Target } from './target';
import { hostPort, opMsg, opQuery, OP_REPLY, RawConnection } from './raw-wire';

let target: Target;
let addr: { host: string; port: number };
const conns: RawConnection[] = [];

async function connect(): Promise<RawConnection> {
  const c = await RawConnection.open(addr.host, addr.port);
  conns.push(c);
  return c;
}

beforeAll(async () => {
  target = await openTarget('wire');
  addr = hostPort(target.uri);
});
afterAll(async () => {
  for (const c of conns) c.close();
  await target.close();
});

describe('wire protocol', () => {
  test('when the legacy OP_QUERY isMaster handshake arrives, then an OP_REPLY describes a writable primary', async () => {
    const c = await connect();
    c.send(opQuery(7, 'admin.$cmd', { isMaster: 1, helloOk: true }));
    const r = await c.next();
    expect(r).toMatchObject({ opCode: OP_REPLY, responseTo: 7, doc: { ok: 1, ismaster: true } });
    expect(r!.doc.maxWireVersion).toBeGreaterThanOrEqual(17);
    if (r!.doc.setName) expect(r!.doc).toMatchObject({ hosts: expect.any(Array), me: expect.any(String), primary: expect.any(String) });
  });

  test('when an OP_MSG carries a document sequence and a checksum, then all documents are inserted', async () => {
    const c = await connect();
    c.send(opMsg(11, { insert: 'seq', $db: target.dbName }, { sequence: ['documents', [{ _id: 1 }, { _id: 2 }]], checksum: true }));
    expect(await c.next()).toMatchObject({ responseTo: 11, doc: { ok: 1, n: 2 } });
  });

  test('when a message sets moreToCome, then no reply is sent for it and the write still happens', async () => {
    const c = await connect();
    c.send(opMsg(21, { insert: 'quiet', documents: [{ _id: 'q' }], writeConcern: { w: 0 }, $db: target.dbName }, { moreToCome: true }));
    c.send(opMsg(22, { find: 'quiet', filter: {}, $db: target.dbName }));
    const r = await c.next();
    expect(r!.responseTo).toBe(22);
    expect(r!.doc.cursor.firstBatch).toEqual([{ _id: 'q' }]);
  });

  test('when an unknown command is sent, then the reply is 59 CommandNotFound', async () => {
    const c = await connect();
    c.send(opMsg(31, { frobnicate: 1, $db: target.dbName }));
    expect(await c.next()).toMatchObject({ doc: { ok: 0, code: 59, codeName: 'CommandNotFound' } });
  });

  const malformed: Array<[string, Buffer]> = [
    ['a length below the header size', Buffer.from([8, 0, 0, 0, 1, 2, 3, 4])],
    ['a length above the maximum message size', (() => { const b = Buffer.alloc(16); b.writeInt32LE(200 * 1024 * 1024, 0); return b; })()],
    ['an unknown opCode', (() => { const b = Buffer.alloc(26); b.writeInt32LE(26, 0); b.writeInt32LE(9999, 12); return b; })()],
    ['a body whose BSON length runs past the message', (() => {
      const m = opMsg(41, { ping: 1, $db: 'admin' });
      m.writeInt32LE(10_000, 21);
      return m;
    })()],
    ['an inserted document whose string length runs past its end', (() => {
      const m = opMsg(42, { insert: 'broken', $db: 'wire_broken' }, { sequence: ['documents', [{ _id: 1, s: 'abc' }]] });
      const at = m.indexOf(Buffer.from('s\0', 'latin1'), 40) + 2;
      m.writeInt32LE(1000, at);
      return m;
    })()],
  ];
  test.each(malformed)('when a message has %s, then that connection is closed and the server keeps serving', async (_name, bytes) => {
    const bad = await connect();
    bad.send(bytes);
    expect(await bad.next(5000)).toBeNull();
    const good = await connect();
    good.send(opMsg(51, { ping: 1, $db: 'admin' }));
    expect(await good.next()).toMatchObject({ doc: { ok: 1 } });
  });

  test('when a retryable write is sent twice with the same lsid and txnNumber, then it is applied once', async () => {
    const c = await connect();
    const lsid = { id: new Binary(randomBytes(16), 4) };
    const cmd = { insert: 'retry', documents: [{ v: 1 }], lsid, txnNumber: Long.fromNumber(1), $db: target.dbName };
    c.send(opMsg(61, cmd));
    const first = await c.next();
    c.send(opMsg(62, cmd));
    const second = await c.next();
    expect(first!.doc).toMatchObject({ ok: 1, n: 1 });
    expect(second!.doc).toMatchObject({ ok: 1, n: 1 });
    c.send(opMsg(63, { count: 'retry', $db: target.dbName }));
    expect((await c.next())!.doc.n).toBe(1);
  });
});

describe('connection strings', () => {
  test('when connecting with a plain URI, with ?replicaSet and with directConnection, then transactions run on each', async () => {
    const base = target.uri.replace(/\/[^/]*$/, '');
    const uris = [target.uri];
    if (target.embedded) uris.push(`${base}/?replicaSet=rs0`, `${base}/?directConnection=true`);
    for (const [i, uri] of uris.entries()) {
      const client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 5000 });
      try {
        const coll = client.db(target.dbName).collection(`uri${i}`);
        const session = client.startSession();
        await session.withTransaction(async () => {
          await coll.insertOne({ i }, { session });
        });
        await session.endSession();
        expect(await coll.countDocuments()).toBe(1);
      } finally {
        await client.close();
      }
    }
  });
});
