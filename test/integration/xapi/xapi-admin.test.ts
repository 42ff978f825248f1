import pino from 'pino';
import { randomBytes } from 'node:crypto';
import { AuditEvent } from '../../../src/components/audit';
import { XapiFeed, configureXapi, decryptSecret, rewrapFeedSecrets } from '../../../src/components/xapi';
import { logger } from '../../../src/shared/logger';
import type { TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import type { TestLrs } from '../../helpers/lrs-server';
import { csrfFor, signIn, type Agent } from '../../helpers/session';
import { startXapiWorld, type XapiWorld } from './xapi.helpers';

const KEY = randomBytes(32);
let t: TestApp;
let lrs: TestLrs;
let district: Awaited<ReturnType<typeof createDistrict>>;
let admin: Agent;

let world: XapiWorld;

beforeAll(async () => {
  world = await startXapiWorld('admin@xapi.example', { key: KEY.toString('base64') });
  ({ t, lrs, district, admin } = world);
});
afterAll(() => world.close());
beforeEach(async () => {
  lrs.reset();
  await XapiFeed.deleteMany({});
  await AuditEvent.deleteMany({});
});

async function save(agent: Agent, fields: Record<string, string>) {
  return agent.post('/admin/xapi').type('form').send({ _csrf: await csrfFor(agent, '/admin/xapi'), ...fields });
}
const valid = () => ({ endpoint: lrs.endpoint, authKey: lrs.key, secret: lrs.secret, actorId: 'internal_id', enabled: 'on' });

describe('GET /admin/xapi', () => {
  test('when nothing is set up, then the page says so, offers the form in English and Spanish, and the test button is disabled', async () => {
    const res = await admin.get('/admin/xapi');
    expect(res.status).toBe(200);
    expect(res.text).toContain('No learning record store is set up');
    expect(res.text).toMatch(/<button type="submit" disabled>Send a test statement<\/button>/);
    expect(res.text).toContain('<label for="field-endpoint">');
    const es = await admin.get('/admin/xapi?lang=es');
    expect(es.text).toContain('Almacén de registros de aprendizaje (xAPI)');
    expect(es.text).toContain('Enviar una declaración de prueba');
    await admin.get('/admin/xapi?lang=en');
  });

  test('when the administration index is opened, then it links to the xAPI page', async () => {
    const res = await admin.get('/admin');
    expect(res.text).toContain('href="/admin/xapi"');
  });
});

describe('POST /admin/xapi', () => {
  test('when valid settings are saved, then they are stored with the secret encrypted, audited without it, and the page never shows it', async () => {
    const res = await save(admin, valid());
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/xapi');

    const feed = await XapiFeed.findOne({ district: district._id }).lean();
    expect(feed).toMatchObject({ endpoint: lrs.endpoint, authKey: lrs.key, actorId: 'internal_id', enabled: true, state: 'idle' });
    expect(feed?.secret).not.toContain(lrs.secret);
    expect(feed?.secret).toMatch(/^v1\./);
    expect(decryptSecret(KEY, district._id.toString(), feed!.secret)).toBe(lrs.secret);
    // Bound to the district: the same ciphertext does not open as another district's.
    expect(decryptSecret(KEY, (await createDistrict())._id.toString(), feed!.secret)).toBeNull();
    expect(feed?.sendFrom).toBeInstanceOf(Date);

    const events = await AuditEvent.find({ action: 'xapi.settings_updated' }).lean();
    expect(events).toHaveLength(1);
    expect(events[0].details).toMatchObject({ endpoint: lrs.endpoint, enabled: true, secretChanged: true });
    expect(JSON.stringify(events)).not.toContain(lrs.secret);

    const page = await admin.get('/admin/xapi');
    expect(page.text).toContain('The settings were saved.');
    expect(page.text).toContain(lrs.endpoint);
    expect(page.text).toContain('A secret is stored (never shown)');
    expect(page.text).not.toContain(lrs.secret);
    expect(page.headers['cache-control']).toBe('no-store');
  });

  test('when the secret is left empty on a later save, then the stored one is kept; a new one replaces it', async () => {
    await save(admin, valid());
    const first = (await XapiFeed.findOne({}).lean())!.secret;
    expect((await save(admin, { ...valid(), secret: '' })).status).toBe(303);
    expect((await XapiFeed.findOne({}).lean())!.secret).toBe(first);
    expect((await save(admin, { ...valid(), secret: 'another-secret' })).status).toBe(303);
    expect(decryptSecret(KEY, district._id.toString(), (await XapiFeed.findOne({}).lean())!.secret)).toBe('another-secret');
    expect((await AuditEvent.find({ action: 'xapi.settings_updated' }).lean()).map((e) => (e.details as { secretChanged: boolean }).secretChanged)).toEqual([true, false, true]);
  });

  test('when the input is invalid, then 422 re-renders the entered values (never the secret) with the errors, and nothing is stored', async () => {
    const res = await save(admin, { endpoint: 'ftp://lrs.example.org', authKey: 'has space', secret: 'typed-secret-123', actorId: 'email', enabled: 'on' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="error-summary"');
    expect(res.text).toContain('value="ftp://lrs.example.org"');
    expect(res.text).toContain('value="has space"');
    expect(res.text).not.toContain('typed-secret-123');
    expect(res.text).toContain('id="error-endpoint"');
    expect(res.text).toContain('id="error-authKey"');
    expect(res.text).toContain('id="error-actorId"');
    expect(res.text).toContain('aria-invalid="true"');
    expect(await XapiFeed.countDocuments()).toBe(0);
    expect(await AuditEvent.countDocuments()).toBe(0);
  });

  test('when the endpoint carries credentials or a query, or no secret was ever given, then 422', async () => {
    const withCredentials = await save(admin, { ...valid(), endpoint: 'https://user:pw@lrs.example.org/xapi/' });
    expect(withCredentials.status).toBe(422);
    expect(withCredentials.text).toContain('Leave user names, passwords');
    const noSecret = await save(admin, { ...valid(), secret: '' });
    expect(noSecret.status).toBe(422);
    expect(noSecret.text).toContain('id="error-secret"');
    expect(noSecret.text).toContain(`value="${lrs.endpoint}"`);
    expect(await XapiFeed.countDocuments()).toBe(0);
  });

  test('when it is posted in Spanish with errors, then the errors are in Spanish', async () => {
    await admin.get('/admin/xapi?lang=es');
    const res = await save(admin, { ...valid(), endpoint: '' });
    await admin.get('/admin/xapi?lang=en');
    expect(res.status).toBe(422);
    expect(res.text).toContain('Escriba la dirección del LRS.');
  });
});

describe('POST /admin/xapi, hostile and production input', () => {
  test('when the form is posted as JSON with operators and arrays, then 422 and nothing is stored (no 5xx)', async () => {
    const res = await admin
      .post('/admin/xapi')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ _csrf: await csrfFor(admin, '/admin/xapi'), endpoint: { $ne: null }, authKey: ['a', 'b'], secret: { $gt: '' }, actorId: { $in: ['internal_id'] }, enabled: { $ne: false } }));
    expect(res.status).toBe(422);
    expect(await XapiFeed.countDocuments()).toBe(0);
  });

  test('when the server runs in production, then an http:// endpoint is refused (https only)', async () => {
    configureXapi({ ...t.config, isProduction: true });
    try {
      const res = await save(admin, valid());
      expect(res.status).toBe(422);
      expect(res.text).toContain('The endpoint must start with https://.');
      expect((await save(admin, { ...valid(), endpoint: 'https://lrs.example.org/xapi' })).status).toBe(303);
      expect((await XapiFeed.findOne({}).lean())?.endpoint).toBe('https://lrs.example.org/xapi/');
    } finally {
      configureXapi(t.config);
    }
  });

  test('when private networks are refused (production default), then an endpoint on this machine or the metadata address is refused, and a stored one is never connected to', async () => {
    // Stored while allowed (as a district with OUTBOUND_PRIVATE_NETWORK=allow would), then refused.
    expect((await save(admin, { ...valid(), enabled: '' })).status).toBe(303);
    configureXapi({ ...t.config, outboundPrivateNetwork: 'refuse' });
    try {
      for (const endpoint of [lrs.endpoint, lrs.endpoint.replace('127.0.0.1', 'localhost'), 'http://169.254.169.254/latest/', 'http://[::1]:9/xapi/']) {
        const res = await save(admin, { ...valid(), endpoint });
        expect(res.status).toBe(422);
        expect(res.text).toContain('That address is on a private or local network');
        expect(res.text).toContain(`value="${endpoint}`);
      }
      expect((await XapiFeed.findOne({}).lean())?.endpoint).toBe(lrs.endpoint);
      const test = await admin.post('/admin/xapi/test').type('form').send({ _csrf: await csrfFor(admin, '/admin/xapi') });
      expect(test.status).toBe(303);
      expect(lrs.requests).toHaveLength(0);
      const feed = await XapiFeed.findOne({}).lean();
      expect(feed?.lastTest).toMatchObject({ ok: false, status: null, message: expect.stringContaining('private or local network') });
    } finally {
      configureXapi(t.config);
    }
  });
});

