import mongoose from 'mongoose';
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

test('when the database cannot be reached, then /readyz answers 503 while /healthz stays 200', async () => {
  expect((await request(t.app).get('/readyz')).status).toBe(200);
  await mongoose.connection.close();
  const res = await request(t.app).get('/readyz');
  expect(res.status).toBe(503);
  expect(res.body.status).toBe('database unavailable');
  expect((await request(t.app).get('/healthz')).status).toBe(200);
});
