import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { isDuplicateKey } from '../../shared/lease-jobs';
import { TtlMemo } from '../../shared/ttl-memo';
import { encryptSecret, openSecret, rewrapSecrets, type RewrapCount } from '../xapi';
import { ltiRuntime } from './lti-runtime';
import { LtiToolKey } from './lti-tool-key.model';

export type ToolKey = Readonly<{ kid: string; privateKey: CryptoKey }>;
export type PublicJwk = Readonly<{ kty: string; n: string; e: string; kid: string; alg: 'RS256'; use: 'sig' }>;

const DAY_MS = 24 * 60 * 60 * 1000;
/** A next key is published this long before it signs: an LMS that cached our key set (max-age one hour) has seen it. */
export const PUBLISH_AHEAD_MS = 2 * DAY_MS;
/** A key that stopped signing stays published this long (assertions it signed are minutes old; caches expire). */
export const RETIRED_PUBLISHED_MS = 7 * DAY_MS;
/** How long a process trusts its copy of the key list: a rotation made by another instance is seen within this. */
const ROWS_CACHE_MS = 10 * 60 * 1000;

/** The AES-GCM associated data of a tool key: not a district id, so no LRS secret's ciphertext opens as a key. */
const aad = (kid: string) => `lti-tool-key:${kid}`;

export class ToolKeyUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolKeyUnavailable';
  }
}

type KeyRow = Readonly<{ kid: string; generation: number; activeFrom: Date; publicJwk: { kty: string; n: string; e: string } }>;

export type KeyPlan = Readonly<{
  /** The key that signs now. */
  signing: KeyRow | undefined;
  /** Served in /lti/jwks: the signing key, a next one already made, and keys retired less than a week ago. */
  published: readonly (KeyRow & { retiresAt?: Date })[];
  /** Retired more than a week ago: to delete. */
  expired: readonly KeyRow[];
  /** The next generation to make now (published from now, signing from activeFrom), when it is due. */
  next: Readonly<{ generation: number; activeFrom: Date }> | undefined;
}>;

/**
 * Which key signs, which are published, which are gone, and whether the next must be made — from the stored
 * keys, the time and LTI_TOOL_KEY_MAX_AGE_DAYS (0: never rotate). Pure.
 */
export function keyPlan(rows: readonly KeyRow[], now: Date, maxAgeDays: number): KeyPlan {
  const sorted = [...rows].sort((a, b) => a.generation - b.generation);
  const active = sorted.filter((row) => row.activeFrom <= now);
  const signing = active.at(-1);
  const published: (KeyRow & { retiresAt?: Date })[] = [];
  const expired: KeyRow[] = [];
  sorted.forEach((row, i) => {
    const successor = sorted[i + 1];
    if (!successor || successor.activeFrom > now) return void published.push(row);
    const retiresAt = new Date(successor.activeFrom.getTime() + RETIRED_PUBLISHED_MS);
    if (retiresAt <= now) expired.push(row);
    else published.push({ ...row, retiresAt });
  });
  let next: KeyPlan['next'];
  const hasNext = signing !== undefined && sorted.some((row) => row.generation > signing.generation);
  if (signing && !hasNext && maxAgeDays > 0) {
    const due = signing.activeFrom.getTime() + maxAgeDays * DAY_MS;
    if (now.getTime() >= due - PUBLISH_AHEAD_MS) next = { generation: signing.generation + 1, activeFrom: new Date(Math.max(due, now.getTime() + PUBLISH_AHEAD_MS)) };
  }
  return { signing, published, expired, next };
}

const keyRows = new TtlMemo<KeyRow[]>(ROWS_CACHE_MS, 1);
let opened: { encryptionKey: Buffer; keys: Map<string, CryptoKey> } | undefined;

async function loadRows(): Promise<KeyRow[]> {
  const stored = await LtiToolKey.find({}, { kid: 1, generation: 1, activeFrom: 1, createdAt: 1, publicJwk: 1 }).lean();
  return stored.flatMap((k) => (k.publicJwk ? [{ kid: k.kid, generation: k.generation ?? 1, activeFrom: k.activeFrom ?? k.createdAt, publicJwk: k.publicJwk }] : []));
}

/** The stored keys, from this process's copy (at most ROWS_CACHE_MS old). */
async function rows(): Promise<KeyRow[]> {
  return (await keyRows.get('all', loadRows)) ?? [];
}

/** The stored keys read again now (before making one, and after). */
function readRows(): Promise<KeyRow[]> {
  keyRows.clear();
  return rows();
}