describe('POST /admin/xapi/test', () => {
  test('when the LRS accepts the test statement, then the page reports it; the statement is about nobody', async () => {
    await save(admin, { ...valid(), enabled: '' });
    const res = await admin.post('/admin/xapi/test').type('form').send({ _csrf: await csrfFor(admin, '/admin/xapi') });
    expect(res.status).toBe(303);
    expect(lrs.statements).toHaveLength(1);
    expect(lrs.statements[0].actor).toEqual({ objectType: 'Agent', account: { homePage: `${t.config.baseUrl}/districts/${district.slug}`, name: 'connection-test' } });
    expect(lrs.requests[0].version).toBe('1.0.3');
    const page = await admin.get('/admin/xapi');
    expect(page.text).toContain('The LRS accepted the test statement.');
    expect(page.text).toContain('Test statement accepted');
    expect(await AuditEvent.countDocuments({ action: 'xapi.test_sent', 'details.ok': true })).toBe(1);
  });

  test('when the LRS refuses the credentials, then its answer (status and message) is shown, without the secret', async () => {
    await save(admin, { ...valid(), secret: 'wrong-secret-value' });
    await admin.post('/admin/xapi/test').type('form').send({ _csrf: await csrfFor(admin, '/admin/xapi') });
    const page = await admin.get('/admin/xapi');
    expect(page.text).toContain('The LRS did not accept the test statement');
    expect(page.text).toContain('HTTP 401');
    expect(page.text).toContain('unauthorized: bad key or secret');
    expect(page.text).not.toContain('wrong-secret-value');
    expect(lrs.statements).toHaveLength(0);
  });

  test('when nothing is saved yet, then 422 asks to save first', async () => {
    const res = await admin.post('/admin/xapi/test').type('form').send({ _csrf: await csrfFor(admin, '/admin/xapi') });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Save the settings before sending a test statement.');
    expect(lrs.requests).toHaveLength(0);
  });
});

