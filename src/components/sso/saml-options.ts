import { ValidateInResponseTo } from '@node-saml/passport-saml';
import type { SamlSettings } from '../../config';
import { SAML_REQUEST_MAX_MS } from './saml-request.model';

/**
 * What both node-saml clients (sign-in in saml.client.ts, Single Logout in saml-slo.ts) say about the two parties: the IdP's
 * certificates and issuer, our entity ID, ACS and NameID format; requests answered only once, within their
 * lifetime; rsa-sha256. Either signature is enough, as long as there is one over the assertion (node-saml checks
 * the assertion's own when the response is unsigned), and the metadata both build says the same.
 */
export function samlPartyOptions(settings: SamlSettings) {
  return {
    idpCert: [...settings.idpCerts],
    idpIssuer: settings.idpIssuer,
    issuer: settings.spEntityId,
    audience: settings.spEntityId,
    callbackUrl: settings.acsUrl,
    identifierFormat: settings.nameIdFormat,
    wantAuthnResponseSigned: false,
    wantAssertionsSigned: false,
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: SAML_REQUEST_MAX_MS,
    signatureAlgorithm: 'sha256' as const,
  };
}
