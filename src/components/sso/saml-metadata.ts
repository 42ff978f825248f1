import { generateServiceProviderMetadata } from '@node-saml/node-saml';
import type { SamlSettings } from '../../config';

const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

/**
 * SP metadata for the IdP's administrator (GET /auth/saml/metadata): our entity ID, the ACS URL (HTTP-POST), the
 * NameID format; with Single Logout the SingleLogoutService on both bindings; our signing certificate
 * (KeyDescriptor use="signing") when something is signed with it (Single Logout, or AuthnRequests), and
 * AuthnRequestsSigned="true" only when AuthnRequests are; with SAML_SP_DECRYPTION_* the current encryption
 * certificate (KeyDescriptor use="encryption") and the algorithms we decrypt. A previous decryption key is never
 * published: the IdP should move to the current one.
 */
export function samlMetadata(settings: SamlSettings): string {
  const signingPair = settings.requestSigning ?? settings.slo;
  const xml = generateServiceProviderMetadata({
    issuer: settings.spEntityId,
    callbackUrl: settings.acsUrl,
    logoutCallbackUrl: settings.slo?.spSloUrl,
    identifierFormat: settings.nameIdFormat,
    wantAssertionsSigned: false,
    signatureAlgorithm: 'sha256',
    ...(signingPair ? { privateKey: signingPair.privateKey, publicCerts: signingPair.cert } : {}),
    ...(settings.decryption ? { decryptionPvk: settings.decryption.keys[0], decryptionCert: settings.decryption.cert } : {}),
  });
  // node-saml says AuthnRequestsSigned="true" as soon as it has a key; ours are signed only with SAML_SIGN_AUTHN_REQUESTS.
  const withSigning = xml.replace(/AuthnRequestsSigned="(true|false)"/, `AuthnRequestsSigned="${settings.requestSigning ? 'true' : 'false'}"`);
  if (!settings.slo) return withSigning;
  // node-saml publishes only the POST binding of the SingleLogoutService; Entra ID uses the Redirect binding.
  return withSigning.replace(/(<SingleLogoutService\b[^>]*\/>)/, `<SingleLogoutService Binding="${REDIRECT}" Location="${escapeXml(settings.slo.spSloUrl)}"/>$1`);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
