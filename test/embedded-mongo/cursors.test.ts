import { type Db, type MongoClient } from 'mongodb';
import { openTarget, type Target } from './target';

let target: Target;
let db: Db;
let client: MongoClient;

beforeAll(async () => {
  target = await openTarget('cursors');
  client = await target.client();
  db = client.db(target.dbName);
  await db.collection('many').insertMany(Array.from({ length: 1050 }, (_, i) => ({ _id: i, even: i % 2 === 0, pad: 'p'.repeat(50) })) as never[]);
});
afterAll(async () => {
  await target.close();
});

async function openCursors(): Promise<number> {
  const status = await db.admin().command({ serverStatus: 1 });
  return Number(status.metrics.cursor.open.total);
}

describe('cursors', () => {
  test('when a query returns more than 101 documents, then getMore batches deliver all of them once, in order', async () => {
    const seen: number[] = [];
    for await (const d of db.collection('many').find({}, { sort: { _id: 1 } })) seen.push(d._id as unknown as number);
    expect(seen).toEqual(Array.from({ length: 1050 }, (_, i) => i));
    const evens = await db.collection('many').find({ even: true }, { batchSize: 7 }).toArray();
    expect(evens).toHaveLength(525);
    expect(new Set(evens.map((d) => d._id)).size).toBe(525);
  });

  test('when batchSize and limit are set, then the first batch respects batchSize and the total respects limit', async () => {
    const cursor = db.collection('many').find({}, { batchSize: 10, limit: 25, sort: { _id: -1 } });
    const docs = await cursor.toArray();
    expect(docs.map((d) => d._id)).toEqual(Array.from({ length: 25 }, (_, i) => 1049 - i));
  });

  test('when a cursor is closed early, then the server kills it and a later getMore on it fails with 43', async () => {
    const before = await openCursors();
    const cursor = db.collection('many').find({}, { batchSize: 50 });
    await cursor.next();
    expect(await openCursors()).toBe(before + 1);
    await cursor.close();
    expect(await openCursors()).toBe(before);

    const reply = await db.command({ find: 'many', batchSize: 5 });
    const id = reply.cursor.id;
    const killed = await db.command({ killCursors: 'many', cursors: [id] });
    expect(killed.cursorsKilled).toHaveLength(1);
    await expect(db.command({ getMore: id, collection: 'many' })).rejects.toMatchObject({ code: 43 });
  });

  test('when an aggregate returns many documents, then it is streamed in batches too', async () => {
    let n = 0;
    for await (const d of db.collection('many').aggregate([{ $match: { even: false } }, { $project: { _id: 1 } }], { batchSize: 100 })) {
      expect(Object.keys(d)).toEqual(['_id']);
      n++;
    }
    expect(n).toBe(525);
  });
});
