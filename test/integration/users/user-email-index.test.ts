import { User } from '../../../src/components/users';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createUser } from '../../helpers/factories';

// Password sign-in and SSO first-link look a person up by email across districts; the unique index is
// { district, email }, which cannot serve a query without the district.
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

/** The index names the winning plan scans (classic and SBE explain shapes). */
function indexNames(explain: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.stage === 'IXSCAN' && typeof o.indexName === 'string') out.push(o.indexName);
      Object.values(o).forEach(walk);
    }
  };
  walk((explain as { queryPlanner?: { winningPlan?: unknown } }).queryPlanner?.winningPlan);
  return out;
}

describe('users: lookup by email across districts', () => {
  test('when the users collection is set up, then it has a non-unique { email: 1 } index next to the unique { district, email }', async () => {
    const indexes = await User.collection.listIndexes().toArray();
    const byEmail = indexes.find((i) => JSON.stringify(i.key) === JSON.stringify({ email: 1 }));
    expect(byEmail).toBeDefined();
    expect(byEmail!.unique).toBeFalsy();
    expect(indexes.find((i) => JSON.stringify(i.key) === JSON.stringify({ district: 1, email: 1 }))?.unique).toBe(true);
  });

  test('when sign-in and SSO first-link look up an email, then the plan scans the email index, not the collection', async () => {
    const [a, b] = [await createDistrict(), await createDistrict()];
    await createUser(a, { email: 'same.person@two.test' });
    await createUser(b, { email: 'same.person@two.test' });
    for (let i = 0; i < 20; i++) await createUser(a);

    // The same query shapes as auth.service signIn and sso.service resolveSsoSignIn.
    const signInPlan = await User.findOne({ email: 'same.person@two.test' }).select('+passwordHash').explain('queryPlanner');
    const firstLinkPlan = await User.find({ email: 'same.person@two.test' }).limit(2).explain('queryPlanner');
    expect(indexNames(signInPlan)).toEqual(['email_1']);
    expect(indexNames(firstLinkPlan)).toEqual(['email_1']);
    expect(await User.find({ email: 'same.person@two.test' }).limit(2).lean()).toHaveLength(2);
  });
});
