import express from 'express';
import session from 'express-session';
import { MongoStore } from 'connect-mongo';
import request from 'supertest';
import { openTarget, type Target } from './target';

let target: Target;

beforeAll(async () => {
  target = await openTarget('sessions', { ttlIntervalMs: 100 });
});
afterAll(async () => {
  await target.close();
});

function buildApp(store: MongoStore, maxAge: number): express.Express {
  const app = express();
  app.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false, store, cookie: { maxAge } }));
  app.get('/visit', (req, res) => {
    const data = req.session as unknown as { visits?: number };
    data.visits = (data.visits ?? 0) + 1;
    res.json({ visits: data.visits });
  });
  app.get('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })));
  });
  return app;
}

describe('connect-mongo as the express-session store', () => {
  test('when a browser comes back with its cookie, then the session read from the store continues, and logout removes it', async () => {
    const client = await target.client();
    const store = MongoStore.create({ client, dbName: target.dbName, collectionName: 'sessions' });
    const agent = request.agent(buildApp(store, 60_000));
    expect((await agent.get('/visit')).body).toEqual({ visits: 1 });
    expect((await agent.get('/visit')).body).toEqual({ visits: 2 });
    const stored = await client.db(target.dbName).collection('sessions').find().toArray();
    expect(stored).toHaveLength(1);
    expect(stored[0].expires).toBeInstanceOf(Date);
    await agent.get('/logout');
    expect(await client.db(target.dbName).collection('sessions').countDocuments()).toBe(0);
    expect((await agent.get('/visit')).body).toEqual({ visits: 1 });
  });

  test('when a session expires, then the TTL index connect-mongo creates removes it from the store', async () => {
    const client = await target.client();
    const store = MongoStore.create({ client, dbName: target.dbName, collectionName: 'short_sessions', autoRemove: 'native' });
    const agent = request.agent(buildApp(store, 300));
    await agent.get('/visit');
    const coll = client.db(target.dbName).collection('short_sessions');
    expect(await coll.countDocuments()).toBe(1);
    const indexes = await coll.listIndexes().toArray();
    expect(indexes.find((i) => i.key.expires === 1)?.expireAfterSeconds).toBe(0);
    const deadline = Date.now() + (target.embedded ? 10_000 : 120_000);
    while (Date.now() < deadline && (await coll.countDocuments()) > 0) await new Promise((r) => setTimeout(r, 100));
    expect(await coll.countDocuments()).toBe(0);
  }, 150_000);
});
