import type { Express } from 'express';
import request from 'supertest';
import { Types } from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { createDistrict, createRegion, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, csrfFrom, signIn, type Agent } from '../../helpers/session';
import { AuditEvent } from '../../../src/components/audit';
import { prepareTrainingContent } from '../../../src/components/training';
import { makeKeyPair } from '../../helpers/saml-idp';

/**
 * Every route the app serves, with who may use it. A route added without a line here fails the first test,
 * so its access rule is decided, not inherited by accident. The other tests then hold every route to it:
 *   public     — anyone, signed in or not;
 *   signed-in  — any signed-in person (their own records only: tested per feature);
 *   school     — principals (their own schools) and district admins; staff are refused;
 *   admin      — district admins only;
 *   scim-token — the provisioning API (docs/scim.md): a district's bearer token only, never a session;
 *   lti-platform — what the district's LMS calls (docs/lti.md): login initiation and launch, cross-site posts
 *                  that cannot carry a CSRF token, so deliberately exempt (held to state + signed id_token + nonce).
 * And for every route: anonymous visitors are sent to sign in, and no POST is accepted without a CSRF token.
 * The second column is the region administrator's rule (docs/compliance.md, "Region administrators"):
 *   region  — served for the schools of their region(s) (another school is 404; /district is their region view);
 *   refused — 403 like a principal on administration routes (or 404), even for a school of their region;
 *   same    — as for anyone of the first column (public, signed-in, token or LMS routes).
 * (The OIDC routes exist only when a provider is configured: test/integration/sso holds them to the same. SAML is
 * configured here, so its routes are listed; its assertion consumer is the one POST without a CSRF token, by design.)
 */
