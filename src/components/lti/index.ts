/** LTI 1.3 Resource Link launch from the district's LMS: Canvas, Schoology (docs/lti.md). */
export { ltiPlatformRouter } from './lti.routes';
export { ltiAdminRouter } from './lti-admin.routes';
export { LtiPlatform } from './lti-platform.model';
export { LtiLaunchState } from './lti-launch-state.model';
export { redactLtiRequest, redactLtiRedirect } from './lti.log';
export { configureLti } from './lti-runtime';
export { LtiAgsLink, LtiAgsScan } from './lti-ags.model';
export { LtiToolKey } from './lti-tool-key.model';
export { forgetToolKey, rewrapToolKeys } from './lti-tool-key';
export { startLtiAgsRunner, runLtiAgsDeliveries, collectFinishedAttempts, claimAgsLink, forgetAgsTokens, AGS_LEASE_MS } from './lti-ags-delivery';