describe('XAPI_SECRET_KEY rotation (docs/rotation.md)', () => {
  const sendTest = async () => admin.post('/admin/xapi/test').type('form').send({ _csrf: await csrfFor(admin, '/admin/xapi') });

  test('when the key changes and the old one is kept as previous, then the LRS secret still authenticates and the start-up pass encrypts it again with the new key; without the old key it cannot be read', async () => {
    await save(admin, { ...valid(), enabled: '' });
    const underOld = (await XapiFeed.findOne({}).lean())!.secret;
    const newKey = randomBytes(32);
    try {
      configureXapi({ ...t.config, xapiSecretKey: newKey, previousXapiSecretKeys: [KEY] });
      expect((await sendTest()).status).toBe(303);
      expect(lrs.statements).toHaveLength(1);
      expect(lrs.requests[0].authorization).toBe(`Basic ${Buffer.from(`${lrs.key}:${lrs.secret}`).toString('base64')}`);

      expect(await rewrapFeedSecrets()).toEqual({ rewrapped: 1, unreadable: 0 });
      const underNew = (await XapiFeed.findOne({}).lean())!.secret;
      expect(decryptSecret(newKey, district._id.toString(), underNew)).toBe(lrs.secret);
      expect(decryptSecret(KEY, district._id.toString(), underNew)).toBeNull();
      expect(await rewrapFeedSecrets()).toEqual({ rewrapped: 0, unreadable: 0 });

      // Started with the new key only while the secret is still under the old one: nothing opens it, nothing is changed.
      await XapiFeed.updateOne({}, { $set: { secret: underOld } });
      configureXapi({ ...t.config, xapiSecretKey: newKey, previousXapiSecretKeys: [] });
      expect(await rewrapFeedSecrets()).toEqual({ rewrapped: 0, unreadable: 1 });
      expect((await XapiFeed.findOne({}).lean())!.secret).toBe(underOld);
      await sendTest();
      expect(lrs.statements).toHaveLength(1);
      expect((await admin.get('/admin/xapi')).text).toContain('cannot be read with this server’s XAPI_SECRET_KEY');
    } finally {
      configureXapi(t.config);
    }
  });
});