type Access = 'public' | 'signed-in' | 'school' | 'admin' | 'scim-token' | 'lti-platform';
type RegionRule = 'region' | 'refused' | 'same';
const ROUTES: Record<string, [Access, RegionRule]> = {
  'GET /healthz': ['public', 'same'],
  'GET /readyz': ['public', 'same'],
  'GET /login': ['public', 'same'],
  'POST /login': ['public', 'same'],
  'POST /logout': ['public', 'same'],
  'GET /login/reset': ['public', 'same'],
  'POST /login/reset': ['public', 'same'],
  'GET /login/reset/:token': ['public', 'same'],
  'POST /login/reset/:token': ['public', 'same'],
  'GET /verify': ['public', 'same'],
  'GET /verify/:code': ['public', 'same'],
  'GET /auth/saml': ['public', 'same'],
  'GET /auth/saml/metadata': ['public', 'same'],
  // Posted by the identity provider's page, which cannot have our CSRF token: the signed response is checked instead.
  'POST /auth/saml/acs': ['public', 'same'],
  // SAML Single Logout: the IdP's signed LogoutRequest/LogoutResponse, by redirect or by its page's post (no CSRF token possible).
  'GET /auth/saml/slo': ['public', 'same'],
  'POST /auth/saml/slo': ['public', 'same'],
  'GET /lti/login': ['lti-platform', 'same'],
  'POST /lti/login': ['lti-platform', 'same'],
  'POST /lti/launch': ['lti-platform', 'same'],
  'GET /lti/jwks': ['public', 'same'],

  'GET /': ['signed-in', 'same'],
  'GET /account': ['signed-in', 'same'],
  'POST /account/language': ['signed-in', 'same'],
  'POST /account/password': ['signed-in', 'same'],
  'GET /training': ['signed-in', 'same'],
  'POST /training/working-at': ['signed-in', 'same'],
  'GET /training/certificates/:code.pdf': ['signed-in', 'same'],
  'GET /training/:slug': ['signed-in', 'same'],
  'POST /training/:slug/start': ['signed-in', 'same'],
  'POST /training/:slug/update': ['signed-in', 'same'],
  'GET /training/:slug/play': ['signed-in', 'same'],
  'POST /training/:slug/play': ['signed-in', 'same'],
  'GET /training/:slug/card': ['signed-in', 'same'],

  'GET /school/:schoolId': ['school', 'region'],
  'GET /school/:schoolId/reminders': ['school', 'region'],
  'GET /school/:schoolId/contacts': ['school', 'refused'],
  'POST /school/:schoolId/contacts': ['school', 'refused'],
  'POST /school/:schoolId/reminders/send': ['school', 'region'],
  'GET /school/:schoolId/staff/:userId': ['school', 'region'],
  'GET /school/:schoolId/sessions': ['school', 'refused'],
  'GET /school/:schoolId/sessions/new': ['school', 'refused'],
  'POST /school/:schoolId/sessions': ['school', 'refused'],
  'GET /school/:schoolId/sessions/:id': ['school', 'refused'],
  'GET /school/:schoolId/sessions/:id/present': ['school', 'refused'],
  'GET /school/:schoolId/sessions/:id/present/all': ['school', 'refused'],
  'GET /school/:schoolId/sessions/:id/attendance': ['school', 'refused'],
  'POST /school/:schoolId/sessions/:id/attendance': ['school', 'refused'],
  'GET /school/:schoolId/sessions/:id/finish': ['school', 'refused'],
  'POST /school/:schoolId/sessions/:id/finish': ['school', 'refused'],
  'GET /school/:schoolId/sessions/:id/discard': ['school', 'refused'],
  'POST /school/:schoolId/sessions/:id/discard': ['school', 'refused'],
  'GET /reports/compliance.csv': ['school', 'region'],
  'GET /reports/compliance.xlsx': ['school', 'region'],
  'GET /reports/compliance.pdf': ['school', 'region'],
  'POST /reports/exports': ['school', 'region'],
  'GET /reports/exports': ['school', 'region'],
  'GET /reports/exports/:id': ['school', 'region'],
  'GET /reports/exports/:id/download': ['school', 'region'],
  'GET /reports/decisions': ['school', 'region'],

  'GET /district': ['admin', 'region'],
  'GET /admin': ['admin', 'refused'],
  'GET /admin/assignments': ['admin', 'refused'],
  'GET /admin/assignments/new': ['admin', 'refused'],
  'POST /admin/assignments': ['admin', 'refused'],
  'POST /admin/assignments/rebuild': ['admin', 'refused'],
  'GET /admin/assignments/:id/edit': ['admin', 'refused'],
  'POST /admin/assignments/:id': ['admin', 'refused'],
  'POST /admin/assignments/:id/retry': ['admin', 'refused'],
  'POST /admin/assignments/:id/archive': ['admin', 'refused'],
  'GET /admin/users': ['admin', 'refused'],
  'GET /admin/users/new': ['admin', 'refused'],
  'POST /admin/users': ['admin', 'refused'],
  'GET /admin/users/:id': ['admin', 'refused'],
  'POST /admin/users/:id': ['admin', 'refused'],
  'POST /admin/users/:id/deactivate': ['admin', 'refused'],
  'POST /admin/users/:id/reactivate': ['admin', 'refused'],
  'POST /admin/users/:id/password': ['admin', 'refused'],
  'POST /admin/users/:id/sso/unlink': ['admin', 'refused'],
  'GET /admin/schools': ['admin', 'refused'],
  'GET /admin/schools/new': ['admin', 'refused'],
  'POST /admin/schools': ['admin', 'refused'],
  'GET /admin/schools/:id': ['admin', 'refused'],
  'POST /admin/schools/:id': ['admin', 'refused'],
  'POST /admin/schools/:id/deactivate': ['admin', 'refused'],
  'POST /admin/schools/:id/reactivate': ['admin', 'refused'],
  'POST /admin/schools/:id/contacts': ['admin', 'refused'],
  'GET /admin/regions': ['admin', 'refused'],
  'GET /admin/regions/new': ['admin', 'refused'],
  'POST /admin/regions': ['admin', 'refused'],
  'GET /admin/regions/:id': ['admin', 'refused'],
  'POST /admin/regions/:id': ['admin', 'refused'],
  'GET /admin/regions/:id/delete': ['admin', 'refused'],
  'POST /admin/regions/:id/delete': ['admin', 'refused'],
  'GET /admin/settings': ['admin', 'refused'],
  'POST /admin/settings': ['admin', 'refused'],
  'POST /admin/settings/reminders': ['admin', 'refused'],
  'GET /admin/modules': ['admin', 'refused'],
  'GET /admin/modules/:slug': ['admin', 'refused'],
  'GET /admin/modules/:slug/versions/:version/review': ['admin', 'refused'],
  'POST /admin/modules/:slug/versions/:version/review': ['admin', 'refused'],
  'POST /admin/modules/:slug/versions/:version/review/withdraw': ['admin', 'refused'],
  'GET /admin/audit': ['admin', 'refused'],
  'GET /admin/audit/verify': ['admin', 'refused'],
  'GET /admin/audit/fingerprints': ['admin', 'refused'],
  'POST /admin/audit/anchor': ['admin', 'refused'],
  'GET /admin/roster': ['admin', 'refused'],
  'GET /admin/roster/template.csv': ['admin', 'refused'],
  'POST /admin/roster/preview': ['admin', 'refused'],
  'GET /admin/roster/previews/:id': ['admin', 'refused'],
  'GET /admin/roster/previews/:id/problems.csv': ['admin', 'refused'],
  'POST /admin/roster/previews/:id/apply': ['admin', 'refused'],
  'GET /admin/roster/imports/:id': ['admin', 'refused'],
  'GET /admin/scim': ['admin', 'refused'],
  'POST /admin/scim/token': ['admin', 'refused'],
  'GET /admin/scim/revoke': ['admin', 'refused'], // 303 back to /admin/scim when there is no token to revoke
  'POST /admin/scim/revoke': ['admin', 'refused'],
  'POST /admin/scim/deactivations': ['admin', 'refused'],
  'POST /admin/scim/principals': ['admin', 'refused'],
  'GET /admin/xapi': ['admin', 'refused'],
  'POST /admin/xapi': ['admin', 'refused'],
  'POST /admin/xapi/test': ['admin', 'refused'],
  'POST /admin/xapi/resume': ['admin', 'refused'],
  'POST /admin/xapi/backfill': ['admin', 'refused'],
  'POST /admin/xapi/iri-base': ['admin', 'refused'],
  'GET /admin/lti': ['admin', 'refused'],
  'GET /admin/lti/new': ['admin', 'refused'],
  'POST /admin/lti': ['admin', 'refused'],
  'GET /admin/lti/:id': ['admin', 'refused'],
  'POST /admin/lti/:id': ['admin', 'refused'],
  'POST /admin/lti/:id/remove': ['admin', 'refused'],
  'POST /admin/lti/:id/resume': ['admin', 'refused'],

  'GET /scim/v2/ServiceProviderConfig': ['scim-token', 'same'],
  'GET /scim/v2/ResourceTypes': ['scim-token', 'same'],
  'GET /scim/v2/ResourceTypes/User': ['scim-token', 'same'],
  'GET /scim/v2/Schemas': ['scim-token', 'same'],
  'GET /scim/v2/Schemas/:id': ['scim-token', 'same'],
  'GET /scim/v2/Users': ['scim-token', 'same'],
  'POST /scim/v2/Users': ['scim-token', 'same'],
  'GET /scim/v2/Users/:id': ['scim-token', 'same'],
  'PUT /scim/v2/Users/:id': ['scim-token', 'same'],
  'PATCH /scim/v2/Users/:id': ['scim-token', 'same'],
  'DELETE /scim/v2/Users/:id': ['scim-token', 'same'],
  '_ALL /scim/v2/Groups{/*rest}': ['scim-token', 'same'],
};

