import { MongoBulkWriteError, MongoServerError, type Db } from 'mongodb';
import { openTarget, type Target } from './target';

let target: Target;
let db: Db;

beforeAll(async () => {
  target = await openTarget('updates');
  db = await target.db();
});
afterAll(async () => {
  await target.close();
});

describe('update operators', () => {
  test('when field, array and arithmetic operators are applied, then the document changes like MongoDB', async () => {
    const c = db.collection('ops');
    await c.insertOne({ _id: 1 as never, n: 5, m: 2, lo: 10, hi: 1, old: 'x', gone: true, list: [1, 2, 3, 2], set: ['a'], sub: { a: 1 } });
    await c.updateOne({ _id: 1 as never }, {
      $inc: { n: 2, fresh: 1 }, $mul: { m: 3 }, $min: { lo: 4 }, $max: { hi: 9 }, $rename: { old: 'renamed' },
      $unset: { gone: '' }, $set: { 'sub.b': 2 }, $push: { list: { $each: [4], $position: 0 } } as never, $addToSet: { set: { $each: ['a', 'b'] } } as never,
    });
    await c.updateOne({ _id: 1 as never }, { $pull: { list: 2 } as never, $pop: { set: -1 }, $currentDate: { touched: true } });
    const got = await c.findOne({ _id: 1 as never });
    expect(got).toMatchObject({ n: 7, fresh: 1, m: 6, lo: 4, hi: 9, renamed: 'x', sub: { a: 1, b: 2 }, list: [4, 1, 3], set: ['b'] });
    expect(got).not.toHaveProperty('gone');
    expect(got!.touched).toBeInstanceOf(Date);
  });

  test('when an update changes nothing, then it counts as matched but not modified', async () => {
    const c = db.collection('noop');
    await c.insertOne({ _id: 1 as never, a: 1 });
    const r = await c.updateOne({ _id: 1 as never }, { $set: { a: 1 } });
    expect([r.matchedCount, r.modifiedCount]).toEqual([1, 0]);
  });

  test('when arrayFilters and the positional operator target elements, then only those elements change', async () => {
    const c = db.collection('positional');
    await c.insertOne({ _id: 1 as never, items: [{ k: 'a', q: 1 }, { k: 'b', q: 1 }, { k: 'c', q: 5 }] });
    await c.updateOne({ _id: 1 as never }, { $inc: { 'items.$[low].q': 10 } }, { arrayFilters: [{ 'low.q': { $lt: 2 } }] });
    await c.updateOne({ _id: 1 as never, 'items.k': 'c' }, { $set: { 'items.$.q': 0 } });
    expect((await c.findOne({ _id: 1 as never }))!.items).toEqual([{ k: 'a', q: 11 }, { k: 'b', q: 11 }, { k: 'c', q: 0 }]);
  });

  test('when a pipeline update or a replacement is sent, then the result is computed from the stored document', async () => {
    const c = db.collection('pipeline');
    await c.insertOne({ _id: 1 as never, a: 2, b: 3, drop: 1 });
    await c.updateOne({ _id: 1 as never }, [{ $set: { sum: { $add: ['$a', '$b'] } } }, { $unset: 'drop' }]);
    expect(await c.findOne({ _id: 1 as never })).toEqual({ _id: 1, a: 2, b: 3, sum: 5 });
    await c.replaceOne({ _id: 1 as never }, { only: true });
    expect(await c.findOne({ _id: 1 as never })).toEqual({ _id: 1, only: true });
  });

  test('when many documents match with multi, then all are updated, and deleteMany removes all matches', async () => {
    const c = db.collection('multi');
    await c.insertMany([{ g: 1 }, { g: 1 }, { g: 2 }]);
    const r = await c.updateMany({ g: 1 }, { $set: { seen: true } });
    expect([r.matchedCount, r.modifiedCount]).toEqual([2, 2]);
    expect(await c.countDocuments({ seen: true })).toBe(2);
    expect((await c.deleteMany({ g: 1 })).deletedCount).toBe(2);
    expect((await c.deleteOne({ g: { $gt: 0 } })).deletedCount).toBe(1);
    expect(await c.countDocuments()).toBe(0);
  });
});

