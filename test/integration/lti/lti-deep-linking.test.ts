import request from 'supertest';
import { LtiAgsLink } from '../../../src/components/lti';
import type { TestApp } from '../../helpers/app';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import type { TestLtiPlatform } from '../../helpers/lti-platform';
import { BASE_URL, LAUNCH_URL, initiateLogin, sessionIdOf, signedInSessions, startAdvantageWorld } from './lti.helpers';

let t: TestApp;
let platform: TestLtiPlatform;
let district: Awaited<ReturnType<typeof createDistrict>>;
let school: Awaited<ReturnType<typeof createSchool>>;
let n = 0;

let world: Awaited<ReturnType<typeof startAdvantageWorld>>;

beforeAll(async () => {
  world = await startAdvantageWorld();
  ({ platform, t, district, school } = world);
});
afterAll(() => world.close());
beforeEach(() => platform.reset());

type Form = { action: string; jwt: string; title: string };

/** The forms of the module list as a browser sees them: where each posts, its JWT, the module it adds. */
function formsOf(html: string): Form[] {
  return Array.from(html.matchAll(/<td id="module-[^"]+">([^<]+)<\/td>[\s\S]*?<form method="post" action="([^"]+)">\s*<input type="hidden" name="JWT" value="([^"]+)">/g), (m) => ({ title: m[1], action: m[2].replace(/&amp;/g, '&'), jwt: m[3] }));
}

/** An instructor opens the LMS's "add external tool" dialog: a deep-linking launch through the whole login flow. */
async function deepLinkLaunch(options: { locale?: string; data?: string; withCookie?: boolean; claims?: Record<string, unknown> } = {}) {
  n += 1;
  const user = await createUser(district, { email: `dl${n}@district.example`, schools: [school], role: 'district_admin' });
  const hint = `dl-hint-${n}`;
  platform.addPerson(hint, { sub: `canvas-dl-${n}`, email: user.email, locale: options.locale, claims: options.claims ?? platform.deepLinkClaims(options.data) });
  const agent = request.agent(t.app);
  const { location } = await initiateLogin(t.app, platform, hint, LAUNCH_URL, agent);
  const form = await platform.authorize(location);
  const poster = options.withCookie === false ? request(t.app) : agent;
  const res = await poster.post('/lti/launch').type('form').send(form.fields);
  return { res, agent, user };
}

/** The browser submits one "Add to course" form to the LMS. */
async function submit(form: Form) {
  const res = await fetch(form.action, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ JWT: form.jwt }).toString() });
  return res.status;
}