type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] }; rawPath?: unknown };

/** "METHOD /path" for every route of the app, nested routers included (with the path they are mounted at). */
function routesOf(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) for (const method of Object.keys(layer.route.methods)) found.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      else if (Array.isArray(layer.handle?.stack)) walk(layer.handle.stack, typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? prefix + layer.rawPath : prefix);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return found;
}

let t: TestApp;
let ownSchoolId: string;
let otherSchoolId: string;
let foreign: { schoolId: string; userId: string };
let staff: Agent;
let principal: Agent;
let admin: Agent;
let regionAdmin: Agent;
let ownRegionId: string;
let otherRegionId: string;
const ids = { id: new Types.ObjectId().toString(), userId: new Types.ObjectId().toString() };

/** A concrete URL for a route: the school given, a module that exists, ids that exist nowhere. */
function urlOf(route: string, schoolId = ownSchoolId): string {
  const path = route.slice(route.indexOf(' ') + 1);
  return path
    .replace(':schoolId', schoolId)
    .replace(':slug', 'foundations')
    .replace(':code', 'NOTACERTIFICATE')
    .replace(':userId', ids.userId)
    .replace(':id', ids.id)
    .replace('{/*rest}', '');
}

/** POSTs that are not CSRF-protected, each by design and tested for what protects it instead (below). */
const NO_CSRF_BY_DESIGN = ['POST /auth/saml/acs', 'POST /auth/saml/slo'];

