import { type Db } from 'mongodb';
import { openTarget, type Target } from './target';

let target: Target;
let db: Db;

beforeAll(async () => {
  target = await openTarget('aggregate');
  db = await target.db();
  await db.collection('schools').insertMany([{ _id: 's1', name: 'Lincoln' }, { _id: 's2', name: 'Roosevelt' }] as never[]);
  await db.collection('users').insertMany([
    { _id: 'u1', school: 's1', role: 'teacher', tags: ['a', 'b'] },
    { _id: 'u2', school: 's1', role: 'principal', tags: ['b'] },
    { _id: 'u3', school: 's2', role: 'teacher', tags: [] },
  ] as never[]);
  await db.collection('completions').insertMany([
    { user: 'u1', module: 'm1', score: 80 }, { user: 'u1', module: 'm2', score: 90 },
    { user: 'u2', module: 'm1', score: 70 }, { user: 'u3', module: 'm1', score: 100 },
  ]);
});
afterAll(async () => {
  await target.close();
});

describe('aggregation stages', () => {
  test('when $match, $group, $sort and $project run, then per-group figures are computed', async () => {
    const out = await db.collection('completions').aggregate([
      { $match: { score: { $gte: 75 } } },
      { $group: { _id: '$user', n: { $sum: 1 }, avg: { $avg: '$score' }, modules: { $addToSet: '$module' }, best: { $max: '$score' } } },
      { $sort: { n: -1, _id: 1 } },
      { $project: { _id: 0, user: '$_id', n: 1, avg: 1, best: 1 } },
    ]).toArray();
    expect(out).toEqual([{ n: 2, avg: 85, best: 90, user: 'u1' }, { n: 1, avg: 100, best: 100, user: 'u3' }]);
  });

  test('when $group accumulators meet missing and null values, then they are skipped or null like MongoDB', async () => {
    const c = db.collection('acc');
    await c.insertMany([
      { _id: 1, g: 'a', v: 5, s: 'x' }, { _id: 2, g: 'a', v: null, s: 'y' }, { _id: 3, g: 'a', s: 'x' },
      { _id: 4, g: 'b' }, { _id: 5, v: 2.5 },
    ] as never[]);
    const out = await c.aggregate([
      { $sort: { _id: 1 } },
      { $group: {
        _id: '$g', n: { $sum: 1 }, total: { $sum: '$v' }, avg: { $avg: '$v' }, lo: { $min: '$v' }, hi: { $max: '$v' },
        first: { $first: '$v' }, last: { $last: '$v' }, all: { $push: '$v' }, kinds: { $addToSet: '$s' }, count: { $count: {} },
      } },
      { $sort: { _id: 1 } },
    ]).toArray();
    expect(out).toEqual([
      { _id: null, n: 1, total: 2.5, avg: 2.5, lo: 2.5, hi: 2.5, first: 2.5, last: 2.5, all: [2.5], kinds: [], count: 1 },
      { _id: 'a', n: 3, total: 5, avg: 5, lo: 5, hi: 5, first: 5, last: null, all: [5, null], kinds: expect.arrayContaining(['x', 'y']), count: 3 },
      { _id: 'b', n: 1, total: 0, avg: null, lo: null, hi: null, first: null, last: null, all: [], kinds: [], count: 1 },
    ]);
    const compound = await c.aggregate([{ $group: { _id: { g: '$g', s: '$s' }, n: { $sum: 1 } } }, { $sort: { n: -1, '_id.g': 1, '_id.s': 1 } }]).toArray();
    expect(compound).toEqual([
      { _id: { g: 'a', s: 'x' }, n: 2 }, { _id: {}, n: 1 }, { _id: { g: 'a', s: 'y' }, n: 1 }, { _id: { g: 'b' }, n: 1 },
    ]);
  });

  test('when $lookup joins across collections, then matched documents are embedded and the source is untouched', async () => {
    const out = await db.collection('users').aggregate([
      { $lookup: { from: 'schools', localField: 'school', foreignField: '_id', as: 'school' } },
      { $unwind: '$school' },
      { $lookup: { from: 'completions', let: { u: '$_id' }, pipeline: [{ $match: { $expr: { $eq: ['$user', '$$u'] } } }, { $count: 'n' }], as: 'done' } },
      { $addFields: { schoolName: '$school.name', done: { $ifNull: [{ $arrayElemAt: ['$done.n', 0] }, 0] } } },
      { $project: { schoolName: 1, done: 1 } },
      { $sort: { _id: 1 } },
    ]).toArray();
    expect(out).toEqual([
      { _id: 'u1', schoolName: 'Lincoln', done: 2 }, { _id: 'u2', schoolName: 'Lincoln', done: 1 }, { _id: 'u3', schoolName: 'Roosevelt', done: 1 },
    ]);
    expect(await db.collection('schools').findOne({ _id: 's1' as never })).toEqual({ _id: 's1', name: 'Lincoln' });
  });

  test('when $lookup joins on array and missing local fields, then elements match and missing matches null or missing', async () => {
    await db.collection('groups').insertMany([
      { _id: 'g1', members: ['u1', 'u3'] }, { _id: 'g2' },
    ] as never[]);
    await db.collection('people').insertMany([{ _id: 'p1', gid: null }, { _id: 'p2' }, { _id: 'p3', gid: 'g1' }] as never[]);
    const out = await db.collection('groups').aggregate([
      { $lookup: { from: 'users', localField: 'members', foreignField: '_id', as: 'users' } },
      { $lookup: { from: 'people', localField: 'missing', foreignField: 'gid', as: 'orphans' } },
      { $project: { userIds: '$users._id', orphanIds: '$orphans._id' } },
      { $sort: { _id: 1 } },
    ]).toArray();
    expect(out).toEqual([
      { _id: 'g1', userIds: ['u1', 'u3'], orphanIds: ['p1', 'p2'] },
      { _id: 'g2', userIds: [], orphanIds: ['p1', 'p2'] },
    ]);
  });

  test('when $unwind, $facet and $count run, then each facet sees the same input', async () => {
    const [facets] = await db.collection('users').aggregate([
      { $facet: {
        byRole: [{ $group: { _id: '$role', n: { $sum: 1 } } }, { $sort: { _id: 1 } }],
        tagCount: [{ $unwind: '$tags' }, { $count: 'n' }],
        keepEmpty: [{ $unwind: { path: '$tags', preserveNullAndEmptyArrays: true } }, { $count: 'n' }],
      } },
    ]).toArray();
    expect(facets).toEqual({ byRole: [{ _id: 'principal', n: 1 }, { _id: 'teacher', n: 2 }], tagCount: [{ n: 3 }], keepEmpty: [{ n: 4 }] });
  });

  test('when a pipeline ends with $out, then the target collection is replaced with the results', async () => {
    await db.collection('report').insertOne({ stale: true });
    const cursor = db.collection('completions').aggregate([{ $group: { _id: '$module', total: { $sum: '$score' } } }, { $out: 'report' }]);
    expect(await cursor.toArray()).toEqual([]);
    const report = await db.collection('report').find().sort({ _id: 1 }).toArray();
    expect(report).toEqual([{ _id: 'm1', total: 250 }, { _id: 'm2', total: 90 }]);
  });

  test('when a pipeline ends with $merge, then matching documents are merged and new ones inserted', async () => {
    const totals = db.collection('totals');
    await totals.insertOne({ _id: 'u1', note: 'keep', n: 0 } as never);
    await db.collection('completions').aggregate([
      { $group: { _id: '$user', n: { $sum: 1 } } },
      { $merge: { into: 'totals', on: '_id', whenMatched: 'merge', whenNotMatched: 'insert' } },
    ]).toArray();
    expect(await totals.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'u1', note: 'keep', n: 2 }, { _id: 'u2', n: 1 }, { _id: 'u3', n: 1 },
    ]);
  });

  test('when $sort crosses types and arrays, then MongoDB\'s order applies inside pipelines too', async () => {
    const c = db.collection('sortmix');
    await c.insertMany([{ _id: 1, v: 'b' }, { _id: 2, v: 3 }, { _id: 3, v: [1, 10] }, { _id: 4 }] as never[]);
    const asc = (await c.aggregate([{ $sort: { v: 1, _id: 1 } }]).toArray()).map((d) => d._id);
    const desc = (await c.aggregate([{ $sort: { v: -1, _id: 1 } }]).toArray()).map((d) => d._id);
    expect(asc).toEqual([4, 3, 2, 1]);
    expect(desc).toEqual([1, 3, 2, 4]);
  });

  test('when the aggregate runs through a mongoose connection, then $lookup results are the same as through the driver', async () => {
    const conn = await target.mongoose();
    const result = await conn.db!.collection('users').aggregate([
      { $match: { role: 'teacher' } },
      { $lookup: { from: 'completions', localField: '_id', foreignField: 'user', as: 'c' } },
      { $project: { count: { $size: '$c' } } },
      { $sort: { _id: 1 } },
    ]).toArray();
    expect(result).toEqual([{ _id: 'u1', count: 2 }, { _id: 'u3', count: 1 }]);
  });
});
