import request from 'supertest';
import type { Express } from 'express';
import { loadConfig } from '../../../src/config';
import { buildApp } from '../../../src/app';
import { User } from '../../../src/components/users';
import type { TestApp } from '../../helpers/app';
import { createDistrict, createUser } from '../../helpers/factories';
import { csrfFrom } from '../../helpers/session';
import { startTestSamlIdp, type SamlPerson, type TestSamlIdp } from '../../helpers/saml-idp';
import { closeSsoApp, samlEnv, SSO_BASE_URL as BASE_URL, startSsoApp } from '../../helpers/sso';
import { configProblems } from '../../helpers/config';

let t: TestApp;
let idp: TestSamlIdp;
let district: Awaited<ReturnType<typeof createDistrict>>;

beforeAll(async () => {
  idp = await startTestSamlIdp();
  ({ t, district } = await startSsoApp(samlEnv(idp), idp));
});
afterAll(() => closeSsoApp(t, idp));

/** Another app on the same database with more settings (same BASE_URL, so the IdP knows it). */
function appWith(env: Record<string, string>): Express {
  return buildApp(loadConfig({ NODE_ENV: 'test', BASE_URL, ...idp.env, ...env }));
}

const problemsOf = (env: Record<string, string>) => configProblems({ NODE_ENV: 'test', ...env });

const production = { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), MONGODB_URI: 'mongodb://db.example/training', BASE_URL: 'https://training.example.org' };

async function samlSignIn(app: Express, who: SamlPerson) {
  const agent = request.agent(app);
  const start = await agent.get('/auth/saml');
  const post = await idp.signInAs(start.headers.location, who);
  const done = await agent.post('/auth/saml/acs').type('form').send({ SAMLResponse: post.SAMLResponse });
  return { agent, done };
}

describe('configuration', () => {
  test('when only some of the required SAML settings are set, then config refuses to start and names each missing one', () => {
    const problems = problemsOf({ SAML_IDP_ENTRY_POINT: 'https://adfs.district.test/adfs/ls/' });
    expect(problems).toEqual([
      expect.stringMatching(/^SAML_IDP_CERT: required when SAML_IDP_ENTRY_POINT is set/),
      expect.stringMatching(/^SAML_IDP_ISSUER: required when SAML_IDP_ENTRY_POINT is set/),
    ]);
    expect(() => loadConfig({ NODE_ENV: 'test', SAML_IDP_ISSUER: 'x' })).toThrow(/SAML_IDP_ENTRY_POINT: required[\s\S]*SAML_IDP_CERT: required/);
  });

  test('when the certificate cannot be parsed, then config says so (PEM, base64 body, or not base64)', () => {
    const base = { SAML_IDP_ENTRY_POINT: 'https://adfs.district.test/adfs/ls/', SAML_IDP_ISSUER: 'http://adfs.district.test/adfs/services/trust' };
    expect(problemsOf({ ...base, SAML_IDP_CERT: '-----BEGIN CERTIFICATE-----\nTUlJQ2Zha2U=\n-----END CERTIFICATE-----' })).toEqual(['SAML_IDP_CERT: the certificate is not a parseable X.509 certificate']);
    expect(problemsOf({ ...base, SAML_IDP_CERT: 'MIIC not base64!' })).toEqual([expect.stringMatching(/^SAML_IDP_CERT: the certificate is not base64/)]);
    expect(problemsOf({ ...base, SAML_IDP_CERT: '-----BEGIN CERTIFICATE-----\nMIIC' })).toEqual([expect.stringMatching(/^SAML_IDP_CERT: has a "-----BEGIN" line but no complete/)]);
    const second = `${idp.certPem}\n-----BEGIN CERTIFICATE-----\nTUlJQ2Zha2U=\n-----END CERTIFICATE-----`;
    expect(problemsOf({ ...base, SAML_IDP_CERT: second })).toEqual(['SAML_IDP_CERT: certificate 2 is not a parseable X.509 certificate']);
  });

  test('when certificates come as PEMs, one-line PEMs with \\n, or comma-separated base64 bodies, then each is read (rollover)', () => {
    const body = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
    const forms = [
      `${idp.impostorCertPem}${idp.certPem}`,
      `${idp.impostorCertPem}${idp.certPem}`.replace(/\n/g, '\\n'),
      `${body(idp.impostorCertPem)}, ${body(idp.certPem)}`,
    ];
    for (const form of forms) {
      const config = loadConfig({ NODE_ENV: 'test', ...idp.env, SAML_IDP_CERT: form });
      expect(config.saml?.idpCerts.map(body)).toEqual([body(idp.impostorCertPem), body(idp.certPem)]);
    }
  });

  test('when the entry point is plain http in production, then config refuses it', () => {
    const problems = problemsOf({ ...production, ...idp.env });
    expect(problems).toEqual(['SAML_IDP_ENTRY_POINT: must use https:// in production']);
    expect(problemsOf({ ...production, ...idp.env, SAML_IDP_ENTRY_POINT: 'https://adfs.district.test/adfs/ls/' })).toEqual([]);
  });

  test('when SAML_EMAIL_DOMAINS lists a public mail domain or the NameID format is unknown, then config refuses it', () => {
    expect(problemsOf({ ...idp.env, SAML_EMAIL_DOMAINS: 'district.test,gmail.com' })).toEqual([expect.stringMatching(/^SAML_EMAIL_DOMAINS: "gmail.com" is a public mail domain/)]);
    expect(problemsOf({ ...idp.env, SAML_NAMEID_FORMAT: 'transient' })).toEqual(['SAML_NAMEID_FORMAT: must be persistent, email or unspecified']);
  });

  test('when nothing else is set, then the defaults apply: entity ID at the metadata URL, ACS under BASE_URL, the common email attributes', () => {
    const config = loadConfig({ NODE_ENV: 'test', BASE_URL: 'https://training.example.org/', ...idp.env });
    expect(config.saml).toMatchObject({
      spEntityId: 'https://training.example.org/auth/saml/metadata',
      acsUrl: 'https://training.example.org/auth/saml/acs',
      nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      emailDomains: [],
    });
    expect(config.saml?.emailAttributes).toContain('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress');
    expect(loadConfig({ NODE_ENV: 'test', ...idp.env, SAML_SP_ENTITY_ID: 'urn:district:training', SAML_EMAIL_ATTRIBUTE: 'upn, mail' }).saml).toMatchObject({ spEntityId: 'urn:district:training', emailAttributes: ['upn', 'mail'] });
    expect(loadConfig({ NODE_ENV: 'test' }).saml).toBeUndefined();
  });

  test('when PASSWORD_SIGN_IN is off, then SAML alone is enough single sign-on', () => {
    expect(problemsOf({ ...idp.env, PASSWORD_SIGN_IN: 'off' })).toEqual([]);
    expect(problemsOf({ PASSWORD_SIGN_IN: 'off' })).toEqual([expect.stringMatching(/^PASSWORD_SIGN_IN: off needs single sign-on/)]);
  });
});

