import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser, TEST_PASSWORD } from '../../helpers/factories';
import { csrfFrom } from '../../helpers/session';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

test('when one address keeps failing to sign in, then it is refused with 429 and a clear message, even with a right password', async () => {
  const district = await createDistrict();
  const user = await createUser(district, { schools: [await createSchool(district)] });
  const agent = request.agent(t.app);
  const csrf = csrfFrom((await agent.get('/login')).text);
  // Invalid input (422) counts as a failure and is cheap: no password hashing.
  let status = 0;
  let attempts = 0;
  while (attempts < 150) {
    attempts++;
    status = (await agent.post('/login').type('form').send({ _csrf: csrf, email: 'not-an-email', password: 'x' })).status;
    if (status !== 422) break;
  }
  expect(status).toBe(429);
  expect(attempts).toBe(101);
  const res = await agent.post('/login').type('form').send({ _csrf: csrf, email: user.email, password: TEST_PASSWORD });
  expect(res.status).toBe(429);
  expect(res.text).toContain('Too many sign-in attempts from this network');
  expect(res.headers['ratelimit-policy']).toBeDefined();
});
