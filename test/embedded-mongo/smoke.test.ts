import { Schema, type Connection } from 'mongoose';
import session from 'express-session';
import { MongoStore } from 'connect-mongo';
import { openTarget, type Target } from './target';

let target: Target;
let conn: Connection;

beforeAll(async () => {
  target = await openTarget('smoke');
  conn = await target.mongoose();
});
afterAll(async () => {
  await target.close();
});

const userSchema = new Schema({
  email: { type: String, required: true, unique: true },
  name: String,
  schoolId: { type: Schema.Types.ObjectId, ref: 'School', index: true },
  visits: { type: Number, default: 0 },
}, { timestamps: true });
const schoolSchema = new Schema({ name: String });

describe('embedded server smoke: typical mongoose model operations', () => {
  test('when a model is created, queried, updated and deleted, then every step sees the stored data', async () => {
    const School = conn.model('School', schoolSchema);
    const User = conn.model('User', userSchema);
    await User.syncIndexes();
    const school = await School.create({ name: 'Lincoln' });
    await User.create({ email: 'a@x.org', name: 'A', schoolId: school._id });
    await User.insertMany([{ email: 'b@x.org', name: 'B', schoolId: school._id }, { email: 'c@x.org', name: 'C' }]);

    expect(await User.countDocuments({ schoolId: school._id })).toBe(2);
    const a = await User.findOne({ email: 'a@x.org' }).populate('schoolId').lean();
    expect((a!.schoolId as unknown as { name: string }).name).toBe('Lincoln');

    await User.updateOne({ email: 'a@x.org' }, { $inc: { visits: 2 } });
    expect((await User.findOne({ email: 'a@x.org' }).lean())!.visits).toBe(2);

    const upserted = await User.findOneAndUpdate({ email: 'd@x.org' }, { name: 'D' }, { upsert: true, returnDocument: 'after' }).lean();
    expect(upserted!.createdAt).toBeInstanceOf(Date);
    expect(upserted!.email).toBe('d@x.org');

    const grouped = await User.aggregate([{ $group: { _id: '$schoolId', n: { $sum: 1 } } }, { $sort: { n: -1 } }]);
    expect(grouped[0].n).toBe(2);

    await expect(User.create({ email: 'a@x.org' })).rejects.toMatchObject({ code: 11000, keyValue: { email: 'a@x.org' } });

    expect((await User.deleteMany({ schoolId: { $exists: false } })).deletedCount).toBe(2);
    expect(await User.countDocuments()).toBe(2);
    const indexes = await User.listIndexes();
    expect(indexes.map((i) => i.name).sort()).toEqual(['_id_', 'email_1', 'schoolId_1']);
  });

  test('when connect-mongo stores, reads, touches and destroys a session, then each call sees the previous one', async () => {
    const client = await target.client();
    const store = MongoStore.create({ client, dbName: target.dbName, collectionName: 'sessions', stringify: false });
    const cookie = new session.Cookie();
    cookie.maxAge = 60_000;
    const data = { cookie, user: 'u1' } as unknown as session.SessionData;
    const call = <T>(fn: (cb: (err: unknown, v?: T | null) => void) => void) =>
      new Promise<T | null | undefined>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));

    await call((cb) => store.set('sid1', data, cb));
    await call((cb) => store.set('sid1', { ...data, user: 'u2' } as session.SessionData, cb));
    const got = await call<session.SessionData>((cb) => store.get('sid1', cb));
    expect((got as unknown as { user: string }).user).toBe('u2');
    await call((cb) => store.touch('sid1', data, cb));
    await call((cb) => store.destroy('sid1', cb));
    expect(await call((cb) => store.get('sid1', cb))).toBeFalsy();
    await store.close();
  });
});
