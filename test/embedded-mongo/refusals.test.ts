import { Decimal128, Int32, Long, Double, type Db } from 'mongodb';
import { openTarget, type Target } from './target';

let target: Target;
let db: Db;

beforeAll(async () => {
  target = await openTarget('refusals');
  db = await target.db();
  await db.collection('prices').insertMany([
    { _id: 1, price: Decimal128.fromString('1.10'), big: Long.fromString('9007199254740993'), note: 'alpha beta', loc: [0, 0] },
    { _id: 2, price: Decimal128.fromString('2.50'), big: Long.fromString('9007199254740995'), note: 'gamma', loc: [50, 50] },
  ] as never[]);
  await db.collection('numbers').insertMany([{ _id: 1, v: new Int32(1) }, { _id: 2, v: new Double(1.5) }, { _id: 3, v: new Double(2) }] as never[]);
});
afterAll(async () => {
  await target.close();
});

/** Embedded: a NotImplemented (238) error naming `feature`. Real MongoDB: `real()` shows what it does instead. */
async function refusedOrReal(feature: RegExp, run: () => Promise<unknown>, real: (result: unknown) => void): Promise<void> {
  if (target.embedded) {
    await expect(run()).rejects.toMatchObject({ code: 238, codeName: 'NotImplemented', message: expect.stringMatching(feature) });
  } else {
    real(await run());
  }
}

describe('what the embedded server refuses instead of answering differently', () => {
  test('when comparing Decimal128 values, then embedded refuses; MongoDB compares numerically', async () => {
    await refusedOrReal(/Decimal128/, () => db.collection('prices').find({ price: { $gt: Decimal128.fromString('2') } }).toArray(),
      (r) => expect((r as Array<{ _id: number }>).map((d) => d._id)).toEqual([2]));
  });

  test('when summing Decimal128 values in $group, then embedded refuses; MongoDB sums exactly', async () => {
    await refusedOrReal(/Decimal128|price/, () => db.collection('prices').aggregate([{ $group: { _id: null, s: { $sum: '$price' } } }]).toArray(),
      (r) => expect(String((r as Array<{ s: Decimal128 }>)[0].s)).toBe('3.60'));
  });

  test('when comparing or incrementing Long values beyond 2^53, then embedded refuses; MongoDB is exact', async () => {
    await refusedOrReal(/int64|Long/, () => db.collection('prices').find({ big: { $gt: Long.fromString('9007199254740994') } }).toArray(),
      (r) => expect((r as Array<{ _id: number }>).map((d) => d._id)).toEqual([2]));
    await refusedOrReal(/int64|Long|big/, () => db.collection('prices').updateOne({ _id: 1 as never }, { $inc: { big: 1 } }),
      (r) => expect(r).toMatchObject({ modifiedCount: 1 }));
  });

  test('when querying $type int, long or double, then embedded refuses; MongoDB tells them apart', async () => {
    await refusedOrReal(/\$type/, () => db.collection('numbers').find({ v: { $type: 'int' } }).toArray(),
      (r) => expect((r as Array<{ _id: number }>).map((d) => d._id)).toEqual([1]));
    const numbers = await db.collection('numbers').find({ v: { $type: 'number' } }).toArray();
    expect(numbers).toHaveLength(3);
    expect(await db.collection('numbers').countDocuments({ v: { $gt: 1 } })).toBe(2);
  });

  test('when a text index or $text search is used, then embedded refuses; MongoDB searches', async () => {
    await refusedOrReal(/Text indexes|\$text/, async () => {
      await db.collection('prices').createIndex({ note: 'text' });
      return db.collection('prices').find({ $text: { $search: 'gamma' } }).toArray();
    }, (r) => expect((r as Array<{ _id: number }>).map((d) => d._id)).toEqual([2]));
    if (target.embedded) {
      await expect(db.collection('prices').find({ $text: { $search: 'gamma' } }).toArray()).rejects.toMatchObject({ code: 238 });
    }
  });

  test('when a geospatial operator is used, then embedded refuses; MongoDB finds points in the shape', async () => {
    await refusedOrReal(/geospatial/, () => db.collection('prices').find({ loc: { $geoWithin: { $center: [[0, 0], 5] } } }).toArray(),
      (r) => expect((r as Array<{ _id: number }>).map((d) => d._id)).toEqual([1]));
  });

  test('when $where JavaScript is used, then embedded refuses; MongoDB evaluates it', async () => {
    await refusedOrReal(/\$where/, () => db.collection('prices').find({ $where: 'this._id > 1' }).toArray(),
      (r) => expect((r as Array<{ _id: number }>).map((d) => d._id)).toEqual([2]));
  });

  test('when a change stream is opened, then embedded refuses; MongoDB streams', async () => {
    const stream = db.collection('prices').watch();
    try {
      await refusedOrReal(/[Cc]hange streams/, () => stream.tryNext(), (r) => expect(r).toBeNull());
    } finally {
      await stream.close();
    }
  });

  test('when a collation is requested, then embedded refuses; MongoDB compares by locale', async () => {
    await refusedOrReal(/[Cc]ollation/, () => db.collection('prices').find({ note: 'GAMMA' }, { collation: { locale: 'en', strength: 2 } }).toArray(),
      (r) => expect((r as Array<{ _id: number }>).map((d) => d._id)).toEqual([2]));
  });
});
