import { MongoServerError, type Db, type MongoClient } from 'mongodb';
import { Schema } from 'mongoose';
import { openTarget, type Target } from './target';

let target: Target;
let db: Db;
let client: MongoClient;

beforeAll(async () => {
  target = await openTarget('txn');
  client = await target.client();
  db = client.db(target.dbName);
});
afterAll(async () => {
  await target.close();
});

describe('transactions through the driver', () => {
  test('when a transaction commits, then all its writes are visible together and it really ran as a transaction', async () => {
    const c = db.collection('commit');
    await c.insertOne({ _id: 'seed' as never });
    const session = client.startSession();
    try {
      session.startTransaction();
      await c.insertOne({ _id: 'a' as never }, { session });
      await c.updateOne({ _id: 'seed' as never }, { $set: { touched: true } }, { session });
      expect(session.inTransaction()).toBe(true);
      expect(await c.countDocuments({}, { session })).toBe(2);
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    expect(await c.findOne({ _id: 'seed' as never })).toEqual({ _id: 'seed', touched: true });
    expect(await c.countDocuments()).toBe(2);
  });

  test('when a transaction aborts, then none of its writes remain', async () => {
    const c = db.collection('abort');
    await c.insertOne({ _id: 1 as never, v: 0 });
    const session = client.startSession();
    try {
      session.startTransaction();
      await c.insertOne({ _id: 2 as never }, { session });
      await c.updateOne({ _id: 1 as never }, { $inc: { v: 5 } }, { session });
      await c.deleteOne({ _id: 1 as never }, { session });
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    expect(await c.find().toArray()).toEqual([{ _id: 1, v: 0 }]);
  });

  test('when one session writes inside a transaction, then another session does not see it until commit', async () => {
    const c = db.collection('isolation');
    await c.insertOne({ _id: 1 as never, v: 'old' });
    const s1 = client.startSession();
    const other = await target.client();
    const c2 = other.db(target.dbName).collection('isolation');
    try {
      s1.startTransaction();
      await c.updateOne({ _id: 1 as never }, { $set: { v: 'new' } }, { session: s1 });
      await c.insertOne({ _id: 2 as never, v: 'fresh' }, { session: s1 });
      expect(await c2.find().toArray()).toEqual([{ _id: 1, v: 'old' }]);
      await c2.insertOne({ _id: 3 as never, v: 'outside' });
      expect(await c.countDocuments({}, { session: s1 })).toBe(2);
      await s1.commitTransaction();
    } finally {
      await s1.endSession();
    }
    expect(await c2.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, v: 'new' }, { _id: 2, v: 'fresh' }, { _id: 3, v: 'outside' }]);
  });

  test('when two transactions write the same document, then the second gets WriteConflict (112) labelled transient', async () => {
    const c = db.collection('conflict');
    await c.insertOne({ _id: 1 as never, v: 0 });
    const s1 = client.startSession();
    const s2 = client.startSession();
    try {
      s1.startTransaction();
      s2.startTransaction();
      await c.updateOne({ _id: 1 as never }, { $inc: { v: 1 } }, { session: s1 });
      const err = await c.updateOne({ _id: 1 as never }, { $inc: { v: 10 } }, { session: s2 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MongoServerError);
      expect((err as MongoServerError).code).toBe(112);
      expect((err as MongoServerError).hasErrorLabel('TransientTransactionError')).toBe(true);
      await s2.abortTransaction().catch(() => undefined);
      await s1.commitTransaction();
    } finally {
      await s1.endSession();
      await s2.endSession();
    }
    expect((await c.findOne({ _id: 1 as never }))!.v).toBe(1);
  });

  test('when withTransaction hits a conflict, then it retries the callback and eventually commits once', async () => {
    const c = db.collection('retry');
    await c.insertOne({ _id: 1 as never, v: 0 });
    const blocker = client.startSession();
    const session = client.startSession();
    let attempts = 0;
    try {
      blocker.startTransaction();
      await c.updateOne({ _id: 1 as never }, { $inc: { v: 100 } }, { session: blocker });
      await session.withTransaction(async () => {
        attempts++;
        if (attempts === 2) await blocker.commitTransaction();
        await c.updateOne({ _id: 1 as never }, { $inc: { v: 1 } }, { session });
      });
    } finally {
      await blocker.endSession();
      await session.endSession();
    }
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect((await c.findOne({ _id: 1 as never }))!.v).toBe(101);
  });

  test('when a non-transactional write targets a document a transaction holds, then it waits for the commit', async () => {
    const c = db.collection('blocking');
    await c.insertOne({ _id: 1 as never, v: 0 });
    const s1 = client.startSession();
    try {
      s1.startTransaction();
      await c.updateOne({ _id: 1 as never }, { $inc: { v: 1 } }, { session: s1 });
      const outside = c.updateOne({ _id: 1 as never }, { $inc: { v: 10 } }, { maxTimeMS: 20000 });
      await new Promise((r) => setTimeout(r, 100));
      await s1.commitTransaction();
      await outside;
    } finally {
      await s1.endSession();
    }
    expect((await c.findOne({ _id: 1 as never }))!.v).toBe(11);
  });

  test('when a duplicate key happens inside a transaction, then the transaction is aborted and nothing is kept', async () => {
    const c = db.collection('txn_dup');
    await c.insertOne({ _id: 1 as never });
    const session = client.startSession();
    try {
      session.startTransaction();
      await c.insertOne({ _id: 2 as never }, { session });
      await expect(c.insertOne({ _id: 1 as never }, { session })).rejects.toMatchObject({ code: 11000 });
      await expect(session.commitTransaction()).rejects.toMatchObject({ code: 251 });
    } finally {
      await session.endSession();
    }
    expect(await c.countDocuments()).toBe(1);
  });
});

describe('transactions through mongoose', () => {
  test('when connection.transaction() and session.withTransaction() run, then commits land and thrown errors roll back', async () => {
    const conn = await target.mongoose();
    const Account = conn.model('Account', new Schema({ owner: String, balance: Number }));
    await Account.createCollection();
    await Account.create([{ owner: 'a', balance: 10 }, { owner: 'b', balance: 0 }]);
    await conn.transaction(async (session) => {
      await Account.updateOne({ owner: 'a' }, { $inc: { balance: -5 } }, { session });
      await Account.updateOne({ owner: 'b' }, { $inc: { balance: 5 } }, { session });
    });
    const failing = conn.transaction(async (session) => {
      await Account.updateOne({ owner: 'a' }, { $inc: { balance: -100 } }, { session });
      throw new Error('insufficient funds');
    });
    await expect(failing).rejects.toThrow('insufficient funds');
    const session = await conn.startSession();
    await session.withTransaction(async () => {
      await Account.create([{ owner: 'c', balance: 1 }], { session });
    });
    await session.endSession();
    const balances = Object.fromEntries((await Account.find().lean()).map((d) => [d.owner, d.balance]));
    expect(balances).toEqual({ a: 5, b: 5, c: 1 });
  });
});
