import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';
import { openTarget, type Target } from './target';

let target: Target;
let conn: Connection;
const userSchema = new Schema({ email: { type: String, unique: true, required: true }, name: String }, { timestamps: true });
let User: Model<InferSchemaType<typeof userSchema>>;

beforeAll(async () => {
  target = await openTarget('dupkeys');
  conn = await target.mongoose();
  User = conn.model('User', userSchema);
  await User.init();
});
afterAll(async () => {
  await target.close();
});
beforeEach(async () => {
  await User.deleteMany({});
});

describe('duplicate keys through mongoose', () => {
  test('when Model.create repeats a unique value, then mongoose surfaces a MongoServerError 11000 with keyValue', async () => {
    await User.create({ email: 'a@x' });
    const err = await User.create({ email: 'a@x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'MongoServerError', code: 11000, keyPattern: { email: 1 }, keyValue: { email: 'a@x' } });
  });

  test('when insertMany is ordered, then it stops at the first duplicate and reports its index', async () => {
    const err = await User.insertMany([{ email: 'a' }, { email: 'b' }, { email: 'a' }, { email: 'c' }]).catch((e: unknown) => e) as {
      code: number; writeErrors: Array<{ index: number; code: number }>; insertedDocs: unknown[];
    };
    expect(err.code).toBe(11000);
    expect(err.writeErrors.map((w) => [w.index, w.code])).toEqual([[2, 11000]]);
    expect((await User.find().lean()).map((u) => u.email).sort()).toEqual(['a', 'b']);
  });

  test('when insertMany is unordered, then every non-duplicate is stored and each duplicate is reported', async () => {
    const err = await User.insertMany([{ email: 'a' }, { email: 'a' }, { email: 'b' }, { email: 'b' }, { email: 'c' }], { ordered: false })
      .catch((e: unknown) => e) as { writeErrors: Array<{ index: number; err?: { index: number } }> };
    const indexes = err.writeErrors.map((w) => w.index ?? w.err?.index).sort();
    expect(indexes).toEqual([1, 3]);
    expect((await User.find().lean()).map((u) => u.email).sort()).toEqual(['a', 'b', 'c']);
  });

  test('when findOneAndUpdate upserts onto an existing unique value, then it fails with 11000 and changes nothing', async () => {
    await User.create({ email: 'taken', name: 'first' });
    const err = await User.findOneAndUpdate({ name: 'nobody' }, { $set: { email: 'taken' } }, { upsert: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 11000, keyValue: { email: 'taken' } });
    expect(await User.countDocuments()).toBe(1);
    const upserted = await User.findOneAndUpdate({ email: 'new' }, { $set: { name: 'n' } }, { upsert: true, returnDocument: 'after' }).lean();
    expect(upserted).toMatchObject({ email: 'new', name: 'n' });
    expect(upserted!.createdAt).toBeInstanceOf(Date);
  });
});
