/**
 * Provisioning tokens: the district admin creates (or replaces) and revokes the district's one token; every
 * SCIM request is authenticated by it. The token is 32 random bytes (base64url) behind a recognisable prefix
 * (so secret scanners and people can tell what it is); only its SHA-256 hash is stored. A hash, not a slow
 * password hash: the token is long and random, so it cannot be guessed from its hash, and a lookup by hash
 * is one indexed read per request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { Actor } from '../../shared/actor';
import { recordAudit } from '../audit';
import { User } from '../users';
import { ScimToken } from './scim-token.model';

export const TOKEN_PREFIX = 'sstscim_';
const TOKEN_PATTERN = /^sstscim_[A-Za-z0-9_-]{43}$/;
/** lastUsedAt is written at most this often (not one write per provisioning request). */
const LAST_USED_EVERY_MS = 60_000;

export type Context = { requestId?: string };
export type TokenStatus =
  | { exists: false }
  | { exists: true; createdAt: Date; createdByName: string | null; lastUsedAt: Date | null };
/** Who is calling the SCIM endpoint: the district the token belongs to. */
export type ScimClient = Readonly<{ districtId: string; tokenId: string }>;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export async function getTokenStatus(actor: Actor): Promise<TokenStatus> {
  const token = await ScimToken.findOne({ district: actor.districtId }).lean();
  if (!token) return { exists: false };
  const creator = await User.findOne({ _id: token.createdBy, district: actor.districtId }).select('name').lean();
  return { exists: true, createdAt: token.createdAt, createdByName: creator?.name ?? null, lastUsedAt: token.lastUsedAt ?? null };
}

/** Creates the district's token, replacing any earlier one (which stops working at once). Returns it: shown once. */
export async function createToken(actor: Actor, ctx: Context = {}): Promise<{ token: string; replaced: boolean }> {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const before = await ScimToken.findOneAndUpdate(
    { district: actor.districtId },
    { $set: { tokenHash: hashToken(token), createdBy: new Types.ObjectId(actor.userId), createdAt: new Date(), lastUsedAt: null } },
    { upsert: true, returnDocument: 'before' },
  ).lean();
  await recordAudit(actor, { action: 'scim.token_created', target: { kind: 'scim_token', id: actor.districtId }, details: { replaced: Boolean(before) }, requestId: ctx.requestId });
  return { token, replaced: Boolean(before) };
}

/** Revokes the district's token (provisioning stops at once). False when there was none. */
export async function revokeToken(actor: Actor, ctx: Context = {}): Promise<boolean> {
  const { deletedCount } = await ScimToken.deleteOne({ district: actor.districtId });
  if (!deletedCount) return false;
  await recordAudit(actor, { action: 'scim.token_revoked', target: { kind: 'scim_token', id: actor.districtId }, requestId: ctx.requestId });
  return true;
}

/** The district a presented bearer token belongs to, or null (malformed, unknown or revoked: not told apart). */
export async function authenticateToken(presented: string): Promise<ScimClient | null> {
  if (!TOKEN_PATTERN.test(presented)) return null;
  const token = await ScimToken.findOne({ tokenHash: hashToken(presented) }).select('district lastUsedAt').lean();
  if (!token) return null;
  const now = Date.now();
  if (!token.lastUsedAt || now - token.lastUsedAt.getTime() > LAST_USED_EVERY_MS) {
    await ScimToken.updateOne({ _id: token._id }, { $set: { lastUsedAt: new Date(now) } });
  }
  return { districtId: String(token.district), tokenId: String(token._id) };
}
