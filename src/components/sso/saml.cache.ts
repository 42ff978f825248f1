import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { CacheItem, CacheProvider } from '@node-saml/passport-saml';
import { SAML_REQUEST_MAX_MS, SamlRequest } from './saml-request.model';

/** A request id as node-saml makes it; anything else in a response's InResponseTo is not ours. */
const REQUEST_ID = /^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/;

/** The binding hash of the AuthnRequest being made (node-saml saves the request itself, inside getAuthorizeUrlAsync). */
const pendingBinding = new AsyncLocalStorage<string>();

/** Runs `make` (which saves one request) so that the saved request carries `bindingHash`. */
export function withBinding<T>(bindingHash: string, make: () => Promise<T>): Promise<T> {
  return pendingBinding.run(bindingHash, make);
}

/** The id of the request started by the browser whose binding cookie hashes to `bindingHash`, if any. */
export async function findBoundRequest(bindingHash: string): Promise<string | null> {
  const found = await SamlRequest.findOne({ bindingHash }).select('_id').lean();
  return found ? found._id : null;
}

/**
 * node-saml's InResponseTo cache in MongoDB, so every app instance knows every request any instance sent.
 * `get` answers only for a request that is unexpired and not yet checked; `remove` marks it checked (never
 * deletes: the TTL index does), so a response can be checked once. node-saml reads before it removes, so two
 * copies posted at the same moment could both pass it: `claimSamlRequest` below is the atomic last word.
 */
export class MongoSamlCache implements CacheProvider {
  /** `kind`: what the requests saved through this cache are (absent: AuthnRequests; `logout`: our LogoutRequests). */
  constructor(private readonly kind?: 'logout') {}

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    const now = Date.now();
    await SamlRequest.create({ _id: key, issuedAt: value, expiresAt: new Date(now + SAML_REQUEST_MAX_MS), bindingHash: pendingBinding.getStore(), kind: this.kind });
    return { value, createdAt: now };
  }

  async getAsync(key: string): Promise<string | null> {
    if (typeof key !== 'string' || !REQUEST_ID.test(key)) return null;
    const found = await SamlRequest.findOne({ _id: key, kind: this.kind ?? { $exists: false }, checkedAt: { $exists: false }, expiresAt: { $gt: new Date() } }).lean();
    return found ? found.issuedAt : null;
  }

  async removeAsync(key: string | null): Promise<string | null> {
    if (typeof key !== 'string' || !REQUEST_ID.test(key)) return null;
    await SamlRequest.updateOne({ _id: key, checkedAt: { $exists: false } }, { $set: { checkedAt: new Date() } });
    return key;
  }
}

/** Marks the request answered; true for exactly one caller, false when it was already used or is unknown. */
export async function claimSamlRequest(requestId: string): Promise<boolean> {
  if (!REQUEST_ID.test(requestId)) return false;
  const res = await SamlRequest.updateOne({ _id: requestId, usedAt: { $exists: false } }, { $set: { usedAt: new Date() } });
  return res.modifiedCount === 1;
}

/**
 * Marks our LogoutRequest answered: true for exactly one LogoutResponse naming it while it is unexpired; false for an
 * unknown, expired, already answered id, or an id that is not a LogoutRequest of ours (e.g. an AuthnRequest).
 */
export async function claimLogoutRequest(requestId: string): Promise<boolean> {
  if (!REQUEST_ID.test(requestId)) return false;
  const res = await SamlRequest.updateOne({ _id: requestId, kind: 'logout', usedAt: { $exists: false }, expiresAt: { $gt: new Date() } }, { $set: { usedAt: new Date() } });
  return res.modifiedCount === 1;
}

/** Remembers an IdP's LogoutRequest id (hashed) for 15 minutes; false when it was seen before (a replay). */
export async function rememberIdpLogoutRequest(requestId: string, issueInstant: string): Promise<boolean> {
  const key = `idp_logout:${createHash('sha256').update(requestId).digest('hex')}`;
  try {
    await SamlRequest.create({ _id: key, issuedAt: issueInstant.slice(0, 64), expiresAt: new Date(Date.now() + SAML_REQUEST_MAX_MS), kind: 'idp_logout', usedAt: new Date() });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 11000) return false;
    throw err;
  }
}
