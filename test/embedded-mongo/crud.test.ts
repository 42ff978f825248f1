import { Binary, Decimal128, Double, Int32, Long, ObjectId, type Db } from 'mongodb';
import { openTarget, type Target } from './target';

let target: Target;
let db: Db;

beforeAll(async () => {
  target = await openTarget('crud');
  db = await target.db();
});
afterAll(async () => {
  await target.close();
});

describe('documents and types', () => {
  test('when documents of every supported type are stored, then they come back exactly', async () => {
    const c = db.collection('types');
    const id = new ObjectId();
    const doc = {
      _id: id, s: 'héllo', i: 42, neg: -7, d: 1.5, big: 2 ** 40, t: true, f: false, n: null,
      date: new Date('2024-05-01T10:00:00.123Z'), arr: [1, 'two', { three: 3 }], sub: { a: { b: [1, 2] } },
      bin: new Binary(Buffer.from([0, 1, 2, 255]), 0), uuid: new Binary(Buffer.alloc(16, 7), 4),
      long: Long.fromString('9007199254740993'), dec: Decimal128.fromString('12345.678901234567890'),
    };
    await c.insertOne(doc);
    const got = await c.findOne({ _id: id }, { promoteLongs: false });
    expect(got).toEqual(doc);
    expect((got!.long as Long).toString()).toBe('9007199254740993');
    expect((got!.dec as Decimal128).toString()).toBe('12345.678901234567890');
    expect(Buffer.from((got!.bin as Binary).buffer)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect((got!.uuid as Binary).sub_type).toBe(4);
    const raw = await c.findOne({ _id: id }, { promoteValues: false });
    expect(raw!.i).toBeInstanceOf(Int32);
    expect(raw!.d).toBeInstanceOf(Double);
  });

  test('when a document is inserted without _id, then the server keeps the driver-generated ObjectId first', async () => {
    const c = db.collection('ids');
    const r = await c.insertOne({ a: 1 });
    const got = await c.findOne({ a: 1 });
    expect(Object.keys(got!)[0]).toBe('_id');
    expect(got!._id).toEqual(r.insertedId);
  });

  test('when a stored document is read and the result mutated, then the stored document is unchanged', async () => {
    const c = db.collection('isolation');
    await c.insertOne({ _id: 1 as never, nested: { list: [1, 2] } });
    const first = await c.findOne({ _id: 1 as never });
    (first!.nested as { list: number[] }).list.push(3);
    const agg = await c.aggregate([{ $match: { _id: 1 } }, { $addFields: { 'nested.extra': true } }]).toArray();
    expect(agg[0].nested.extra).toBe(true);
    expect(await c.findOne({ _id: 1 as never })).toEqual({ _id: 1, nested: { list: [1, 2] } });
  });
});

describe('queries', () => {
  beforeAll(async () => {
    await db.collection('q').insertMany([
      { _id: 1 as never, name: 'ann', age: 31, tags: ['a', 'b'], addr: { city: 'Austin' }, scores: [{ k: 'm', v: 90 }, { k: 'e', v: 70 }] },
      { _id: 2 as never, name: 'bob', age: 25, tags: ['b'], addr: { city: 'Boston' }, scores: [{ k: 'm', v: 60 }] },
      { _id: 3 as never, name: 'cy', age: 40, tags: [], addr: { city: 'Austin' } },
      { _id: 4 as never, name: 'Dee', age: null },
    ]);
  });
  const ids = async (filter: object, sort: object = { _id: 1 }) =>
    (await db.collection('q').find(filter).sort(sort as never).toArray()).map((d) => d._id);

  test('when comparison, logical and element operators are used, then the matches are MongoDB\'s', async () => {
    expect(await ids({ age: { $gt: 25 } })).toEqual([1, 3]);
    expect(await ids({ age: { $gte: 25, $lt: 40 } })).toEqual([1, 2]);
    expect(await ids({ age: { $in: [25, 40] } })).toEqual([2, 3]);
    expect(await ids({ age: { $nin: [25, 40] } })).toEqual([1, 4]);
    expect(await ids({ age: { $ne: 25 } })).toEqual([1, 3, 4]);
    expect(await ids({ age: null })).toEqual([4]);
    expect(await ids({ addr: { $exists: false } })).toEqual([4]);
    expect(await ids({ $or: [{ name: 'ann' }, { age: 40 }] })).toEqual([1, 3]);
    expect(await ids({ $and: [{ 'addr.city': 'Austin' }, { age: { $lt: 35 } }] })).toEqual([1]);
    expect(await ids({ $nor: [{ age: { $gt: 30 } }] })).toEqual([2, 4]);
    expect(await ids({ age: { $not: { $gt: 30 } } })).toEqual([2, 4]);
    expect(await ids({ name: { $regex: '^d', $options: 'i' } })).toEqual([4]);
    expect(await ids({ name: /^b/ })).toEqual([2]);
    expect(await ids({ age: { $type: 'null' } })).toEqual([4]);
    expect(await ids({ age: { $mod: [5, 0] } })).toEqual([2, 3]);
    expect(await ids({ $expr: { $gt: ['$age', 30] } })).toEqual([1, 3]);
  });

  test('when array operators are used, then elements and whole arrays match like MongoDB', async () => {
    expect(await ids({ tags: 'b' })).toEqual([1, 2]);
    expect(await ids({ tags: ['b'] })).toEqual([2]);
    expect(await ids({ tags: { $all: ['a', 'b'] } })).toEqual([1]);
    expect(await ids({ tags: { $size: 0 } })).toEqual([3]);
    expect(await ids({ scores: { $elemMatch: { k: 'm', v: { $gte: 80 } } } })).toEqual([1]);
    expect(await ids({ 'scores.v': { $lt: 65 } })).toEqual([2]);
    expect(await ids({ 'scores.0.k': 'm' })).toEqual([1, 2]);
  });

  test('when projecting, skipping and limiting, then the fields and window are MongoDB\'s', async () => {
    const c = db.collection('q');
    const docs = await c.find({}, { projection: { name: 1, _id: 0 } }).sort({ age: -1 }).skip(1).limit(2).toArray();
    expect(docs).toEqual([{ name: 'ann' }, { name: 'bob' }]);
    const ex = await c.findOne({ _id: 2 as never }, { projection: { scores: 0, addr: 0 } });
    expect(ex).toEqual({ _id: 2, name: 'bob', age: 25, tags: ['b'] });
    const sliced = await c.findOne({ _id: 1 as never }, { projection: { scores: { $slice: 1 }, name: 1 } });
    expect(sliced!.scores).toEqual([{ k: 'm', v: 90 }]);
  });

  test('when values of different types are sorted, then MongoDB\'s cross-type order applies', async () => {
    const c = db.collection('mixed');
    const oid = new ObjectId('000000000000000000000001');
    await c.insertMany([
      { _id: 1 as never, v: 'str' }, { _id: 2 as never, v: 5 }, { _id: 3 as never, v: null }, { _id: 4 as never, v: oid },
      { _id: 5 as never, v: true }, { _id: 6 as never, v: new Date(0) }, { _id: 7 as never, v: { a: 1 } },
      { _id: 8 as never }, { _id: 9 as never, v: 2.5 }, { _id: 10 as never, v: [0, 9] },
    ]);
    const asc = (await c.find().sort({ v: 1, _id: 1 }).toArray()).map((d) => d._id);
    expect(asc).toEqual([3, 8, 10, 9, 2, 1, 7, 4, 5, 6]);
    const desc = (await c.find().sort({ v: -1, _id: 1 }).toArray()).map((d) => d._id);
    expect(desc).toEqual([6, 5, 4, 7, 1, 10, 2, 9, 3, 8]);
  });

  test('when counting and listing distinct values, then counts and values are MongoDB\'s', async () => {
    const c = db.collection('q');
    expect(await c.countDocuments({ 'addr.city': 'Austin' })).toBe(2);
    expect(await c.countDocuments({}, { skip: 1, limit: 2 })).toBe(2);
    expect(await c.estimatedDocumentCount()).toBe(4);
    expect((await c.distinct('tags')).sort()).toEqual(['a', 'b']);
    expect((await c.distinct('addr.city', { age: { $gt: 20 } })).sort()).toEqual(['Austin', 'Boston']);
  });
});
