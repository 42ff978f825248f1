/**
 * SAML settings read from the environment (docs/sso.md, "SAML 2.0"): the identity provider's signing
 * certificates and the attributes that may carry the email. Pure: config.ts imports this file.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';

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

const PEM_KEY = /-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----([\s\S]*?)-----END \1-----/;
const PEM_KEYS = /-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/g;

/** Names of a key pair's two variables, as config messages name them. */
export type KeyPairNames = { key: string; cert: string };
const SP_SIGNING: KeyPairNames = { key: 'SAML_SP_PRIVATE_KEY', cert: 'SAML_SP_CERT' };

/**
 * One RSA private key without a passphrase: a PEM (PKCS#8 or PKCS#1), or its base64 body (PKCS#8). Returns the PEM,
 * or the problem, prefixed with `name` (e.g. "SAML_SP_PRIVATE_KEY" or "SAML_SP_DECRYPTION_KEY_PREVIOUS: key 2").
 */
export function parsePrivateKey(value: string, name: string): { key?: string; problem?: string } {
  const keyText = value.replace(/\\n/g, '\n').trim();
  const keyBlock = PEM_KEY.exec(keyText);
  const keyBody = (keyBlock ? keyBlock[2] : keyText).replace(/\s+/g, '');
  if (keyText.includes('-----BEGIN') && !keyBlock) return { problem: `${name}: has a "-----BEGIN" line but no complete private key block (an encrypted key is not supported: give it without a passphrase)` };
  if (!BASE64_BODY.test(keyBody)) return { problem: `${name}: is not a PEM private key or its base64 body` };
  const label = keyBlock ? keyBlock[1] : 'PRIVATE KEY';
  const pem = `-----BEGIN ${label}-----\n${(keyBody.match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;
  try {
    const parsed = createPrivateKey(pem);
    if (parsed.asymmetricKeyType !== 'rsa') return { problem: `${name}: must be an RSA key (SAML signatures and key transport here are RSA)` };
    return { key: pem };
  } catch {
    return { problem: `${name}: is not a parseable private key (PEM, PKCS#8 or PKCS#1, without a passphrase)` };
  }
}

/** Several private keys in one variable: PEM blocks one after another, or base64 bodies separated by commas. */
export function splitPrivateKeys(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  const text = value.replace(/\\n/g, '\n');
  if (text.includes('-----BEGIN')) {
    const blocks = [...text.matchAll(PEM_KEYS)].map((m) => m[0]);
    return blocks.length > 0 ? blocks : [text];
  }
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * An SP key pair: by default SAML_SP_PRIVATE_KEY + SAML_SP_CERT, this app's signing key pair (Single Logout messages,
 * and AuthnRequests with SAML_SIGN_AUTHN_REQUESTS; docs/sso.md). Each as a PEM, or its base64 body (PKCS#8 for the
 * key). Both or neither; the certificate must belong to the key. Returns the PEMs, or every problem, each naming the variable.
 */
export function parseSpKeyPair(keyValue: string | undefined, certValue: string | undefined, names: KeyPairNames = SP_SIGNING): { key?: string; cert?: string; problems: string[] } {
  const problems: string[] = [];
  const given = (v: string | undefined) => v !== undefined && v.trim() !== '';
  if (!given(keyValue) && !given(certValue)) return { problems };
  if (!given(keyValue)) return { problems: [`${names.key}: required when ${names.cert} is set (the key and its certificate go together)`] };
  if (!given(certValue)) return { problems: [`${names.cert}: required when ${names.key} is set (the key and its certificate go together)`] };

  const parsedKey = parsePrivateKey(keyValue!, names.key);
  if (parsedKey.problem) problems.push(parsedKey.problem);
  const key = parsedKey.key;

  const certs = parseIdpCerts(certValue);
  const certProblems = certs.problems.map((p) => p.replace(/^SAML_IDP_CERT: /, `${names.cert}: `));
  if (certProblems.length > 0) problems.push(...certProblems);
  else if (certs.certs.length !== 1) problems.push(`${names.cert}: give exactly one certificate (the one for ${names.key})`);
  const cert = certs.certs.length === 1 && certProblems.length === 0 ? certs.certs[0] : undefined;
  if (key && cert && !new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) {
    problems.push(`${names.cert}: does not belong to ${names.key} (its public key is another one)`);
  }
  return problems.length > 0 ? { problems } : { key, cert, problems };
}
