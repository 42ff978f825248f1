import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Double, Int32, Long, MongoClient } from 'mongodb';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'src/embedded-mongo/cli.ts');

/** Starts the CLI as a child process on a free port and resolves with its printed URI. */
function startChild(dbpath: string): Promise<{ child: ChildProcess; uri: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--dbpath', dbpath, '--port', '0'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('mongodb://'));
      if (line) resolve({ child, uri: line.trim() });
    });
    child.once('exit', (code) => reject(new Error(`embedded server exited (${code}): ${err}`)));
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('durability of the SQLite data directory', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  const clients: MongoClient[] = [];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-mongo-durability-'));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close(true).catch(() => undefined)));
    await Promise.all(children.map(killHard));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('when the server is killed with SIGKILL under write load, then every acknowledged write, committed transaction and index survives and no uncommitted one does', async () => {
    const first = await startChild(dir);
    children.push(first.child);
    const client = await MongoClient.connect(first.uri, { serverSelectionTimeoutMS: 3000 });
    clients.push(client);
    const coll = client.db('durable').collection('events');
    await coll.createIndex({ seq: 1 }, { unique: true, sparse: true });

    await coll.insertOne({ _id: 'typed', whole: new Double(2), small: new Int32(7), big: Long.fromString('9007199254740993') } as never);

    const committed = client.startSession();
    await committed.withTransaction(async () => {
      await coll.insertMany([{ _id: 'txn-a', kind: 'committed' }, { _id: 'txn-b', kind: 'committed' }] as never[], { session: committed });
    });
    const open = client.startSession();
    open.startTransaction();
    await coll.insertOne({ _id: 'open-a', kind: 'uncommitted' } as never, { session: open });
    await coll.updateOne({ _id: 'txn-a' } as never, { $set: { kind: 'changed-in-open-txn' } }, { session: open });

    const acked = new Set<number>();
    let stop = false;
    const writer = async (lane: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const seq = lane * 1_000_000 + i;
        try {
          if (i % 10 === 0) {
            await coll.insertMany([{ seq, batch: true }, { seq: seq + 500_000, batch: true }]);
            acked.add(seq).add(seq + 500_000);
          } else {
            await coll.insertOne({ seq, payload: 'x'.repeat(200) });
            acked.add(seq);
          }
        } catch {
          return;
        }
      }
    };
    const lanes = [writer(1), writer(2), writer(3)];
    while (acked.size < 800) await new Promise((r) => setTimeout(r, 20));
    await killHard(first.child);
    stop = true;
    await Promise.all(lanes);
    expect(acked.size).toBeGreaterThanOrEqual(800);

    const second = await startChild(dir);
    children.push(second.child);
    const after = await MongoClient.connect(second.uri, { serverSelectionTimeoutMS: 3000 });
    clients.push(after);
    const restored = after.db('durable').collection('events');
    const seqs = new Set((await restored.find({ seq: { $exists: true } }, { projection: { seq: 1 } }).toArray()).map((d) => d.seq as number));
    const missing = [...acked].filter((s) => !seqs.has(s));
    expect(missing).toEqual([]);
    expect(await restored.find({ _id: { $in: ['txn-a', 'txn-b', 'open-a'] } } as never).sort({ _id: 1 }).toArray())
      .toEqual([{ _id: 'txn-a', kind: 'committed' }, { _id: 'txn-b', kind: 'committed' }]);
    expect((await restored.listIndexes().toArray()).map((i) => i.name)).toContain('seq_1');
    const typed = await restored.findOne({ _id: 'typed' } as never, { promoteValues: false });
    expect(typed!.whole).toBeInstanceOf(Double);
    expect(typed!.small).toBeInstanceOf(Int32);
    expect(String(typed!.big)).toBe('9007199254740993');
    await expect(restored.insertOne({ seq: [...acked][0] })).rejects.toMatchObject({ code: 11000 });
    await killHard(second.child);
  }, 120_000);
});
