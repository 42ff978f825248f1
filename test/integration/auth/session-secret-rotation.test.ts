import request from 'supertest';
import type { Express } from 'express';
import { buildApp } from '../../../src/app';
import { loadConfig } from '../../../src/config';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser, TEST_PASSWORD } from '../../helpers/factories';
import { csrfFrom } from '../../helpers/session';

/**
 * SESSION_SECRET rotation (docs/rotation.md): after the secret changes, sessions signed with the old one go on
 * when it is kept in SESSION_SECRET_PREVIOUS, and their next response carries a cookie signed with the new one;
 * without it, everyone is signed out. Three app instances on one database stand for the deployments before,
 * during and after.
 */
const OLD = 'o'.repeat(48);
const NEW = 'n'.repeat(48);
let before: TestApp;
let during: Express;
let after: Express;
let email: string;

beforeAll(async () => {
  before = await startTestApp({ SESSION_SECRET: OLD });
  during = buildApp(loadConfig({ NODE_ENV: 'test', SESSION_SECRET: NEW, SESSION_SECRET_PREVIOUS: OLD }));
  after = buildApp(loadConfig({ NODE_ENV: 'test', SESSION_SECRET: NEW }));
  const district = await createDistrict();
  email = (await createUser(district, { schools: [await createSchool(district)] })).email;
});
afterAll(() => before.close());

const sessionCookie = (res: { headers: Record<string, unknown> }) => ((res.headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith('sst.sid='))?.split(';')[0];

/** Signs in on the instance with the old secret; returns the session cookie it set. */
async function signedInWithOldSecret(): Promise<string> {
  const page = await request(before.app).get('/login');
  const res = await request(before.app).post('/login').set('Cookie', sessionCookie(page)!).type('form').send({ _csrf: csrfFrom(page.text), email, password: TEST_PASSWORD });
  expect(res.status).toBe(303);
  return sessionCookie(res)!;
}

test('when the old secret is kept as previous, then a session it signed goes on and is re-signed with the new secret', async () => {
  const cookie = await signedInWithOldSecret();
  const res = await request(during).get('/account').set('Cookie', cookie);
  expect(res.status).toBe(200);
  expect(res.text).toContain(email);
  // The same session, its cookie now signed with the new secret: accepted where only the new secret is known.
  const renewed = sessionCookie(res)!;
  expect(renewed).not.toBe(cookie);
  expect(renewed.slice(0, renewed.indexOf('.'))).toBe(cookie.slice(0, cookie.indexOf('.')));
  expect((await request(after).get('/account').set('Cookie', renewed)).status).toBe(200);
});

test('when the old secret is dropped, then a session it signed is not accepted (sign in again)', async () => {
  const cookie = await signedInWithOldSecret();
  const res = await request(after).get('/account').set('Cookie', cookie);
  expect(res.status).toBe(303);
  expect(res.headers.location).toMatch(/^\/login/);
});
