import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { User } from '../../../src/components/users';
import { errorHandler } from '../../../src/shared/error-handler';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn } from '../../helpers/session';

let t: TestApp;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;

beforeAll(async () => {
  t = await startTestApp();
  district = await createDistrict();
  school = await createSchool(district);
});
afterAll(async () => {
  await t.close();
});

describe('GET / (start page per role)', () => {
  test('when anonymous, then it goes to sign-in', async () => {
    const res = await request(t.app).get('/');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2F');
  });

  test('when staff, then /training', async () => {
    const user = await createUser(district, { schools: [school] });
    const res = await (await signIn(t.app, user.email)).get('/');
    expect(res.headers.location).toBe('/training');
  });

  test('when a principal, then their school page', async () => {
    const user = await createUser(district, { role: 'principal', schools: [school] });
    const res = await (await signIn(t.app, user.email)).get('/');
    expect(res.headers.location).toBe(`/school/${school._id}`);
  });

  test('when a district admin, then /district', async () => {
    const user = await createUser(district, { role: 'district_admin' });
    const res = await (await signIn(t.app, user.email)).get('/');
    expect(res.headers.location).toBe('/district');
  });
});

describe('operations', () => {
  test('when /healthz is asked, then 200 without creating a session', async () => {
    const res = await request(t.app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  test('when the database answers, then /readyz is 200', async () => {
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
  });

  test('when every response goes out, then it carries a request id and strict security headers', async () => {
    const res = await request(t.app).get('/login');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  test('when the session cookie is set, then it is httpOnly and SameSite=Lax', async () => {
    const res = await request(t.app).get('/login');
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('sst.sid='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });

  test('when a form body is larger than the limit, then 413 with an error page', async () => {
    const res = await request(t.app).post('/login').type('form').set('Accept', 'text/html').send(`email=${'a'.repeat(70 * 1024)}`);
    expect(res.status).toBe(413);
    expect(res.text).toContain('<h1>');
    expect(res.text).toContain('too large');
  });

  test('when a JSON body is larger than the limit, then 413 as JSON', async () => {
    const res = await request(t.app).post('/login').set('Accept', 'application/json').send({ email: 'a'.repeat(70 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('too_large');
  });

  test('when a page does not exist, then a 404 page in the visitor\'s language', async () => {
    const user = await createUser(district, { schools: [school] });
    const agent = await signIn(t.app, user.email);
    const res = await agent.get('/no/such/page').set('Accept-Language', 'es');
    expect(res.status).toBe(404);
    expect(res.text).toContain('<h1>');
    const es = await agent.get('/no/such/page?lang=es');
    expect(es.text).toContain('<html lang="es"');
    expect(es.text).toContain('Página no encontrada');
  });

  test('when a static asset is asked, then it is served without a session', async () => {
    const res = await request(t.app).get('/static/css/app.css');
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('prototype pollution', () => {
  test('when a form or JSON body has __proto__ or constructor keys, then nothing is polluted or stored', async () => {
    const admin = await createUser(district, { role: 'district_admin' });
    const agent = await signIn(t.app, admin.email);
    const csrf = await csrfFor(agent);
    const form = await agent
      .post('/account/language')
      .type('form')
      .send(`_csrf=${encodeURIComponent(csrf)}&__proto__%5Brole%5D=district_admin&__proto__=x&constructor%5Bprototype%5D%5Bpolluted%5D=1&language=es`);
    expect(form.status).toBe(303);
    const json = await agent
      .post('/account/language')
      .set('X-CSRF-Token', csrf)
      .set('Content-Type', 'application/json')
      .send('{"language":"en","__proto__":{"polluted":true,"role":"district_admin"},"constructor":{"prototype":{"polluted":true}}}');
    expect(json.status).toBe(303);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).role).toBeUndefined();
    expect((await User.findById(admin._id).lean())!.preferredLanguage).toBe('en');
  });
});

describe('error handler', () => {
  test('when a route throws, then a 500 page with a reference and no internals', async () => {
    const app = express();
    app.set('view engine', 'ejs');
    app.set('views', path.join(__dirname, '../../../views'));
    app.get('/boom', () => {
      throw new Error('secret internal detail: connection string mongodb://user:pw@host');
    });
    app.use(errorHandler);
    const res = await request(app).get('/boom').set('Accept', 'text/html');
    expect(res.status).toBe(500);
    expect(res.text).toContain('Something went wrong');
    expect(res.text).not.toContain('secret internal detail');
    const json = await request(app).get('/boom').set('Accept', 'application/json');
    expect(json.body.error).toEqual({ code: 'internal', message: 'Something went wrong on our side.' });
  });
});