describe('deep linking (module picker)', () => {
  test('when the LMS sends a deep-linking request, then the published modules are listed with an "Add to course" form each, and nobody is signed in', async () => {
    const before = await signedInSessions();
    const { res, agent, user } = await deepLinkLaunch({ data: 'opaque-123' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Add a training module to your course');
    const forms = formsOf(res.text);
    expect(forms.map((f) => f.title)).toEqual(['Fixture basics', 'Fixture office']);
    for (const f of forms) expect(f.action).toBe(platform.deepLinkReturnUrl);
    expect(res.text.match(/<button type="submit"[^>]*>Add to course<\/button>/g)).toHaveLength(2);
    expect(res.text).not.toMatch(/<script>|<script [^>]*>[^<]/);
    // Only for this page: forms may post to the LMS, and the LMS may frame it.
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain(`form-action 'self' ${platform.issuer}`);
    expect(csp).toContain(`frame-ancestors ${platform.issuer}`);
    expect(res.headers['x-frame-options']).toBeUndefined();
    // Nobody signed in, no session made, nothing recorded.
    expect(sessionIdOf(res)).toBeUndefined();
    expect(await signedInSessions()).toBe(before);
    expect(await signedInSessions(user._id.toString())).toBe(0);
    expect((await agent.get('/training')).status).toBe(303);
    expect(await LtiAgsLink.countDocuments()).toBe(0);
    // Other pages keep their strict policy.
    expect(String((await request(t.app).get('/login')).headers['content-security-policy'])).toContain("frame-ancestors 'none'");

    expect(await submit(forms[0])).toBe(200);
    expect(platform.deepLinkResponses).toHaveLength(1);
    const claims = platform.deepLinkResponses[0].claims!;
    expect(claims['https://purl.imsglobal.org/spec/lti-dl/claim/data']).toBe('opaque-123');
    expect(claims['https://purl.imsglobal.org/spec/lti-dl/claim/content_items']).toEqual([
      { type: 'ltiResourceLink', title: 'Fixture basics', url: `${BASE_URL}/lti/launch?module=fixture-basics`, lineItem: { scoreMaximum: 100, label: 'Fixture basics' } },
    ]);
    expect(claims.iss).toBe(platform.clientId);
    expect(claims.aud).toBe(platform.issuer);
    expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(600);
  });

  test('when the request carries no data, then none is echoed; a tampered response is refused by the platform', async () => {
    const { res } = await deepLinkLaunch();
    const [form] = formsOf(res.text);
    expect(await submit(form)).toBe(200);
    expect(platform.deepLinkResponses[0].claims).not.toHaveProperty(['https://purl.imsglobal.org/spec/lti-dl/claim/data']);
    const [header, payload, signature] = form.jwt.split('.');
    const changed = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), iss: 'someone-else' })).toString('base64url');
    expect(await submit({ ...form, jwt: `${header}.${changed}.${signature}` })).toBe(400);
    expect(platform.deepLinkResponses[1].problem).toMatch(/^signature/);
  });

  test('when the LMS user reads Spanish, then the titles and the button are in Spanish', async () => {
    const { res } = await deepLinkLaunch({ locale: 'es-MX' });
    expect(res.status).toBe(200);
    expect(formsOf(res.text).map((f) => f.title)).toEqual(['Conceptos básicos de prueba', 'Oficina de prueba']);
    expect(res.text).toContain('Agregar al curso');
    expect(res.text).toContain('<html lang="es"');
  });

  test('when the deep-linking request arrives without the browser cookie (an LMS frame), then the list is still shown; with another browser\'s cookie it is refused', async () => {
    const { res } = await deepLinkLaunch({ withCookie: false });
    expect(res.status).toBe(200);
    expect(formsOf(res.text)).toHaveLength(2);

    n += 1;
    const user = await createUser(district, { email: `dl-other${n}@district.example`, schools: [school] });
    platform.addPerson(`dl-other-${n}`, { sub: `canvas-dl-other-${n}`, email: user.email, claims: platform.deepLinkClaims() });
    const mine = request.agent(t.app);
    const { location } = await initiateLogin(t.app, platform, `dl-other-${n}`, LAUNCH_URL, mine);
    const form = await platform.authorize(location);
    const other = request.agent(t.app);
    await initiateLogin(t.app, platform, `dl-other-${n}`, LAUNCH_URL, other);
    const refused = await other.post('/lti/launch').type('form').send(form.fields);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('started in another browser');
  });

  test('when the request cannot take a resource link or has no usable return URL, then a 400 page and nothing to choose', async () => {
    const settings = 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings';
    const onlyFiles = { ...platform.deepLinkClaims(), [settings]: { deep_link_return_url: platform.deepLinkReturnUrl, accept_types: ['file'] } };
    const a = await deepLinkLaunch({ claims: onlyFiles });
    expect(a.res.status).toBe(400);
    expect(formsOf(a.res.text)).toEqual([]);
    const elsewhere = { ...platform.deepLinkClaims(), [settings]: { deep_link_return_url: 'http://lms.example/return', accept_types: ['ltiResourceLink'] } };
    const b = await deepLinkLaunch({ claims: elsewhere });
    expect(b.res.status).toBe(400);
  });
});