/** Makes and stores one generation's key pair; another process making the same generation at once keeps one. */
async function makeKey(encryptionKey: Buffer, generation: number, activeFrom: Date, now: Date): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const kid = randomUUID();
  const pub = await exportJWK(publicKey);
  const priv = await exportJWK(privateKey);
  try {
    await LtiToolKey.create({ slot: `g${generation}`, generation, kid, publicJwk: { kty: pub.kty, n: pub.n, e: pub.e }, privateJwk: encryptSecret(encryptionKey, aad(kid), JSON.stringify(priv)), createdAt: now, activeFrom });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/**
 * Brings the stored keys up to date — the first key made on first need, the next one made when due, keys
 * retired more than a week ago deleted — and returns the plan. Without XAPI_SECRET_KEY only reads.
 */
async function currentPlan(now: Date): Promise<KeyPlan> {
  const { key: encryptionKey, toolKeyMaxAgeDays } = ltiRuntime();
  let known = await rows();
  if (encryptionKey && known.length === 0) {
    await makeKey(encryptionKey, 1, now, now);
    known = await readRows();
  }
  let plan = keyPlan(known, now, toolKeyMaxAgeDays);
  // A cached list may predate the generation another instance made: read again before making one.
  if (plan.next && encryptionKey) {
    plan = keyPlan(await readRows(), now, toolKeyMaxAgeDays);
    if (plan.next) {
      await makeKey(encryptionKey, plan.next.generation, plan.next.activeFrom, now);
      plan = keyPlan(await readRows(), now, toolKeyMaxAgeDays);
    }
  }
  if (plan.expired.length > 0) {
    await LtiToolKey.deleteMany({ kid: { $in: plan.expired.map((row) => row.kid) } });
    keyRows.clear();
  }
  return plan;
}

/**
 * The key that signs now (docs/lti.md "The tool's key"): generation 1 made and stored on first need, a next
 * generation made LTI_TOOL_KEY_MAX_AGE_DAYS after the signing one started (published two days before it
 * signs). Each private key is decrypted once per process; one that only an earlier XAPI_SECRET_KEY opens is
 * stored again under the current key.
 */
export async function toolKey(now = new Date()): Promise<ToolKey> {
  const { key: encryptionKey, keys } = ltiRuntime();
  if (!encryptionKey) throw new ToolKeyUnavailable('XAPI_SECRET_KEY is not set: the tool key cannot be stored or read');
  const { signing } = await currentPlan(now);
  if (!signing) throw new ToolKeyUnavailable('the tool key could not be stored');
  if (opened?.encryptionKey !== encryptionKey) opened = { encryptionKey, keys: new Map() };
  const hit = opened.keys.get(signing.kid);
  if (hit) return { kid: signing.kid, privateKey: hit };
  const stored = await LtiToolKey.findOne({ kid: signing.kid }, { privateJwk: 1 }).lean();
  const json = stored ? openSecret(keys, aad(signing.kid), stored.privateJwk) : null;
  if (!stored || !json) throw new ToolKeyUnavailable('the stored tool key does not open with this XAPI_SECRET_KEY');
  if (json.isStale) await LtiToolKey.updateOne({ kid: signing.kid, privateJwk: stored.privateJwk }, { $set: { privateJwk: encryptSecret(encryptionKey, aad(signing.kid), json.secret) } });
  const privateKey = (await importJWK(JSON.parse(json.secret) as JWK, 'RS256')) as CryptoKey;
  opened.keys.set(signing.kid, privateKey);
  return { kid: signing.kid, privateKey };
}

/** The public key set served at /lti/jwks: only the public members (never d, p, q, dp, dq, qi). Empty only without XAPI_SECRET_KEY. */
export async function toolJwks(now = new Date()): Promise<{ keys: PublicJwk[] }> {
  // Asking for the key set is a need: the key is made now if it can be (the LMS admin copies the URL first).
  if (ltiRuntime().key) {
    try {
      await toolKey(now);
    } catch (err) {
      // A stored key this XAPI_SECRET_KEY cannot open: its public half is still served; scores show the error.
      if (!(err instanceof ToolKeyUnavailable)) throw err;
    }
  }
  const { published } = await currentPlan(now);
  return { keys: published.map((k) => ({ kty: k.publicJwk.kty, n: k.publicJwk.n, e: k.publicJwk.e, kid: k.kid, alg: 'RS256' as const, use: 'sig' as const })) };
}

/** What /admin/lti shows of the keys: each published key's id, and when it signs, signed or is withdrawn. */
export type ToolKeyStatus = Readonly<{
  maxAgeDays: number;
  keys: readonly Readonly<{ kid: string; state: 'signing' | 'next' | 'retired'; activeFrom: Date; retiresAt?: Date; replacedFrom?: Date }>[];
}>;

export async function toolKeyStatus(now = new Date()): Promise<ToolKeyStatus> {
  const maxAgeDays = ltiRuntime().toolKeyMaxAgeDays;
  const plan = await currentPlan(now);
  return {
    maxAgeDays,
    keys: plan.published.map((k) => {
      if (k.kid === plan.signing?.kid) {
        const replacedFrom = maxAgeDays > 0 ? new Date(Math.max(k.activeFrom.getTime() + maxAgeDays * DAY_MS, now.getTime() + PUBLISH_AHEAD_MS)) : undefined;
        return { kid: k.kid, state: 'signing', activeFrom: k.activeFrom, ...(replacedFrom ? { replacedFrom } : {}) };
      }
      return k.activeFrom > now ? { kid: k.kid, state: 'next', activeFrom: k.activeFrom } : { kid: k.kid, state: 'retired', activeFrom: k.activeFrom, ...(k.retiresAt ? { retiresAt: k.retiresAt } : {}) };
    }),
  };
}

/** At start (server.ts): every tool key only an earlier XAPI_SECRET_KEY opens is encrypted again with the current one. */
export function rewrapToolKeys(): Promise<RewrapCount> {
  return rewrapSecrets(ltiRuntime().keys, storedToolKeys(), async (id, from, to) => {
    await LtiToolKey.updateOne({ _id: id, privateJwk: from }, { $set: { privateJwk: to } });
  });
}

async function* storedToolKeys() {
  for await (const key of LtiToolKey.find({}, { kid: 1, privateJwk: 1 }).lean().cursor()) yield { id: key._id, aad: aad(key.kid), stored: key.privateJwk };
}

/** Tests: forget the decrypted keys and the key list (another database, another XAPI_SECRET_KEY). */
export function forgetToolKey(): void {
  opened = undefined;
  keyRows.clear();
}
