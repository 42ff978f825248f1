/** SCIM 2.0 provisioning: Entra ID / Okta keep the staff list current (docs/scim.md). */
export { scimRouter } from './scim.routes';
export { scimAdminRouter } from './scim-admin.routes';
export { ScimToken } from './scim-token.model';
