import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The LRS secret at rest: AES-256-GCM with XAPI_SECRET_KEY (config), a random 96-bit IV per encryption and
 * the district id as associated data, so a ciphertext copied to another district's record does not open.
 * Stored as `v1.<iv>.<tag>.<ciphertext>` (base64url). The key lives only in the environment.
 */
export function encryptSecret(key: Buffer, districtId: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(districtId));
  const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), data].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

/** The secret, or null when it does not open with this key (the key changed, or the record was altered). */
export function decryptSecret(key: Buffer, districtId: string, stored: string): string | null {
  const [version, iv, tag, data] = stored.split('.');
  if (version !== 'v1' || !iv || !tag || data === undefined) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(districtId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