describe('scope and roles', () => {
  test("when an administrator of another district opens the page or tests, then they see and use nothing of this district's LRS", async () => {
    await save(admin, valid());
    const other = await createDistrict();
    await createUser(other, { email: 'other-admin@xapi.example', role: 'district_admin' });
    const otherAdmin = await signIn(t.app, 'other-admin@xapi.example');
    const page = await otherAdmin.get('/admin/xapi');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(lrs.endpoint);
    expect(page.text).toContain('No learning record store is set up');
    const test = await otherAdmin.post('/admin/xapi/test').type('form').send({ _csrf: await csrfFor(otherAdmin, '/admin/xapi') });
    expect(test.status).toBe(422);
    expect(lrs.requests).toHaveLength(0);
    const resume = await otherAdmin.post('/admin/xapi/resume').type('form').send({ _csrf: await csrfFor(otherAdmin, '/admin/xapi') });
    expect(resume.status).toBe(303);
    expect(await XapiFeed.countDocuments({ district: other._id })).toBe(0);
  });

  test('when staff or a principal use the page or its forms, then 403 and nothing is stored', async () => {
    const school = await createSchool(district);
    await createUser(district, { email: 'staff@xapi.example', schools: [school] });
    await createUser(district, { email: 'principal@xapi.example', role: 'principal', schools: [school] });
    for (const email of ['staff@xapi.example', 'principal@xapi.example']) {
      const agent = await signIn(t.app, email);
      const csrf = await csrfFor(agent);
      expect((await agent.get('/admin/xapi')).status).toBe(403);
      expect((await agent.post('/admin/xapi').type('form').send({ _csrf: csrf, ...valid() })).status).toBe(403);
      expect((await agent.post('/admin/xapi/test').type('form').send({ _csrf: csrf })).status).toBe(403);
    }
    expect(await XapiFeed.countDocuments()).toBe(0);
  });
});

describe('the secret in the logs', () => {
  test('when settings are saved and tested with logging on, then no log line holds the secret', async () => {
    const lines: string[] = [];
    const stream = (logger as unknown as Record<symbol, { write(line: string): boolean }>)[pino.symbols.streamSym];
    const write = jest.spyOn(stream, 'write').mockImplementation((line: string) => lines.push(line) > 0);
    logger.level = 'trace';
    try {
      await save(admin, { ...valid(), secret: 'logged-secret-XYZ' });
      await admin.post('/admin/xapi/test').type('form').send({ _csrf: await csrfFor(admin, '/admin/xapi') });
      await save(admin, { ...valid(), endpoint: 'not a url', secret: 'logged-secret-XYZ' });
    } finally {
      logger.level = 'silent';
      write.mockRestore();
    }
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.join('\n')).not.toContain('logged-secret-XYZ');
    expect(lines.join('\n')).not.toContain(Buffer.from(`${lrs.key}:logged-secret-XYZ`).toString('base64'));
  });
});

describe('without XAPI_SECRET_KEY', () => {
  test('when the server has no key, then the page says xAPI is unavailable and saving is refused', async () => {
    configureXapi({ ...t.config, xapiSecretKey: undefined });
    try {
      const page = await admin.get('/admin/xapi');
      expect(page.status).toBe(200);
      expect(page.text).toContain('xAPI is unavailable on this server');
      const res = await save(admin, valid());
      expect(res.status).toBe(409);
      expect(await XapiFeed.countDocuments()).toBe(0);
    } finally {
      configureXapi(t.config);
    }
  });
});
