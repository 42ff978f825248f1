import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { isDuplicateKey } from '../../shared/lease-jobs';
import { decryptSecret, encryptSecret } from '../xapi';
import { ltiRuntime } from './lti-runtime';
import { LtiToolKey } from './lti-tool-key.model';

export type ToolKey = Readonly<{ kid: string; privateKey: CryptoKey }>;
export type PublicJwk = Readonly<{ kty: string; n: string; e: string; kid: string; alg: 'RS256'; use: 'sig' }>;

/** The AES-GCM associated data of a tool key: not a district id, so no LRS secret's ciphertext opens as a key. */
const aad = (kid: string) => `lti-tool-key:${kid}`;

export class ToolKeyUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolKeyUnavailable';
  }
}

let cached: { kid: string; privateKey: CryptoKey; encryptionKey: Buffer } | undefined;

/**
 * The tool's signing key: read from MongoDB (decrypted once per process), or generated and stored on first
 * need. Two processes generating at the same moment: the unique slot keeps the first, the other reads it.
 */
export async function toolKey(): Promise<ToolKey> {
  const encryptionKey = ltiRuntime().key;
  if (!encryptionKey) throw new ToolKeyUnavailable('XAPI_SECRET_KEY is not set: the tool key cannot be stored or read');
  if (cached && cached.encryptionKey === encryptionKey) return cached;
  let stored = await LtiToolKey.findOne({ slot: 'current' }).lean();
  if (!stored) {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const kid = randomUUID();
    const pub = await exportJWK(publicKey);
    const priv = await exportJWK(privateKey);
    try {
      await LtiToolKey.create({ slot: 'current', kid, publicJwk: { kty: pub.kty, n: pub.n, e: pub.e }, privateJwk: encryptSecret(encryptionKey, aad(kid), JSON.stringify(priv)), createdAt: new Date() });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    stored = await LtiToolKey.findOne({ slot: 'current' }).lean();
    if (!stored) throw new ToolKeyUnavailable('the tool key could not be stored');
  }
  const json = decryptSecret(encryptionKey, aad(stored.kid), stored.privateJwk);
  if (!json) throw new ToolKeyUnavailable('the stored tool key does not open with this XAPI_SECRET_KEY');
  const privateKey = (await importJWK(JSON.parse(json) as JWK, 'RS256')) as CryptoKey;
  cached = { kid: stored.kid, privateKey, encryptionKey };
  return cached;
}

/** The public key set served at /lti/jwks: only the public members (never d, p, q, dp, dq, qi). Empty only without XAPI_SECRET_KEY. */
export async function toolJwks(): Promise<{ keys: PublicJwk[] }> {
  // Asking for the key set is a need: the key is made now if it can be (the LMS admin copies the URL first).
  if (ltiRuntime().key) {
    try {
      await toolKey();
    } catch (err) {
      // A stored key this XAPI_SECRET_KEY cannot open: its public half is still served; scores show the error.
      if (!(err instanceof ToolKeyUnavailable)) throw err;
    }
  }
  const keys = await LtiToolKey.find({}, { kid: 1, publicJwk: 1 }).sort({ createdAt: 1 }).lean();
  return { keys: keys.flatMap((k) => (k.publicJwk ? [{ kty: k.publicJwk.kty, n: k.publicJwk.n, e: k.publicJwk.e, kid: k.kid, alg: 'RS256' as const, use: 'sig' as const }] : [])) };
}

/** Tests: forget the decrypted key (another database, another XAPI_SECRET_KEY). */
export function forgetToolKey(): void {
  cached = undefined;
}
