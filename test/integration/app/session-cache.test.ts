import type { SessionData, Store } from 'express-session';
import { MongoStore } from 'connect-mongo';
import mongoose from 'mongoose';
import { CachedSessionStore } from '../../../src/shared/session-cache';
import { startTestApp, type TestApp } from '../../helpers/app';

// The cache in front of the real connect-mongo store on the test database: what it answers from memory,
// and that everything done through it is seen at once.
let t: TestApp;
let collectionCounter = 0;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

function stores(ttlMs: number): { cached: CachedSessionStore; collection: mongoose.mongo.Collection } {
  const collectionName = `sessions_cache_test_${collectionCounter++}`;
  const inner = MongoStore.create({ client: mongoose.connection.getClient(), dbName: mongoose.connection.db!.databaseName, collectionName, ttl: 3600, autoRemove: 'disabled', touchAfter: 60 });
  return { cached: new CachedSessionStore(inner, { ttlMs, touchAfterMs: 60_000 }), collection: mongoose.connection.db!.collection(collectionName) };
}

const call = <T>(fn: (cb: (err: unknown, value?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => fn((err, value) => (err ? reject(err as Error) : resolve(value))));

function session(extra: Record<string, unknown> = {}, expiresInMs = 3_600_000): SessionData {
  return { cookie: { originalMaxAge: expiresInMs, expires: new Date(Date.now() + expiresInMs), httpOnly: true, path: '/' }, ...extra } as unknown as SessionData;
}

const get = (store: Store, sid: string) => call<SessionData | null>((cb) => store.get(sid, cb));
const set = (store: Store, sid: string, data: SessionData) => call<void>((cb) => store.set(sid, data, cb));
const destroy = (store: Store, sid: string) => call<void>((cb) => store.destroy(sid, cb));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('CachedSessionStore', () => {
  test('when a session was written through it, then it is stored in MongoDB and read back from memory until the entry expires', async () => {
    const { cached, collection } = stores(200);
    await set(cached, 's1', session({ passport: { user: 'u1' }, lang: 'es' }));
    expect(await collection.countDocuments({ _id: 's1' } as object)).toBe(1);

    // Removed behind its back (as a sign-out on another instance would): still answered within the TTL…
    await collection.deleteOne({ _id: 's1' } as object);
    expect(await get(cached, 's1')).toMatchObject({ passport: { user: 'u1' }, lang: 'es' });
    // …and gone once it has expired.
    await sleep(250);
    expect(await get(cached, 's1')).toBeNull();
  });

  test('when the TTL is 0, then every read goes to MongoDB', async () => {
    const { cached, collection } = stores(0);
    await set(cached, 's2', session({ lang: 'en' }));
    expect(await get(cached, 's2')).toMatchObject({ lang: 'en' });
    await collection.deleteOne({ _id: 's2' } as object);
    expect(await get(cached, 's2')).toBeNull();
  });

  test('when a session is destroyed or rewritten through it, then the next read sees that at once', async () => {
    const { cached } = stores(60_000);
    await set(cached, 's3', session({ lang: 'en' }));
    expect(await get(cached, 's3')).toMatchObject({ lang: 'en' });

    await set(cached, 's3', session({ lang: 'es' }));
    expect(await get(cached, 's3')).toMatchObject({ lang: 'es' });

    await destroy(cached, 's3');
    expect(await get(cached, 's3')).toBeNull();
  });

  test('when a caller changes the session it was given, then the cached copy is not changed', async () => {
    const { cached } = stores(60_000);
    await set(cached, 's4', session({ flash: 'saved' }));
    const first = await get(cached, 's4');
    (first as unknown as Record<string, unknown>).flash = 'tampered';
    expect(await get(cached, 's4')).toMatchObject({ flash: 'saved' });
  });

  test('when the cached session’s cookie has expired, then it is not answered from memory', async () => {
    const { cached, collection } = stores(60_000);
    await set(cached, 's5', session({ lang: 'en' }, 50));
    await collection.deleteOne({ _id: 's5' } as object);
    await sleep(80);
    expect(await get(cached, 's5')).toBeNull();
  });

  test('when a session is read, then its dates come back as dates (express-session and connect-mongo need them)', async () => {
    const { cached } = stores(60_000);
    await set(cached, 's6', session({ lang: 'en' }));
    const data = (await get(cached, 's6')) as SessionData & { lastModified?: unknown };
    expect(data.lastModified).toBeInstanceOf(Date);
    expect(new Date(data.cookie.expires as unknown as string).getTime()).toBeGreaterThan(Date.now());
  });
});
