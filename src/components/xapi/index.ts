/** xAPI statements to each district's learning record store (docs/xapi.md). */
export { xapiAdminRouter } from './xapi.routes';
export { configureXapi, secretKeys } from './xapi-runtime';
export { startXapiRunner, runXapiDeliveries, claimXapiFeed, BATCH_SIZE, XAPI_LEASE_MS } from './xapi-delivery';
export { rewrapFeedSecrets } from './xapi.service';
export { XapiFeed, XapiOutbox, XapiMark } from './xapi-feed.model';
export { statementSchema, uuidV5, XAPI_VERSION, type Statement } from './xapi-statements';
export { encryptSecret, decryptSecret, openSecret, rewrapSecrets, type RewrapCount } from './xapi-secret';
