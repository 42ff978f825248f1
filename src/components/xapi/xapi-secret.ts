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

/**
 * The secret opened with the first of `keys` that opens it: the current XAPI_SECRET_KEY, then the earlier ones
 * (XAPI_SECRET_KEY_PREVIOUS, docs/rotation.md). `isStale`: it was not the current key's, so it should be
 * encrypted again with that (rewrapSecret). Null when none opens it.
 */
export function openSecret(keys: readonly Buffer[], aad: string, stored: string): { secret: string; isStale: boolean } | null {
  for (const [i, key] of keys.entries()) {
    const secret = decryptSecret(key, aad, stored);
    if (secret !== null) return { secret, isStale: i > 0 };
  }
  return null;
}

/** What a re-encryption pass over stored secrets did, for the start-up log line. */
export type RewrapCount = { rewrapped: number; unreadable: number };

/**
 * Encrypts again with the current key (keys[0]) every stored secret an earlier key opens. `records` yields
 * each record's id, associated data and stored text; `save` writes the new text only if the stored one is
 * still the one read (another instance may have re-encrypted it meanwhile: both then open with the current key).
 */
export async function rewrapSecrets(
  keys: readonly Buffer[],
  records: AsyncIterable<{ id: unknown; aad: string; stored: string }>,
  save: (id: unknown, from: string, to: string) => Promise<void>,
): Promise<RewrapCount> {
  const count: RewrapCount = { rewrapped: 0, unreadable: 0 };
  const current = keys[0];
  if (!current) return count;
  for await (const record of records) {
    const opened = openSecret(keys, record.aad, record.stored);
    if (!opened) count.unreadable += 1;
    else if (opened.isStale) {
      await save(record.id, record.stored, encryptSecret(current, record.aad, opened.secret));
      count.rewrapped += 1;
    }
  }
  return count;
}
