import { type Db, type Document } from 'mongodb';
import { openTarget, type Target } from './target';

let target: Target;
let db: Db;

beforeAll(async () => {
  target = await openTarget('indexes', { ttlIntervalMs: 200 });
  db = await target.db();
});
afterAll(async () => {
  await target.close();
});

/** The index names an explain output mentions (works for classic and SBE explain shapes). */
function indexNames(explain: Document): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Document;
      if (o.stage === 'IXSCAN' && typeof o.indexName === 'string') out.push(o.indexName);
      Object.values(o).forEach(walk);
    }
  };
  walk(explain.queryPlanner?.winningPlan);
  return out;
}

describe('index management', () => {
  test('when indexes are created, listed and dropped, then listIndexes reflects each step', async () => {
    const c = db.collection('mgmt');
    await c.insertOne({ a: 1, b: 1 });
    expect(await c.createIndexes([{ key: { a: 1 } }, { key: { a: 1, b: -1 }, name: 'ab' }])).toEqual(['a_1', 'ab']);
    expect(await c.createIndex({ a: 1 })).toBe('a_1');
    const listed = await c.listIndexes().toArray();
    expect(listed.map((i) => [i.name, i.key])).toEqual([['_id_', { _id: 1 }], ['a_1', { a: 1 }], ['ab', { a: 1, b: -1 }]]);
    await c.dropIndex('ab');
    await expect(c.dropIndex('nope')).rejects.toMatchObject({ code: 27 });
    await c.dropIndexes();
    expect((await c.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
  });

  test('when an index is created with the same name but other keys or options, then 86 / 85 conflicts are returned', async () => {
    const c = db.collection('conflicts');
    await c.createIndex({ a: 1 }, { name: 'x' });
    await expect(c.createIndex({ b: 1 }, { name: 'x' })).rejects.toMatchObject({ code: 86 });
    await expect(c.createIndex({ a: 1 }, { name: 'x', unique: true })).rejects.toMatchObject({ code: 85 });
  });

  test('when listing indexes of a missing collection, then 26 NamespaceNotFound; creating one that exists is 48', async () => {
    await expect(db.collection('missing').listIndexes().toArray()).rejects.toMatchObject({ code: 26 });
    await db.createCollection('made');
    await expect(db.createCollection('made')).rejects.toMatchObject({ code: 48 });
  });
});

describe('unique indexes', () => {
  test('when a unique index exists, then duplicates get 11000 with keyPattern and keyValue; a unique build over duplicates fails', async () => {
    const c = db.collection('uniq');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertOne({ email: 'a' });
    await expect(c.insertOne({ email: 'a' })).rejects.toMatchObject({ code: 11000, keyPattern: { email: 1 }, keyValue: { email: 'a' } });
    await c.insertOne({ other: 1 });
    await expect(c.insertOne({ other: 2 })).rejects.toMatchObject({ code: 11000, keyValue: { email: null } });
    await expect(c.updateOne({ other: 1 }, { $set: { email: 'a' } })).rejects.toMatchObject({ code: 11000 });
    const d = db.collection('uniq_build');
    await d.insertMany([{ k: 1 }, { k: 1 }]);
    await expect(d.createIndex({ k: 1 }, { unique: true })).rejects.toMatchObject({ code: 11000 });
  });

  test('when a compound unique index exists, then only the full key combination must be unique', async () => {
    const c = db.collection('compound');
    await c.createIndex({ school: 1, code: 1 }, { unique: true });
    await c.insertMany([{ school: 1, code: 'a' }, { school: 2, code: 'a' }, { school: 1, code: 'b' }]);
    await expect(c.insertOne({ school: 1, code: 'a' })).rejects.toMatchObject({ code: 11000, keyValue: { school: 1, code: 'a' } });
  });

  test('when a unique index is sparse or partial, then documents outside it do not collide', async () => {
    const s = db.collection('sparse');
    await s.createIndex({ sso: 1 }, { unique: true, sparse: true });
    await s.insertMany([{ name: 'x' }, { name: 'y' }, { sso: 'id1' }]);
    await expect(s.insertOne({ sso: 'id1' })).rejects.toMatchObject({ code: 11000 });
    const p = db.collection('partial');
    await p.createIndex({ email: 1 }, { unique: true, partialFilterExpression: { active: true } });
    await p.insertMany([{ email: 'a', active: false }, { email: 'a', active: false }, { email: 'a', active: true }]);
    await expect(p.insertOne({ email: 'a', active: true })).rejects.toMatchObject({ code: 11000 });
    expect(await p.countDocuments({ email: 'a' })).toBe(3);
  });

  test('when a unique index is on an array field, then values may repeat within a document but not across documents', async () => {
    const c = db.collection('multikey');
    await c.createIndex({ tags: 1 }, { unique: true });
    await c.insertOne({ tags: ['a', 'b', 'a'] });
    await c.insertOne({ tags: ['c'] });
    await expect(c.insertOne({ tags: ['d', 'b'] })).rejects.toMatchObject({ code: 11000, keyValue: { tags: 'b' } });
    expect(await c.countDocuments({ tags: 'a' })).toBe(1);
  });
});

describe('queries served by indexes', () => {
  beforeAll(async () => {
    const c = db.collection('served');
    await c.createIndex({ school: 1, at: 1 });
    await c.createIndex({ tags: 1 });
    await c.insertMany(Array.from({ length: 300 }, (_, i) => ({ school: i % 3, at: new Date(Date.UTC(2024, 0, 1 + (i % 30))), n: i, tags: [`t${i % 5}`] })));
  });

  test('when filtering by equality or range on an indexed prefix, then the plan is an index scan and results match a scan', async () => {
    const c = db.collection('served');
    const filters: Document[] = [
      { school: 1 },
      { school: 1, at: { $gte: new Date(Date.UTC(2024, 0, 10)), $lt: new Date(Date.UTC(2024, 0, 20)) } },
      { school: { $in: [0, 2] }, n: { $lt: 50 } },
      { tags: 't3', n: { $gt: 100 } },
    ];
    for (const f of filters) {
      expect(indexNames(await c.find(f).explain('queryPlanner'))).not.toHaveLength(0);
      const viaIndex = (await c.find(f).toArray()).map((d) => d.n).sort((a, b) => a - b);
      const all = await c.find({}).toArray();
      const viaScan = all.filter((d) => matches(d, f)).map((d) => d.n).sort((a, b) => a - b);
      expect(viaIndex).toEqual(viaScan);
    }
    expect(indexNames(await c.find({ n: 5 }).explain('queryPlanner'))).toHaveLength(0);
  });
});

describe('sorted finds over an index', () => {
  test('when a sorted, limited find follows an index (equality prefix, then the sort field), then the order is MongoDB\'s in both directions', async () => {
    const c = db.collection('sorted');
    await c.createIndex({ district: 1, at: -1 });
    const docs = Array.from({ length: 400 }, (_, i) => ({ _id: i, district: i % 2, at: i % 7 === 0 ? null : new Date(Date.UTC(2024, 0, 1, 0, (i * 37) % 400)) }));
    docs.push({ _id: 1000, district: 1 } as never);
    await c.insertMany(docs as never[]);
    const expected = (dir: 1 | -1) => docs.filter((d) => d.district === 1)
      .sort((a, b) => dir * ((a.at ? a.at.getTime() : -Infinity) - (b.at ? b.at.getTime() : -Infinity)) || 0);
    const desc = await c.find({ district: 1 }).sort({ at: -1 }).limit(30).toArray();
    expect(desc.map((d) => d.at?.getTime() ?? null)).toEqual(expected(-1).slice(0, 30).map((d) => d.at?.getTime() ?? null));
    const asc = await c.find({ district: 1 }).sort({ at: 1 }).skip(5).limit(70).toArray();
    expect(asc.map((d) => d.at?.getTime() ?? null)).toEqual(expected(1).slice(5, 75).map((d) => d.at?.getTime() ?? null));
    await c.insertOne({ _id: 2000, district: 1, at: [new Date(Date.UTC(2030, 0, 1)), new Date(Date.UTC(2000, 0, 1))] } as never);
    const withArray = await c.find({ district: 1 }).sort({ at: -1 }).limit(1).toArray();
    expect(withArray[0]._id).toBe(2000);
    const withArrayAsc = await c.find({ district: 1, at: { $ne: null } }).sort({ at: 1 }).limit(1).toArray();
    expect(withArrayAsc[0]._id).toBe(2000);
  });
});

function matches(d: Document, f: Document): boolean {
  return Object.entries(f).every(([k, cond]) => {
    const v = d[k];
    if (cond && typeof cond === 'object' && !(cond instanceof Date)) {
      const c = cond as Record<string, unknown>;
      const vs = Array.isArray(v) ? v : [v];
      return vs.some((x) => (c.$gte === undefined || x >= (c.$gte as never)) && (c.$lt === undefined || x < (c.$lt as never)) &&
        (c.$gt === undefined || x > (c.$gt as never)) && (c.$in === undefined || (c.$in as unknown[]).includes(x)));
    }
    return Array.isArray(v) ? v.includes(cond) : v === cond;
  });
}

describe('TTL indexes', () => {
  test('when a TTL index covers documents whose date has passed, then the background sweep deletes only those', async () => {
    const c = db.collection('ttl');
    await c.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    await c.insertMany([
      { k: 'past', expiresAt: new Date(Date.now() - 60_000) },
      { k: 'future', expiresAt: new Date(Date.now() + 3_600_000) },
      { k: 'no-date', expiresAt: 'not a date' },
    ]);
    const deadline = Date.now() + (target.embedded ? 10_000 : 120_000);
    while (Date.now() < deadline && (await c.countDocuments({ k: 'past' })) > 0) await new Promise((r) => setTimeout(r, 100));
    expect((await c.find().sort({ k: 1 }).toArray()).map((d) => d.k)).toEqual(['future', 'no-date']);
  }, 150_000);
});
