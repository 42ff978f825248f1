/**
 * Signed AuthnRequests and encrypted assertions/NameIDs (docs/sso.md, "Signed requests and encrypted assertions").
 * Pure apart from the XML libraries node-saml already uses.
 */
import { createSign } from 'node:crypto';
import { decryptXml, getVerifiedXml, parseDomFromString } from '@node-saml/node-saml/lib/xml';

const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const XMLENC = 'http://www.w3.org/2001/04/xmlenc#';
const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';
export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

/**
 * What an IdP may encrypt with. Key transport: RSA-OAEP only (RSA PKCS#1 v1.5, `rsa-1_5`, invites padding-oracle
 * attacks and is refused, as is 3DES). ADFS, Entra ID and Shibboleth use RSA-OAEP with AES-CBC or AES-GCM.
 */
const KEY_TRANSPORT = new Set([`${XMLENC}rsa-oaep-mgf1p`]);
const DATA_ENCRYPTION = new Set([`${XMLENC}aes128-cbc`, `${XMLENC}aes256-cbc`, 'http://www.w3.org/2009/xmlenc11#aes128-gcm', 'http://www.w3.org/2009/xmlenc11#aes256-gcm']);

/**
 * Signs an HTTP-Redirect binding URL (SAML bindings §3.4.4.1): rsa-sha256 over `SAMLRequest=…` (or `SAMLResponse=…`)
 * `&RelayState=…&SigAlg=…` exactly as they appear, still URL-encoded, in the URL the browser is sent to (an IdP checks
 * the query it receives). node-saml's own redirect signing encodes the signed string and the URL differently (`(`,
 * `)`, `!`, `'`, `~`, a space), so a RelayState with one of those would carry a signature no IdP can verify.
 */
export function signRedirectUrl(url: string, privateKey: string): string {
  const query = url.slice(url.indexOf('?') + 1);
  const raw = new Map(query.split('&').filter((p) => p !== '').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const));
  const sigAlg = encodeURIComponent(RSA_SHA256);
  const signed = [...['SAMLRequest', 'SAMLResponse', 'RelayState'].filter((k) => raw.has(k)).map((k) => `${k}=${raw.get(k)}`), `SigAlg=${sigAlg}`].join('&');
  const signature = createSign('RSA-SHA256').update(signed, 'utf8').sign(privateKey, 'base64');
  return `${url}&SigAlg=${sigAlg}&Signature=${encodeURIComponent(signature)}`;
}

/** Why an encrypted element was not opened; a code for the log. */
export type OpenFailure = 'encrypted_without_key' | 'weak_encryption_algorithm' | 'undecryptable';
export type Opened = { ok: true; keyIndex: number; element: Element } | { ok: false; code: OpenFailure };

/**
 * Opens an EncryptedAssertion or EncryptedID with the first of `keys` (the current key, then previous ones) that
 * gives the expected SAML element: an IdP that still encrypts to the previous certificate during a rollover keeps
 * working. A wrong key fails at the RSA-OAEP step; what does decrypt must also parse as the expected element.
 */
export async function openEncrypted(wrapper: Element, keys: readonly string[], expected: 'Assertion' | 'NameID'): Promise<Opened> {
  if (keys.length === 0) return { ok: false, code: 'encrypted_without_key' };
  const methods = descendants(wrapper, 'EncryptionMethod');
  const keyMethods = methods.filter((m) => (m.parentNode as Element | null)?.localName === 'EncryptedKey');
  const dataMethods = methods.filter((m) => (m.parentNode as Element | null)?.localName === 'EncryptedData');
  const allowed = (list: Element[], set: Set<string>) => list.length > 0 && list.every((m) => set.has(m.getAttribute('Algorithm') ?? ''));
  if (!allowed(keyMethods, KEY_TRANSPORT) || !allowed(dataMethods, DATA_ENCRYPTION)) return { ok: false, code: 'weak_encryption_algorithm' };
  const xml = wrapper.toString();
  for (const [keyIndex, key] of keys.entries()) {
    try {
      const element = (await parseDomFromString(await decryptXml(xml, key))).documentElement;
      if (element && element.namespaceURI === ASSERTION && element.localName === expected) return { ok: true, keyIndex, element };
    } catch {
      // Not this key (or not decryptable at all): try the next one.
    }
  }
  return { ok: false, code: 'undecryptable' };
}

/**
 * What a SAMLResponse carries: no assertion we can see (node-saml says why), a plain one, an encrypted one, or a
 * response signature that does not verify.
 */
export type ResponseAssertion = { kind: 'unknown' } | { kind: 'plain' } | { kind: 'encrypted'; opened: Opened } | { kind: 'bad_signature' };

/**
 * Looks at the SAMLResponse (base64) before node-saml checks it: which of `keys` opens its encrypted assertion. A
 * response that carries its own signature must verify (by one of `idpCerts`) before anything is decrypted, so that
 * changed ciphertext is never decrypted (no oracle on the decryption, XML Encryption's known weakness); an
 * assertion signed inside the encryption (ADFS) can only be checked after decrypting, by node-saml.
 */
export async function inspectResponse(samlResponse: string, keys: readonly string[], idpCerts: readonly string[]): Promise<ResponseAssertion> {
  let root: Element | null;
  let xml: string;
  try {
    xml = Buffer.from(samlResponse, 'base64').toString('utf8');
    root = (await parseDomFromString(xml)).documentElement;
  } catch {
    return { kind: 'unknown' };
  }
  if (!root || root.namespaceURI !== PROTOCOL || root.localName !== 'Response') return { kind: 'unknown' };
  const plain = children(root, ASSERTION, 'Assertion');
  const encrypted = children(root, ASSERTION, 'EncryptedAssertion');
  // Several assertions: node-saml refuses them.
  if (plain.length + encrypted.length !== 1) return { kind: 'unknown' };
  if (plain.length === 1) return { kind: 'plain' };
  if (children(root, XMLDSIG, 'Signature').length > 0) {
    let verified: string | null;
    try {
      verified = getVerifiedXml(xml, root, [...idpCerts]);
    } catch {
      verified = null;
    }
    if (!verified) return { kind: 'bad_signature' };
  }
  return { kind: 'encrypted', opened: await openEncrypted(encrypted[0], keys, 'Assertion') };
}

export function children(parent: Element | undefined, namespace: string, localName: string): Element[] {
  if (!parent) return [];
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).namespaceURI === namespace && (node as Element).localName === localName) found.push(node as Element);
  }
  return found;
}

function descendants(parent: Element, localName: string): Element[] {
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType !== 1) continue;
    if ((node as Element).localName === localName) found.push(node as Element);
    found.push(...descendants(node as Element, localName));
  }
  return found;
}
