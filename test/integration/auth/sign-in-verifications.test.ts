import argon2 from 'argon2';
import request from 'supertest';
import { User } from '../../../src/components/users';
import { MAX_ACCOUNTS_PER_EMAIL, signIn } from '../../../src/components/auth/auth.service';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createUser, TEST_PASSWORD } from '../../helpers/factories';
import { csrfFrom } from '../../helpers/session';

/**
 * The time of a sign-in answer is mostly its slow password checks (argon2). Each sign-in makes the same number
 * of them whether the email has no account, one, or one in each of several districts: counted here, not timed.
 */
let t: TestApp;
let verify: jest.SpiedFunction<typeof argon2.verify>;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => {
  verify = jest.spyOn(argon2, 'verify');
});
afterEach(() => {
  verify.mockRestore();
});

async function accountsFor(email: string, count: number) {
  const users = [];
  for (let i = 0; i < count; i++) users.push(await createUser(await createDistrict(), { email }));
  return users;
}

test('when an email has no account, one, or several (one per district), then each sign-in checks the same number of hashes', async () => {
  await accountsFor('one@several.example', 1);
  await accountsFor('two@several.example', 2);
  await accountsFor('five@several.example', MAX_ACCOUNTS_PER_EMAIL);
  const checks: Record<string, number> = {};
  const realChecks: Record<string, number> = {};
  // The factory gives every account the same hash: the calls with it are the real accounts' checks, the rest dummies.
  const realHash = (await User.findOne({ email: 'one@several.example' }).select('+passwordHash').lean().orFail()).passwordHash;
  for (const email of ['nobody@several.example', 'one@several.example', 'two@several.example', 'five@several.example']) {
    verify.mockClear();
    const result = await signIn(email, 'a wrong password');
    expect(result).toEqual({ ok: false, reason: 'invalid' });
    checks[email] = verify.mock.calls.length;
    realChecks[email] = verify.mock.calls.filter(([hash]) => hash === realHash).length;
  }
  expect(checks).toEqual({
    'nobody@several.example': MAX_ACCOUNTS_PER_EMAIL,
    'one@several.example': MAX_ACCOUNTS_PER_EMAIL,
    'two@several.example': MAX_ACCOUNTS_PER_EMAIL,
    'five@several.example': MAX_ACCOUNTS_PER_EMAIL,
  });
  expect(realChecks).toEqual({ 'nobody@several.example': 0, 'one@several.example': 1, 'two@several.example': 2, 'five@several.example': MAX_ACCOUNTS_PER_EMAIL });
  // Each real account's failure still counts against it.
  const two = await User.find({ email: 'two@several.example' }).select('+failedSignIns').lean();
  expect(two.map((u) => u.failedSignIns)).toEqual([1, 1]);
});

test('when the right password is given, or an account has no password, then the number of checks is the same', async () => {
  const [withPassword] = await accountsFor('right@several.example', 1);
  const [, rosterOnly] = await accountsFor('mixed@several.example', 2);
  await User.updateOne({ _id: rosterOnly._id }, { $unset: { passwordHash: 1 } });

  verify.mockClear();
  const right = await signIn('right@several.example', TEST_PASSWORD);
  const rightChecks = verify.mock.calls.length;
  verify.mockClear();
  const mixed = await signIn('mixed@several.example', TEST_PASSWORD);
  const mixedChecks = verify.mock.calls.length;

  expect(right).toMatchObject({ ok: true, actor: { userId: String(withPassword._id) } });
  expect(mixed.ok).toBe(true);
  expect([rightChecks, mixedChecks]).toEqual([MAX_ACCOUNTS_PER_EMAIL, MAX_ACCOUNTS_PER_EMAIL]);
});

test('when signing in through the form, then an unknown email and a two-district email cost the same number of checks', async () => {
  await accountsFor('form@several.example', 2);
  const attempt = async (email: string) => {
    const agent = request.agent(t.app);
    const csrf = csrfFrom((await agent.get('/login')).text);
    verify.mockClear();
    const res = await agent.post('/login').type('form').send({ _csrf: csrf, email, password: 'a wrong password' });
    return { status: res.status, checks: verify.mock.calls.length };
  };
  expect(await attempt('unknown@several.example')).toEqual({ status: 401, checks: MAX_ACCOUNTS_PER_EMAIL });
  expect(await attempt('form@several.example')).toEqual({ status: 401, checks: MAX_ACCOUNTS_PER_EMAIL });
});
