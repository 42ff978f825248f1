import { MongoServerError, type Collection, type Db } from 'mongodb';
import { openTarget, type Target } from './target';

/**
 * The writes rate-limiter-flexible's RateLimiterMongo sends for the app's shared rate limits
 * (src/shared/rate-limit.ts), sent here as the driver sends them: MongoDB's answers are what the limits rely on.
 */
let target: Target;
let db: Db;
let counters: Collection;

beforeAll(async () => {
  target = await openTarget('ratelimits');
  db = await target.db();
  counters = db.collection('rate_limits');
  // No TTL index here: the tests keep ended windows on purpose (the app's TTL expiry is tested with the app).
  await counters.createIndex({ key: 1 }, { unique: true });
});
afterAll(async () => {
  await target.close();
});

/** One count: increments the live window's counter, or creates it with its end (RateLimiterMongo's _upsert). */
function count(key: string, now: Date, windowMs: number) {
  return counters.findOneAndUpdate(
    { $or: [{ expire: { $gt: now } }, { expire: { $eq: null } }], key },
    { $setOnInsert: { key, expire: new Date(now.getTime() + windowMs) }, $inc: { points: 1 } },
    { upsert: true, returnDocument: 'after' },
  );
}

test('when a key is counted concurrently, then one counter holds every count and each answer saw a distinct total', async () => {
  const now = new Date();
  const answers = await Promise.all(Array.from({ length: 25 }, () => count('c:concurrent', now, 60_000).catch((e: unknown) => e)));
  // A first count that lost the race to create the counter fails with 11000 (the library then counts again).
  const duplicates = answers.filter((a) => a instanceof MongoServerError);
  expect(duplicates.every((e) => (e as MongoServerError).code === 11000)).toBe(true);
  const totals = answers.filter((a) => !(a instanceof MongoServerError)).map((a) => (a as { points: number }).points);
  expect(new Set(totals).size).toBe(totals.length);
  const stored = await counters.find({ key: 'c:concurrent' }).toArray();
  expect(stored).toHaveLength(1);
  expect(stored[0].points).toBe(totals.length);
  expect(stored[0].expire).toEqual(new Date(now.getTime() + 60_000));
});

test('when a window has ended but its counter is not deleted yet, then the count fails with 11000 and the replace starts a new window', async () => {
  const past = new Date(Date.now() - 10_000);
  await counters.insertOne({ key: 'c:expired', points: 7, expire: past });
  const now = new Date();

  const err = await count('c:expired', now, 60_000).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MongoServerError);
  expect((err as MongoServerError).code).toBe(11000);
  const replaced = await counters.findOneAndUpdate(
    { $or: [{ expire: { $lte: now } }, { expire: { $eq: null } }], key: 'c:expired' },
    { $set: { key: 'c:expired', points: 1, expire: new Date(now.getTime() + 60_000) } },
    { upsert: true, returnDocument: 'after' },
  );

  expect(replaced).toMatchObject({ key: 'c:expired', points: 1, expire: new Date(now.getTime() + 60_000) });
  expect(await count('c:expired', new Date(), 60_000)).toMatchObject({ points: 2 });
  expect(await counters.countDocuments({ key: 'c:expired' })).toBe(1);
});

test('when a success is taken off, then only a live window with a positive count is decremented', async () => {
  const now = new Date();
  await counters.insertMany([
    { key: 'c:live', points: 1, expire: new Date(now.getTime() + 60_000) },
    { key: 'c:zero', points: 0, expire: new Date(now.getTime() + 60_000) },
    { key: 'c:ended', points: 3, expire: new Date(now.getTime() - 1) },
  ]);
  for (const key of ['c:live', 'c:zero', 'c:ended', 'c:missing']) {
    await counters.updateOne({ key, expire: { $gt: now }, points: { $gt: 0 } }, { $inc: { points: -1 } });
  }
  const points = Object.fromEntries((await counters.find({ key: { $in: ['c:live', 'c:zero', 'c:ended', 'c:missing'] } }).toArray()).map((c) => [c.key, c.points]));
  expect(points).toEqual({ 'c:live': 0, 'c:zero': 0, 'c:ended': 3 });
});
