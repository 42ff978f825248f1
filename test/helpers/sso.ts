import request from 'supertest';
import { startTestApp, type TestApp } from './app';
import { AuditEvent } from '../../src/components/audit';
import { User } from '../../src/components/users';
import { createDistrict, createSchool } from './factories';
import type { TestIdp } from './oidc-provider';
import type { TestSamlIdp } from './saml-idp';
import type { Agent } from './session';

/*
 * What the single sign-on test files (test/integration/sso/*) set up alike: the app at a fixed BASE_URL
 * (the providers know its callback and ACS URLs), configured for a real provider on localhost that each file
 * starts first (so its afterAll can close it even when the app fails to start), a district and a school.
 */

export const SSO_BASE_URL = 'http://training.test';
/** The redirect URI the OIDC test provider registers for the app. */
export const OIDC_CALLBACK = `${SSO_BASE_URL}/auth/oidc/callback`;

/** The app's OIDC settings for the test provider, shown as "Sign in with <label>". */
export function oidcEnv(idp: TestIdp, label: string): Record<string, string> {
  return { BASE_URL: SSO_BASE_URL, OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, OIDC_LABEL: label };
}

/** The app's SAML settings for the test IdP. */
export function samlEnv(idp: TestSamlIdp): Record<string, string> {
  return { BASE_URL: SSO_BASE_URL, ...idp.env };
}

export type SsoApp = {
  t: TestApp;
  district: Awaited<ReturnType<typeof createDistrict>>;
  school: Awaited<ReturnType<typeof createSchool>>;
};

/**
 * Starts the app with `env` on a database of its own, with a district and a school. Given the SAML IdP, it
 * also makes the IdP trust the app, as an IdP administrator does: by importing the app's metadata.
 */
export async function startSsoApp(env: Record<string, string>, samlIdp?: TestSamlIdp): Promise<SsoApp> {
  const t = await startTestApp({ BASE_URL: SSO_BASE_URL, ...env });
  try {
    if (samlIdp) samlIdp.trustSp((await request(t.app).get('/auth/saml/metadata')).text);
    const district = await createDistrict();
    const school = await createSchool(district);
    return { t, district, school };
  } catch (err) {
    await t.close();
    throw err;
  }
}

/** Closes the app, then the providers (any of them may be missing when beforeAll failed). */
export async function closeSsoApp(t: TestApp | undefined, ...providers: ({ close(): Promise<void> } | undefined)[]): Promise<void> {
  await t?.close();
  await Promise.all(providers.map((provider) => provider?.close()));
}

/** The app's session cookie (`sst.sid=…`) a response sets, if any. */
export function sidOf(res: { headers: Record<string, unknown> }): string | undefined {
  const cookies = (res.headers['set-cookie'] as string[] | undefined) ?? [];
  return cookies.find((c) => c.startsWith('sst.sid='))?.split(';')[0];
}

/** Not signed in: a signed-in page sends the browser to the sign-in page. */
export async function expectSignedOut(agent: Agent): Promise<void> {
  expect((await agent.get('/account')).status).toBe(303);
}

/** An inactive person's SSO sign-in (OIDC or SAML) was refused: 403, nothing linked, audited as refused in their district. */
export async function expectInactiveRefused(done: { status: number; text: string }, user: { _id: unknown }, districtId: unknown): Promise<void> {
  expect(done.status).toBe(403);
  expect(done.text).toContain('not active');
  expect((await User.findById(user._id).lean().orFail()).ssoSubject).toBeUndefined();
  const audit = await AuditEvent.findOne({ action: 'sso.refused', 'target.id': String(user._id) }).lean().orFail();
  expect(audit.details).toEqual({ reason: 'inactive' });
  expect(String(audit.district)).toBe(String(districtId));
}