const methodOf = (route: string) => route.slice(0, route.indexOf(' ')).toLowerCase() as 'get' | 'post';
const byAccess = (...access: Access[]) => Object.keys(ROUTES).filter((route) => access.includes(ROUTES[route][0]));
const byRegionRule = (rule: RegionRule) => Object.keys(ROUTES).filter((route) => ROUTES[route][1] === rule);

async function send(agent: Agent | ReturnType<typeof request>, route: string, csrf?: string, schoolId?: string) {
  const url = urlOf(route, schoolId);
  if (methodOf(route) === 'get') return (agent as Agent).get(url);
  return (agent as Agent).post(url).type('form').send(csrf ? { _csrf: csrf } : {});
}

beforeAll(async () => {
  // SAML configured (an IdP that is never reached), with Single Logout: its routes are then part of the app.
  const spKeys = makeKeyPair('route guards SP');
  t = await startTestApp({ SAML_IDP_ENTRY_POINT: 'http://127.0.0.1:9/sso', SAML_IDP_CERT: makeKeyPair('route guards IdP').cert, SAML_IDP_ISSUER: 'urn:test:route-guards-idp',
    SAML_IDP_SLO_URL: 'http://127.0.0.1:9/slo', SAML_SP_PRIVATE_KEY: spKeys.key, SAML_SP_CERT: spKeys.cert });
  await prepareTrainingContent(); // the repository's modules/
  const district = await createDistrict();
  // The region administrator oversees North (the own school); the other school is in South.
  const [north, south] = await Promise.all([createRegion(district, { code: 'N', name: 'North' }), createRegion(district, { code: 'S', name: 'South' })]);
  ownRegionId = north._id.toString();
  otherRegionId = south._id.toString();
  const own = await createSchool(district, { region: north._id });
  const other = await createSchool(district, { region: south._id });
  ownSchoolId = own._id.toString();
  otherSchoolId = other._id.toString();
  await createUser(district, { email: 'staff@guards.example', schools: [own] });
  await createUser(district, { email: 'principal@guards.example', role: 'principal', schools: [own] });
  await createUser(district, { email: 'admin@guards.example', role: 'district_admin' });
  await createUser(district, { email: 'region@guards.example', role: 'region_admin', regions: [north._id] });
  const elsewhere = await createDistrict();
  const foreignSchool = await createSchool(elsewhere);
  const foreignUser = await createUser(elsewhere, { schools: [foreignSchool] });
  foreign = { schoolId: foreignSchool._id.toString(), userId: foreignUser._id.toString() };
  [staff, principal, admin, regionAdmin] = await Promise.all([
    signIn(t.app, 'staff@guards.example'),
    signIn(t.app, 'principal@guards.example'),
    signIn(t.app, 'admin@guards.example'),
    signIn(t.app, 'region@guards.example'),
  ]);
});

