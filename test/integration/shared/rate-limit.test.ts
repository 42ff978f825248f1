import { createServer } from 'node:net';
import express, { type Express } from 'express';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import request from 'supertest';
import { logger } from '../../../src/shared/logger';
import { rateLimitKeyHasher, sharedRateLimit, type SharedRateLimitOptions } from '../../../src/shared/rate-limit';
import { RateLimitCounter } from '../../../src/shared/rate-limit.model';
import { startTestApp, type TestApp } from '../../helpers/app';

const SECRET = 'a-test-secret-of-at-least-thirty-two-characters';
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});
beforeEach(async () => {
  await RateLimitCounter.deleteMany({});
});

/** A bare app behind one shared limit: 200 when let through, the library's default 429 otherwise. */
function limitedApp(options: Partial<SharedRateLimitOptions> & { windowMs: number; limit: number }): Express {
  const app = express();
  app.use(sharedRateLimit({ name: 'probe', secret: SECRET, standardHeaders: 'draft-8', legacyHeaders: false, ...options }));
  app.get('/', (_req, res) => {
    res.send('ok');
  });
  return app;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('when a window is over, then the client counts from one again in a new window, and the server deletes the old counter (TTL)', async () => {
  const app = limitedApp({ windowMs: 300, limit: 2 });
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await request(app).get('/')).status);
  expect(statuses).toEqual([200, 200, 429]);
  const first = await RateLimitCounter.findOne().lean();
  expect(first?.points).toBe(3);

  // Wait out the window (its end is what was stored), whatever the time the requests took.
  await sleep(Math.max(0, first!.expire!.getTime() - Date.now()) + 20);
  expect((await request(app).get('/')).status).toBe(200);
  const second = await RateLimitCounter.findOne({ key: first!.key }).lean();
  expect(second?.points).toBe(1);
  expect(second!.expire!.getTime()).toBeGreaterThan(first!.expire!.getTime());

  // Nothing deletes it but the TTL index (the embedded server sweeps every second, mongod every minute).
  let left = 1;
  for (let i = 0; i < 900 && left > 0; i++) {
    await sleep(100);
    left = await RateLimitCounter.countDocuments({ key: first!.key });
  }
  expect(left).toBe(0);
}, 120_000);

test('when the counters collection is set up, then it has the unique key index and the TTL index on the window end', async () => {
  const indexes = await RateLimitCounter.collection.indexes();
  expect(indexes).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ key: { key: 1 }, unique: true }),
      expect.objectContaining({ key: { expire: 1 }, expireAfterSeconds: 0 }),
    ]),
  );
});

test('when a client key is an email, then only its keyed hash is stored, and another secret gives another hash', async () => {
  const app = limitedApp({ windowMs: 60_000, limit: 5, keyGenerator: (req) => `email:${String(req.query.email)}` });
  await request(app).get('/').query({ email: 'person@d.example' });
  await request(app).get('/').query({ email: 'person@d.example' });
  await request(app).get('/').query({ email: 'other@d.example' });

  const stored = await RateLimitCounter.find().sort({ points: -1 }).lean();
  const expected = rateLimitKeyHasher(SECRET, 'probe')('email:person@d.example');
  expect(stored.map((c) => [c.key, c.points])).toEqual([
    [`probe:${expected}`, 2],
    [`probe:${rateLimitKeyHasher(SECRET, 'probe')('email:other@d.example')}`, 1],
  ]);
  expect(stored.some((c) => c.key.includes('@') || c.key.includes('person'))).toBe(false);
  expect(rateLimitKeyHasher(`${SECRET}-rotated`, 'probe')('email:person@d.example')).not.toBe(expected);
  expect(rateLimitKeyHasher(SECRET, 'other-limit')('email:person@d.example')).not.toBe(expected);
});

test('when a successful request is not to count, then it is taken off the live window, never below zero', async () => {
  const app = express();
  app.use(sharedRateLimit({ name: 'probe', secret: SECRET, windowMs: 60_000, limit: 2, skipSuccessfulRequests: true }));
  app.get('/', (req, res) => {
    res.status(req.query.ok === '1' ? 200 : 401).send('');
  });
  for (let i = 0; i < 5; i++) expect((await request(app).get('/').query({ ok: '1' })).status).toBe(200);
  // The library takes a success off once the answer is sent: wait for the last one to be written.
  let points: number | undefined;
  for (let i = 0; i < 100 && points !== 0; i++) {
    points = (await RateLimitCounter.findOne().lean())?.points;
    if (points !== 0) await sleep(20);
  }
  expect(points).toBe(0);
  expect((await request(app).get('/')).status).toBe(401);
  expect((await request(app).get('/')).status).toBe(401);
  expect((await request(app).get('/')).status).toBe(429);
});

test('when the database does not answer, then requests are still limited by this instance alone, with a warning logged', async () => {
  // A port nobody listens on: every operation fails once server selection gives up.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 200 });
  const lines: string[] = [];
  const stream = (logger as unknown as Record<symbol, { write(line: string): boolean }>)[pino.symbols.streamSym];
  const write = jest.spyOn(stream, 'write').mockImplementation((line: string) => lines.push(line) > 0);
  logger.level = 'warn';
  try {
    const app = limitedApp({ windowMs: 60_000, limit: 2, collection: () => client.db('unreachable').collection('rate_limits') });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await request(app).get('/')).status);

    expect(statuses).toEqual([200, 200, 429]);
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string; limit?: string });
    // One warning for the outage, not one per request.
    expect(warnings.filter((w) => w.msg.startsWith('rate-limit store unavailable'))).toEqual([expect.objectContaining({ level: 40, limit: 'probe' })]);
  } finally {
    logger.level = 'silent';
    write.mockRestore();
    await client.close();
  }
});
