import request from 'supertest';
import { FAILED_TOKEN_LIMIT } from '../../../src/components/scim/scim.routes';
import { startTestApp, type TestApp } from '../../helpers/app';
import { expectScimError, scimClient, scimDistrict } from './scim.helpers';

// Its own app: the limiter's count is per app instance and per address.
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

test('when one address keeps presenting wrong tokens, then it is refused with 429 after the limit, while right tokens never counted', async () => {
  const { token } = await scimDistrict(t.app);
  // Successful requests do not count towards the limit.
  for (let i = 0; i < FAILED_TOKEN_LIMIT + 5; i++) expect((await scimClient(t.app, token).get('/ServiceProviderConfig')).status).toBe(200);
  const statuses: number[] = [];
  for (let i = 0; i <= FAILED_TOKEN_LIMIT; i++) statuses.push((await request(t.app).get('/scim/v2/Users').set('Authorization', 'Bearer wrong')).status);

  expect(statuses).toEqual([...Array(FAILED_TOKEN_LIMIT).fill(401), 429]);
  expectScimError(await request(t.app).get('/scim/v2/Users').set('Authorization', 'Bearer wrong'), 429);
  expectScimError(await scimClient(t.app, token).get('/Users'), 429);
});
