export { ssoRouter } from './sso.routes';
export { resolveSsoSignIn, getSsoLink, unlinkSso, subjectKey, type SsoRefusal } from './sso.service';
export { redactIdTokenHint, redactSamlSloRequest, redactSamlSloRedirect } from './sso.log';
export { ssoFormActionSources } from './sso.client';
export { samlRouter } from './saml.routes';
export { samlLogoutRouter } from './saml-slo.routes';