describe('_id and upserts', () => {
  test('when _id is set to its current value, then the update succeeds; when changed, then 66 ImmutableField', async () => {
    const c = db.collection('immutable');
    await c.insertOne({ _id: 'k' as never, v: 1 });
    await c.updateOne({ _id: 'k' as never }, { $set: { _id: 'k', v: 2 } });
    expect((await c.findOne({ _id: 'k' as never }))!.v).toBe(2);
    await expect(c.updateOne({ _id: 'k' as never }, { $set: { _id: 'other' } })).rejects.toMatchObject({ code: 66 });
    await expect(c.replaceOne({ _id: 'k' as never }, { _id: 'other', v: 3 })).rejects.toMatchObject({ code: 66 });
  });

  test('when an upsert inserts, then it starts from the filter equalities and applies $setOnInsert; when it matches, $setOnInsert is ignored', async () => {
    const c = db.collection('upserts');
    const r = await c.updateOne({ email: 'a@x', 'profile.role': 'staff', age: { $gt: 5 } },
      { $set: { name: 'A' }, $setOnInsert: { createdAt: 1 } }, { upsert: true });
    expect(r.upsertedCount).toBe(1);
    const created = await c.findOne({ _id: r.upsertedId! });
    expect(created).toEqual({ _id: r.upsertedId, email: 'a@x', profile: { role: 'staff' }, name: 'A', createdAt: 1 });
    await c.updateOne({ email: 'a@x' }, { $set: { name: 'B' }, $setOnInsert: { createdAt: 2 } }, { upsert: true });
    expect(await c.findOne({ email: 'a@x' })).toMatchObject({ name: 'B', createdAt: 1 });
    const byId = await c.updateOne({ _id: 'fixed' as never }, { $inc: { n: 1 } }, { upsert: true });
    expect(byId.upsertedId).toBe('fixed');
  });

  test('when findOneAndUpdate/Delete/Replace run, then they return the before or after document', async () => {
    const c = db.collection('fam');
    await c.insertMany([{ _id: 1 as never, q: 1, v: 'a' }, { _id: 2 as never, q: 1, v: 'b' }]);
    const before = await c.findOneAndUpdate({ q: 1 }, { $set: { v: 'z' } }, { sort: { _id: -1 }, returnDocument: 'before' });
    expect(before).toEqual({ _id: 2, q: 1, v: 'b' });
    const after = await c.findOneAndUpdate({ _id: 1 as never }, { $set: { v: 'y' } }, { returnDocument: 'after', projection: { v: 1 } });
    expect(after).toEqual({ _id: 1, v: 'y' });
    const up = await c.findOneAndUpdate({ _id: 3 as never }, { $set: { v: 'new' } }, { upsert: true, returnDocument: 'after' });
    expect(up).toEqual({ _id: 3, v: 'new' });
    expect(await c.findOneAndDelete({ _id: 2 as never })).toEqual({ _id: 2, q: 1, v: 'z' });
    expect(await c.findOneAndReplace({ _id: 1 as never }, { w: 1 }, { returnDocument: 'after' })).toEqual({ _id: 1, w: 1 });
    expect(await c.findOneAndUpdate({ _id: 99 as never }, { $set: { v: 1 } })).toBeNull();
  });
});

describe('bulk writes', () => {
  test('when an ordered bulk insert hits a duplicate, then it stops there and reports that index', async () => {
    const c = db.collection('bulk_ordered');
    const err = await c.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 1 }, { _id: 3 }] as never[]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoBulkWriteError);
    const bulk = err as MongoBulkWriteError;
    expect(bulk.code).toBe(11000);
    expect(bulk.writeErrors).toMatchObject([{ index: 2, code: 11000 }]);
    expect(bulk.insertedCount).toBe(2);
    expect(await c.countDocuments()).toBe(2);
  });

  test('when an unordered bulk write has failures, then the others are applied and each failure is reported by index', async () => {
    const c = db.collection('bulk_unordered');
    await c.insertOne({ _id: 1 as never });
    const err = (await c.bulkWrite([
      { insertOne: { document: { _id: 1 } } },
      { insertOne: { document: { _id: 2 } } },
      { updateOne: { filter: { _id: 2 }, update: { $set: { _id: 5 } } } },
      { insertOne: { document: { _id: 3 } } },
    ] as never[], { ordered: false }).catch((e: unknown) => e)) as MongoBulkWriteError;
    expect(err).toBeInstanceOf(MongoBulkWriteError);
    expect(err.writeErrors).toEqual(expect.arrayContaining([
      expect.objectContaining({ index: 0, code: 11000 }), expect.objectContaining({ index: 2, code: 66 }),
    ]));
    expect((await c.find().sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1, 2, 3]);
  });

  test('when an unknown update operator is sent, then the server answers an error and stores nothing', async () => {
    const c = db.collection('bad_update');
    await c.insertOne({ _id: 1 as never });
    const err = await c.updateOne({ _id: 1 as never }, { $frobnicate: { a: 1 } } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(await c.findOne({ _id: 1 as never })).toEqual({ _id: 1 });
  });
});
