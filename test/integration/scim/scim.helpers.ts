/** Shared set-up for the SCIM tests: a district with schools and an admin, and a token made on the admin page. */
import type { Express } from 'express';
import request from 'supertest';
import type { Response } from 'supertest';
import { createDistrict, createSchool, createUser } from '../../helpers/factories';
import { csrfFor, signIn, type Agent } from '../../helpers/session';

export const SCIM_TYPE = 'application/scim+json';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** Creates (or replaces) the district's token through the admin page; returns the token shown once. */
export async function createTokenOnPage(admin: Agent, replace = false): Promise<string> {
  const csrf = await csrfFor(admin, '/admin/scim');
  const res = await admin.post('/admin/scim/token').type('form').send({ _csrf: csrf, ...(replace ? { replace: 'yes' } : {}) });
  if (res.status !== 200) throw new Error(`token creation failed: ${res.status}`);
  const match = /id="scim-token" type="text" value="([^"]+)"/.exec(res.text);
  if (!match) throw new Error('no token on the page');
  return match[1];
}

export async function scimDistrict(app: Express) {
  const district = await createDistrict();
  const lincoln = await createSchool(district, { code: 'LIN', name: 'Lincoln Elementary' });
  const roosevelt = await createSchool(district, { code: 'ROO', name: 'Roosevelt Middle' });
  const closed = await createSchool(district, { code: 'OLD', name: 'Closed School', active: false });
  const adminUser = await createUser(district, { role: 'district_admin', email: `admin-${String(district._id)}@test.example` });
  const admin = await signIn(app, adminUser.email);
  const token = await createTokenOnPage(admin);
  return { district, lincoln, roosevelt, closed, adminUser, admin, token };
}

/** A SCIM client as Entra or Okta calls us: bearer token, SCIM JSON. */
export function scimClient(app: Express, token: string) {
  const auth = { Authorization: `Bearer ${token}` };
  return {
    get: (path: string) => request(app).get(`/scim/v2${path}`).set(auth),
    post: (path: string, body: unknown) => request(app).post(`/scim/v2${path}`).set(auth).set('Content-Type', SCIM_TYPE).send(JSON.stringify(body)),
    put: (path: string, body: unknown) => request(app).put(`/scim/v2${path}`).set(auth).set('Content-Type', SCIM_TYPE).send(JSON.stringify(body)),
    patch: (path: string, body: unknown) => request(app).patch(`/scim/v2${path}`).set(auth).set('Content-Type', SCIM_TYPE).send(JSON.stringify(body)),
    delete: (path: string) => request(app).delete(`/scim/v2${path}`).set(auth),
  };
}

/** The user Entra's default mappings send on create (plus the enterprise employeeNumber and department). */
export function entraUser(overrides: { userName?: string; employeeNumber?: string; department?: string; title?: string; externalId?: string } = {}) {
  return {
    schemas: [USER_SCHEMA, ENTERPRISE],
    externalId: overrides.externalId ?? 'jgarcia',
    userName: overrides.userName ?? 'Julia.Garcia@District.example',
    active: true,
    displayName: 'Julia Garcia',
    emails: [{ primary: true, type: 'work', value: overrides.userName ?? 'Julia.Garcia@District.example' }],
    meta: { resourceType: 'User' },
    name: { formatted: 'Julia Garcia', familyName: 'Garcia', givenName: 'Julia' },
    title: overrides.title ?? 'Front office',
    preferredLanguage: 'es-MX',
    phoneNumbers: [{ type: 'work', value: '+1 555 0100' }],
    addresses: [{ type: 'work', streetAddress: '1 Main St' }],
    roles: [],
    [ENTERPRISE]: { employeeNumber: overrides.employeeNumber ?? 'E-1001', department: overrides.department ?? 'LIN', manager: { value: 'x' } },
  };
}

/** Asserts a SCIM error answer: status, media type, the Error schema and a detail. */
export function expectScimError(res: Response, status: number, scimType?: string) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toContain(SCIM_TYPE);
  expect(res.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}) });
  expect(typeof res.body.detail).toBe('string');
}
