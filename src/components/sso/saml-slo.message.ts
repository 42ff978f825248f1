/**
 * Reading a SAML Single Logout message (LogoutRequest or LogoutResponse) from the IdP, on either binding, and
 * believing only what its signature covers (docs/sso.md, "Single Logout"). node-saml's own logout checks are not
 * used for the reading: they accept an HTTP-Redirect message without any signature, an unsolicited or replayed
 * LogoutResponse, and refuse a partial-logout status before the signature is checked. A LogoutRequest's NameID may
 * come encrypted (EncryptedID, covered by the signature): it is opened with the decryption keys (saml-crypto.ts).
 * Pure apart from the XML libraries node-saml already uses.
 */
import { verify as verifySignature } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { getVerifiedXml, parseDomFromString } from '@node-saml/node-saml/lib/xml';
import { children, openEncrypted } from './saml-crypto';

const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
export const STATUS_PARTIAL_LOGOUT = 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout';
/** Largest message read (inflated or decoded): real ones are 1–3 KB; this stops a deflate bomb. */
const MAX_XML = 64 * 1024;

/** Signature algorithms accepted on the redirect binding (SHA-1 is refused, as for the assertion). */
const REDIRECT_ALGORITHMS: Record<string, string> = {
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': 'sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': 'sha512',
};

export type SloMessageType = 'SAMLRequest' | 'SAMLResponse';

/** What a verified message says. Only fields the signature covers. */
export type LogoutMessage = {
  kind: 'LogoutRequest' | 'LogoutResponse';
  id: string;
  issuer: string | undefined;
  destination: string | undefined;
  issueInstant: string | undefined;
  notOnOrAfter: string | undefined;
  inResponseTo: string | undefined;
  /** LogoutResponse: top-level and second-level status codes. */
  status: string | undefined;
  subStatus: string | undefined;
  /** LogoutRequest: the NameID and its format, and the SessionIndex values. */
  nameId: string | undefined;
  nameIdFormat: string | undefined;
  sessionIndexes: string[];
};

/** Why a message was not believed; a code for the log (never its contents). */
export class SloMessageError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/**
 * The raw (still URL-encoded) query parameters, as the IdP signed them: the redirect binding's signature is
 * over `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as sent. A parameter given twice is refused.
 */
export function rawQueryParams(originalUrl: string): Map<string, string> {
  const q = originalUrl.indexOf('?');
  const params = new Map<string, string>();
  if (q < 0) return params;
  for (const part of originalUrl.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (params.has(name)) throw new SloMessageError('duplicate_parameter');
    params.set(name, eq < 0 ? '' : part.slice(eq + 1));
  }
  return params;
}

function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new SloMessageError('malformed');
  }
}

/**
 * HTTP-Redirect binding: a signature by one of `certs` over the query is required; then the inflated XML.
 * `decryptionKeys`: what an encrypted NameID is opened with (none: such a request is refused).
 */
export async function readRedirectMessage(params: Map<string, string>, type: SloMessageType, certs: readonly string[], decryptionKeys: readonly string[] = []): Promise<LogoutMessage> {
  const message = params.get(type);
  const sigAlg = params.get('SigAlg');
  const signature = params.get('Signature');
  if (!message) throw new SloMessageError('missing_message');
  if (!sigAlg || !signature) throw new SloMessageError('unsigned');
  const algorithm = REDIRECT_ALGORITHMS[decodeParam(sigAlg)];
  if (!algorithm) throw new SloMessageError('weak_signature_algorithm');
  const relayState = params.get('RelayState');
  const signed = `${type}=${message}${relayState !== undefined ? `&RelayState=${relayState}` : ''}&SigAlg=${sigAlg}`;
  const signatureBytes = Buffer.from(decodeParam(signature), 'base64');
  const valid = certs.some((cert) => {
    try {
      return verifySignature(algorithm, Buffer.from(signed, 'utf8'), cert, signatureBytes);
    } catch {
      return false;
    }
  });
  if (!valid) throw new SloMessageError('bad_signature');
  let xml: string;
  try {
    xml = inflateRawSync(Buffer.from(decodeParam(message), 'base64'), { maxOutputLength: MAX_XML }).toString('utf8');
  } catch {
    throw new SloMessageError('malformed');
  }
  return parseMessage(xml, type, decryptionKeys);
}

/** HTTP-POST binding: the XML must carry an enveloped signature over its root by one of `certs`; only that is read. */
export async function readPostMessage(value: string, type: SloMessageType, certs: readonly string[], decryptionKeys: readonly string[] = []): Promise<LogoutMessage> {
  const xml = Buffer.from(value, 'base64').toString('utf8');
  if (xml.length === 0 || xml.length > MAX_XML) throw new SloMessageError('malformed');
  let verified: string | null;
  try {
    const dom = await parseDomFromString(xml);
    verified = getVerifiedXml(xml, dom.documentElement, [...certs]);
  } catch {
    throw new SloMessageError('bad_signature');
  }
  if (!verified) throw new SloMessageError('bad_signature');
  return parseMessage(verified, type, decryptionKeys);
}

async function parseMessage(xml: string, type: SloMessageType, decryptionKeys: readonly string[]): Promise<LogoutMessage> {
  let root: Element;
  try {
    root = (await parseDomFromString(xml)).documentElement;
  } catch {
    throw new SloMessageError('malformed');
  }
  const expected = type === 'SAMLRequest' ? 'LogoutRequest' : 'LogoutResponse';
  if (!root || root.namespaceURI !== PROTOCOL || root.localName !== expected) throw new SloMessageError('not_a_logout_message');
  const id = root.getAttribute('ID');
  if (!id) throw new SloMessageError('malformed');
  const attr = (name: string) => (root.hasAttribute(name) ? root.getAttribute(name) ?? undefined : undefined);
  const issuer = children(root, ASSERTION, 'Issuer')[0]?.textContent?.trim();
  const statusCode = children(children(root, PROTOCOL, 'Status')[0], PROTOCOL, 'StatusCode')[0];
  const nameIdElement = children(root, ASSERTION, 'NameID')[0] ?? (await openNameId(children(root, ASSERTION, 'EncryptedID')[0], decryptionKeys));
  return {
    kind: expected,
    id,
    issuer,
    destination: attr('Destination'),
    issueInstant: attr('IssueInstant'),
    notOnOrAfter: attr('NotOnOrAfter'),
    inResponseTo: attr('InResponseTo'),
    status: statusCode?.getAttribute('Value') ?? undefined,
    subStatus: children(statusCode, PROTOCOL, 'StatusCode')[0]?.getAttribute('Value') ?? undefined,
    nameId: nameIdElement?.textContent?.trim() || undefined,
    nameIdFormat: nameIdElement?.getAttribute('Format') || undefined,
    sessionIndexes: children(root, PROTOCOL, 'SessionIndex').map((e) => e.textContent?.trim() ?? '').filter((s) => s !== '' && s.length <= 256),
  };
}

/** The NameID inside an EncryptedID, if there is one; a SloMessageError with the code when it cannot be opened. */
async function openNameId(encryptedId: Element | undefined, keys: readonly string[]): Promise<Element | undefined> {
  if (!encryptedId) return undefined;
  const opened = await openEncrypted(encryptedId, keys, 'NameID');
  if (!opened.ok) throw new SloMessageError(opened.code);
  return opened.element;
}