afterAll(async () => {
  await t.close();
});

describe('every route has a decided access rule', () => {
  test('when the app is built, then each of its routes is listed with who may use it, and nothing listed is gone', () => {
    const served = routesOf(t.app);
    expect(served.length).toBeGreaterThan(80);
    expect(served.filter((route) => !(route in ROUTES))).toEqual([]);
    expect(Object.keys(ROUTES).filter((route) => !served.includes(route))).toEqual([]);
  });
});

describe('anonymous visitors', () => {
  test('when they open any page that is not public, then they are sent to sign in', async () => {
    const wrong: string[] = [];
    for (const route of byAccess('signed-in', 'school', 'admin').filter((r) => methodOf(r) === 'get')) {
      const res = await request(t.app).get(urlOf(route));
      if (![302, 303].includes(res.status) || !String(res.headers.location).startsWith('/login')) wrong.push(`${route} → ${res.status} ${res.headers.location ?? ''}`);
    }
    expect(wrong).toEqual([]);
  });

  test('when they post to any form that is not public, even with a valid CSRF token, then nothing is done (401)', async () => {
    const visitor = request.agent(t.app);
    const csrf = csrfFrom((await visitor.get('/login')).text);
    const eventsBefore = await AuditEvent.countDocuments();
    const wrong: string[] = [];
    for (const route of byAccess('signed-in', 'school', 'admin').filter((r) => methodOf(r) === 'post')) {
      // A form post cannot be replayed after signing in, so it is refused rather than redirected.
      const res = await send(visitor, route, csrf);
      if (res.status !== 401) wrong.push(`${route} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
    expect(await AuditEvent.countDocuments()).toBe(eventsBefore);
  });
});

describe('CSRF', () => {
  test('when a signed-in administrator posts to any form without the CSRF token, then every one is refused with 403', async () => {
    const wrong: string[] = [];
    for (const route of byAccess('public', 'signed-in', 'school', 'admin').filter((r) => methodOf(r) === 'post' && !NO_CSRF_BY_DESIGN.includes(r))) {
      const res = await send(admin, route);
      if (res.status !== 403) wrong.push(`${route} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
    // The session is intact: a refused post signs no one out.
    expect((await admin.get('/admin')).status).toBe(200);
  });

  test('when the SAML assertion consumer (no CSRF token by design) gets a post without a signed response, then it is refused (400) and changes no session', async () => {
    expect(NO_CSRF_BY_DESIGN).toEqual(['POST /auth/saml/acs', 'POST /auth/saml/slo']);
    const eventsBefore = await AuditEvent.countDocuments();
    const anonymous = await send(request.agent(t.app), 'POST /auth/saml/acs');
    expect(anonymous.status).toBe(400);
    expect(anonymous.headers['set-cookie']).toBeUndefined();
    const before = (await admin.get('/account')).headers['set-cookie']?.[0]?.split(';')[0];
    const signedIn = await send(admin, 'POST /auth/saml/acs');
    expect(signedIn.status).toBe(400);
    // The same session (a rolling cookie may be sent again, with the same id) and still signed in.
    const after = signedIn.headers['set-cookie']?.[0]?.split(';')[0];
    if (after !== undefined) expect(after).toBe(before);
    expect((await admin.get('/admin')).status).toBe(200);
    expect(await AuditEvent.countDocuments()).toBe(eventsBefore);
  });
});

describe('the SAML Single Logout endpoint (no CSRF token by design)', () => {
  test('when it gets a post without a signed logout message, then it is refused (400) and changes no session', async () => {
    const anonymous = await send(request.agent(t.app), 'POST /auth/saml/slo');
    expect(anonymous.status).toBe(400);
    expect(anonymous.headers['set-cookie']).toBeUndefined();
    const signedIn = await send(admin, 'POST /auth/saml/slo');
    expect(signedIn.status).toBe(400);
    const unsigned = await admin.post('/auth/saml/slo').type('form').send({ SAMLRequest: Buffer.from('<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x"/>').toString('base64') });
    expect(unsigned.status).toBe(400);
    expect((await admin.get('/admin')).status).toBe(200);
  });
});

describe('the LMS launch routes (the deliberate CSRF exception)', () => {
  test('when the LMS routes are posted without a CSRF token, then they are not refused for it (they answer 400 for an unknown platform or launch), and no one is signed in or out', async () => {
    const routes = byAccess('lti-platform');
    expect(routes).toEqual(['GET /lti/login', 'POST /lti/login', 'POST /lti/launch']);
    const visitor = request.agent(t.app);
    for (const route of routes) {
      for (const agent of [visitor, admin]) {
        const res = await send(agent, route);
        expect([route, res.status]).toEqual([route, 400]);
        // No session is started for an anonymous caller (the admin's rolling session cookie is only refreshed).
        if (agent === visitor) expect(res.headers['set-cookie'] ?? []).toEqual([]);
      }
    }
    expect((await visitor.get('/admin')).status).toBe(303);
    expect((await admin.get('/admin')).status).toBe(200);
  });
});

describe('roles', () => {
  test('when staff use any school or administration route, with a valid CSRF token, then each is refused (403, or 404 for what they cannot see)', async () => {
    const csrf = await csrfFor(staff);
    const eventsBefore = await AuditEvent.countDocuments();
    const wrong: string[] = [];
    for (const route of byAccess('school', 'admin')) {
      const res = await send(staff, route, csrf);
      if (![403, 404].includes(res.status)) wrong.push(`${route} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
    expect(await AuditEvent.countDocuments()).toBe(eventsBefore);
  });

  test('when a principal uses any administration route, with a valid CSRF token, then each is refused (403, or 404)', async () => {
    const csrf = await csrfFor(principal);
    const eventsBefore = await AuditEvent.countDocuments();
    const wrong: string[] = [];
    for (const route of byAccess('admin')) {
      const res = await send(principal, route, csrf);
      if (![403, 404].includes(res.status)) wrong.push(`${route} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
    expect(await AuditEvent.countDocuments()).toBe(eventsBefore);
  });

  test('when a principal uses any school route for a school that is not theirs, then it does not exist for them (404)', async () => {
    const csrf = await csrfFor(principal);
    const wrong: string[] = [];
    for (const route of byAccess('school').filter((r) => r.includes(':schoolId'))) {
      const res = await send(principal, route, csrf, otherSchoolId);
      if (res.status !== 404) wrong.push(`${route} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
  });

  test('when a principal opens their own school, its reminders and its sessions, then they are served', async () => {
    for (const route of ['GET /school/:schoolId', 'GET /school/:schoolId/reminders', 'GET /school/:schoolId/sessions', 'GET /school/:schoolId/sessions/new']) {
      expect([route, (await send(principal, route)).status]).toEqual([route, 200]);
    }
  });

  test("when a district administrator uses another district's school or person, with a valid CSRF token, then it does not exist for them (404)", async () => {
    const csrf = await csrfFor(admin);
    const wrong: string[] = [];
    const routes = Object.keys(ROUTES).filter((r) => r.includes(':schoolId') || r.startsWith('GET /admin/schools/:id') || r.startsWith('POST /admin/schools/:id') || r.includes('/admin/users/:id'));
    expect(routes.length).toBeGreaterThan(25);
    for (const route of routes) {
      const url = urlOf(route, foreign.schoolId).replace(`/admin/schools/${ids.id}`, `/admin/schools/${foreign.schoolId}`).replace(`/admin/users/${ids.id}`, `/admin/users/${foreign.userId}`).replace(ids.userId, foreign.userId);
      const res = methodOf(route) === 'get' ? await admin.get(url) : await admin.post(url).type('form').send({ _csrf: csrf });
      if (res.status !== 404) wrong.push(`${route} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
  });

  test('when a district administrator opens every page without an id, then each is served', async () => {
    const wrong: string[] = [];
    for (const route of byAccess('signed-in', 'school', 'admin').filter((r) => methodOf(r) === 'get' && !r.includes(':') && !['GET /', 'GET /admin/scim/revoke'].includes(r))) {
      const res = await admin.get(urlOf(route));
      if (res.status !== 200) wrong.push(`${route} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('region administrators (the second column)', () => {
  test('when the table is read, then the region rule follows the access rule: only school and admin routes are decided per route', () => {
    const wrong = Object.entries(ROUTES).filter(([, [access, rule]]) => (['school', 'admin'].includes(access) ? rule === 'same' : rule !== 'same'));
    expect(wrong).toEqual([]);
    expect(byRegionRule('region').length).toBeGreaterThan(10);
  });

  test('when a region administrator uses any refused route, even for a school of their region, with a valid CSRF token, then each is refused (403, or 404) and nothing is recorded', async () => {
    const csrf = await csrfFor(regionAdmin);
    const eventsBefore = await AuditEvent.countDocuments();
    const wrong: string[] = [];
    for (const route of byRegionRule('refused')) {
      const res = await send(regionAdmin, route, csrf);
      if (![403, 404].includes(res.status)) wrong.push(`${route} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
    expect(await AuditEvent.countDocuments()).toBe(eventsBefore);
  });

  test('when a region administrator uses any of their routes for a school outside their region, or of another district, then it does not exist for them (404)', async () => {
    const csrf = await csrfFor(regionAdmin);
    const wrong: string[] = [];
    const routes = byRegionRule('region').filter((r) => r.includes(':schoolId'));
    expect(routes.length).toBeGreaterThanOrEqual(4);
    for (const schoolId of [otherSchoolId, foreign.schoolId]) {
      for (const route of routes) {
        const res = await send(regionAdmin, route, csrf, schoolId);
        if (res.status !== 404) wrong.push(`${route} (${schoolId}) → ${res.status}`);
      }
    }
    // The exports and insights name the school in the query: the same answer.
    for (const path of ['/reports/compliance.csv', '/reports/compliance.xlsx', '/reports/compliance.pdf', '/reports/decisions']) {
      const res = await regionAdmin.get(`${path}?school=${otherSchoolId}`);
      if (res.status !== 404) wrong.push(`${path}?school=other → ${res.status}`);
    }
    const job = await regionAdmin.post('/reports/exports').type('form').send({ _csrf: csrf, format: 'csv', school: otherSchoolId });
    if (job.status !== 404) wrong.push(`POST /reports/exports school=other → ${job.status}`);
    expect(wrong).toEqual([]);
  });

  test('when a region administrator asks for another region, or for the schools without one, then it does not exist for them (404)', async () => {
    for (const path of ['/district', '/reports/compliance.csv', '/reports/compliance.pdf', '/reports/decisions']) {
      for (const region of [otherRegionId, 'none']) {
        const res = await regionAdmin.get(`${path}?region=${region}`);
        expect([path, region, res.status]).toEqual([path, region, 404]);
      }
    }
  });

  test('when a region administrator opens their region view, their school, its reminders and person pages, the exports list and insights, then they are served', async () => {
    const wrong: string[] = [];
    for (const route of byRegionRule('region').filter((r) => methodOf(r) === 'get' && !r.includes(':id') && !r.includes(':userId'))) {
      const res = await send(regionAdmin, route);
      if (res.status !== 200) wrong.push(`${route} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
    expect((await regionAdmin.get(`/district?region=${ownRegionId}`)).status).toBe(200);
    const home = await regionAdmin.get('/');
    expect([home.status, home.headers.location]).toEqual([303, '/district']);
  });
});

describe('hostile input', () => {
  const HOSTILE_QUERY = 'page[$gt]=&sort=__proto__&module[$ne]=x&status=constructor&school=%00&q=' + 'x'.repeat(3000);

  test('when every page is asked for with operator, prototype and oversized query values, then none fails (no 5xx)', async () => {
    const wrong: string[] = [];
    for (const route of byAccess('public', 'signed-in', 'school', 'admin', 'lti-platform').filter((r) => methodOf(r) === 'get')) {
      const res = await admin.get(`${urlOf(route)}?${HOSTILE_QUERY}`);
      if (res.status >= 500) wrong.push(`${route} → ${res.status}`);
    }
    // A region administrator's scope is decided from their record: hostile values (region[$ne] too) change nothing.
    for (const route of byRegionRule('region').filter((r) => methodOf(r) === 'get')) {
      const res = await regionAdmin.get(`${urlOf(route)}?${HOSTILE_QUERY}&region[$ne]=x`);
      if (res.status >= 500 || res.status === 200 && route === 'GET /district' && res.text.includes(otherSchoolId)) wrong.push(`${route} (region administrator) → ${res.status}`);
    }
    expect(wrong).toEqual([]);
  });

  test('when every form is posted as JSON with operators and __proto__, then none fails (no 5xx) and nothing is polluted', async () => {
    const hostile = await signIn(t.app, 'admin@guards.example');
    const csrf = await csrfFor(hostile);
    const body = `{"_csrf": ${JSON.stringify(csrf)}, "__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "email": {"$ne": null}, "name": {"$gt": ""}, "password": {"$gt": ""}, "choice": {"$in": ["a"]}, "step": {"$gt": 0}, "at": ["x"], "group": {"$ne": "x"}, "language": {"$gt": ""}}`;
    const wrong: string[] = [];
    const statuses: number[] = [];
    for (const route of byAccess('signed-in', 'school', 'admin').filter((r) => methodOf(r) === 'post')) {
      const res = await hostile.post(urlOf(route)).set('Content-Type', 'application/json').send(body);
      if (res.status >= 500) wrong.push(`${route} → ${res.status}`);
      statuses.push(res.status);
    }
    expect(wrong).toEqual([]);
    // The token in the JSON body was accepted: the posts reached the forms' own checks (not the CSRF refusal).
    expect(statuses.filter((status) => status === 403)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Nothing was stored from it: no person or school named by an operator.
    expect(await AuditEvent.countDocuments({ action: { $in: ['user.created', 'school.created', 'settings.updated'] } })).toBe(0);
  });
});

describe('the provisioning API', () => {
  test('when any SCIM route is called without a token, with a wrong one, or with only a signed-in administrator\'s session, then 401 (429 once this address failed too often)', async () => {
    const wrong: string[] = [];
    const statuses: number[] = [];
    for (const route of byAccess('scim-token')) {
      const method = route.startsWith('_ALL') ? 'get' : (methodOf(route) as string);
      const url = urlOf(route);
      const call = (agent: Agent | ReturnType<typeof request>) => (agent as unknown as Record<string, (u: string) => request.Test>)[method](url);
      for (const [label, res] of [
        ['no token', await call(request(t.app))],
        ['wrong token', await call(request(t.app)).set('Authorization', 'Bearer sstscim_not-a-real-token')],
        ['admin session', await call(admin)],
      ] as const) {
        statuses.push(res.status);
        if (![401, 429].includes(res.status)) wrong.push(`${route} (${label}) → ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(statuses[0]).toBe(401);
  });
});
