/** The discovery resources (RFC 7643 §5–7): minimal, and true to what this endpoint does. */
import { ENTERPRISE_SCHEMA, LIST_SCHEMA, USER_SCHEMA } from './scim-user';
import { MAX_RESULTS } from './scim-users.service';

const DOCS = 'docs/scim.md';

export function serviceProviderConfig(base: string) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: DOCS,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      { type: 'oauthbearertoken', name: 'Bearer token', description: 'The provisioning token a district administrator creates under Administration → Automatic provisioning (SCIM)', primary: true },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

export function resourceTypes(base: string) {
  const user = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'School staff',
    schema: USER_SCHEMA,
    schemaExtensions: [{ schema: ENTERPRISE_SCHEMA, required: false }],
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
  };
  return { schemas: [LIST_SCHEMA], totalResults: 1, startIndex: 1, itemsPerPage: 1, Resources: [user] };
}

type Attr = { name: string; type: string; required?: boolean; mutability?: string; uniqueness?: string; multiValued?: boolean; caseExact?: boolean; description?: string; subAttributes?: Attr[] };

function attr(a: Attr): Record<string, unknown> {
  return { multiValued: false, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', ...a, ...(a.subAttributes ? { subAttributes: a.subAttributes.map(attr) } : {}) };
}

export function schemas(base: string) {
  const user = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id: USER_SCHEMA,
    name: 'User',
    description: 'School staff: only these attributes are kept; any other is ignored',
    attributes: [
      attr({ name: 'userName', type: 'string', required: true, uniqueness: 'server', description: 'Work email address (sign-in)' }),
      attr({ name: 'displayName', type: 'string', description: 'Full name' }),
      attr({ name: 'name', type: 'complex', subAttributes: [{ name: 'formatted', type: 'string' }, { name: 'givenName', type: 'string' }, { name: 'familyName', type: 'string' }] }),
      attr({ name: 'active', type: 'boolean' }),
      attr({ name: 'title', type: 'string', description: 'Job title; one the app does not know is kept as "other"' }),
      attr({ name: 'preferredLanguage', type: 'string', description: 'es… for Spanish, anything else English' }),
      attr({ name: 'externalId', type: 'string', caseExact: true, uniqueness: 'server', description: 'Employee id (when employeeNumber is not sent)' }),
      attr({
        name: 'roles',
        type: 'complex',
        multiValued: true,
        description: 'principal (also siteAdministrator, Director(a)) or staff; a principal of the schools in department, applied only when the district allows it. A district administrator is never granted (400 mutability)',
        subAttributes: [{ name: 'value', type: 'string' }, { name: 'primary', type: 'boolean' }],
      }),
      attr({ name: 'emails', type: 'complex', multiValued: true, mutability: 'readOnly', description: 'Returned from userName; not read', subAttributes: [{ name: 'value', type: 'string' }, { name: 'type', type: 'string' }, { name: 'primary', type: 'boolean' }] }),
    ],
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${USER_SCHEMA}` },
  };
  const enterprise = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id: ENTERPRISE_SCHEMA,
    name: 'EnterpriseUser',
    description: 'Employee id and school code',
    attributes: [
      attr({ name: 'employeeNumber', type: 'string', caseExact: true, uniqueness: 'server', description: 'Employee id, as in the HR roster' }),
      attr({ name: 'department', type: 'string', description: 'School code (several separated by ;)' }),
    ],
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${ENTERPRISE_SCHEMA}` },
  };
  return { schemas: [LIST_SCHEMA], totalResults: 2, startIndex: 1, itemsPerPage: 2, Resources: [user, enterprise] };
}