describe('settings at work', () => {
  test('when SAML_IDP_CERT holds the old and the new certificate (rollover), then a response signed with the new one is accepted', async () => {
    await createUser(district, { email: 'rollover@district.test' });
    const app = appWith({ SAML_IDP_CERT: `${idp.impostorCertPem}${idp.certPem}` });
    const { agent, done } = await samlSignIn(app, { nameId: 'pid-r1', attributes: { mail: 'rollover@district.test' } });
    expect(done.status).toBe(303);
    expect((await agent.get('/account')).status).toBe(200);
  });

  test('when SAML_EMAIL_DOMAINS is set, then only an email at one of those domains links the first time', async () => {
    const app = appWith({ SAML_EMAIL_DOMAINS: 'district.test', SAML_EMAIL_ATTRIBUTE: 'mail' });
    const outside = await createUser(district, { email: 'person@partner.test' });
    const refused = await samlSignIn(app, { nameId: 'pid-d1', attributes: { mail: 'person@partner.test' } });
    expect(refused.done.status).toBe(403);
    expect(refused.done.text).toContain('not verified');
    expect((await User.findById(outside._id).lean().orFail()).ssoSubject).toBeUndefined();

    const inside = await createUser(district, { email: 'person@district.test' });
    // Only the configured attribute counts: the email claim URI is not read.
    const wrongAttribute = await samlSignIn(app, { nameId: 'pid-d2', attributes: { 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': 'person@district.test' } });
    expect(wrongAttribute.done.status).toBe(403);
    const accepted = await samlSignIn(app, { nameId: 'pid-d2', attributes: { mail: 'person@district.test' } });
    expect(accepted.done.status).toBe(303);
    expect((await User.findById(inside._id).lean().orFail()).ssoSubject).toBe(`${idp.env.SAML_IDP_ISSUER} pid-d2`);
  });

  test('when OIDC and SAML are both configured, then the sign-in page offers both', async () => {
    const app = appWith({ OIDC_ISSUER: 'http://127.0.0.1:9/', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's', OIDC_LABEL: 'Google', SAML_LABEL: 'ClassLink' });
    const page = await request(app).get('/login');
    expect(page.text).toContain('Sign in with Google');
    expect(page.text).toContain('Sign in with ClassLink');
    expect(page.text).toContain('href="/auth/saml"');
  });

  test('when no SAML_LABEL is set, then the button says "your district account" in the reader\'s language', async () => {
    expect((await request(t.app).get('/login')).text).toContain('Sign in with your district account');
    expect((await request(t.app).get('/login').set('Accept-Language', 'es')).text).toContain('Iniciar sesión con su cuenta del distrito');
  });

  test('when PASSWORD_SIGN_IN is off with SAML only, then the password form is for district admins and staff are refused there', async () => {
    const app = appWith({ PASSWORD_SIGN_IN: 'off' });
    await createUser(district, { email: 'staff.pw@district.test' });
    const agent = request.agent(app);
    const page = await agent.get('/login');
    expect(page.text).toContain('District administrators: sign in with a password');
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email: 'staff.pw@district.test', password: 'Correct-Horse-Battery-9' });
    expect(res.status).toBe(403);
  });

  test('when one address posts many refused responses, then it is slowed down (429) before the signature checks', async () => {
    const app = appWith({});
    const statuses: number[] = [];
    for (let i = 0; i < 100; i += 1) statuses.push((await request(app).post('/auth/saml/acs').type('form').send({ SAMLResponse: 'bad' })).status);
    expect(statuses.every((s) => s === 400)).toBe(true);
    const limited = await request(app).post('/auth/saml/acs').type('form').send({ SAMLResponse: 'bad' });
    expect(limited.status).toBe(429);
    expect(limited.text).toContain('Too many sign-in attempts');
  });
});
