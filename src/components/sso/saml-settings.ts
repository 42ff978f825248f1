/**
 * SAML settings read from the environment (docs/sso.md, "SAML 2.0"): the identity provider's signing
 * certificates and the attributes that may carry the email. Pure: config.ts imports this file.
 */
import { X509Certificate } from 'node:crypto';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/]+={0,2}$/;

/** Email attributes tried in order when SAML_EMAIL_ATTRIBUTE is not set (ADFS/Entra claim URIs, the eduPerson OID, plain names). */
export const DEFAULT_EMAIL_ATTRIBUTES: readonly string[] = [
  'email',
  'mail',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  'urn:oid:0.9.2342.19200300.100.1.3',
  'http://schemas.xmlsoap.org/claims/EmailAddress',
  'emailAddress',
];

export const NAME_ID_FORMATS = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  email: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const;
export const TRANSIENT_NAME_ID = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';

function toPem(body: string): string {
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----`;
}

/**
 * SAML_IDP_CERT: one or more signing certificates (several during the IdP's certificate rollover), as PEM
 * blocks, or as base64 bodies (what IdP metadata shows in <X509Certificate>) separated by commas. Each must
 * parse as an X.509 certificate. Returns PEM strings, or every problem.
 */
export function parseIdpCerts(value: string | undefined): { certs: string[]; problems: string[] } {
  const problems: string[] = [];
  if (value === undefined || value.trim() === '') return { certs: [], problems };
  // Env files often keep a PEM on one line with literal "\n".
  const text = value.replace(/\\n/g, '\n');
  const bodies: string[] = [];
  if (text.includes('-----BEGIN')) {
    for (const m of text.matchAll(PEM_BLOCK)) bodies.push(m[1].replace(/\s+/g, ''));
    if (bodies.length === 0) problems.push('SAML_IDP_CERT: has a "-----BEGIN" line but no complete "-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----" block');
  } else {
    for (const part of text.split(',')) {
      const body = part.replace(/\s+/g, '');
      if (body !== '') bodies.push(body);
    }
  }
  const certs: string[] = [];
  bodies.forEach((body, i) => {
    const which = bodies.length > 1 ? `certificate ${i + 1}` : 'the certificate';
    if (!BASE64_BODY.test(body)) {
      problems.push(`SAML_IDP_CERT: ${which} is not base64 (paste the PEM, or the <X509Certificate> text from the IdP metadata)`);
      return;
    }
    const pem = toPem(body);
    try {
      new X509Certificate(pem);
      certs.push(pem);
    } catch {
      problems.push(`SAML_IDP_CERT: ${which} is not a parseable X.509 certificate`);
    }
  });
  return { certs, problems };
}

/** SAML_EMAIL_ATTRIBUTE: attribute names, comma-separated (tried in order); the defaults when unset. */
export function parseEmailAttributes(value: string | undefined): readonly string[] {
  const names = (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return names.length > 0 ? names : DEFAULT_EMAIL_ATTRIBUTES;
}
