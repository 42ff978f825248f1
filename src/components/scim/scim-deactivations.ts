/**
 * A safety limit on deactivations through provisioning (research/anchors.md: roster syncs that deactivate
 * everyone missing from a partial source). One change of scope in Entra ("sync only assigned users" with no
 * one assigned) makes it disable every person it provisioned; the roster import asks for a typed number above
 * a threshold, and provisioning needs the same brake. At most `deactivationLimit(active staff)` people may be
 * deactivated by provisioning in any 24 hours (2 % of the district's active people, at least 25 — about 1,480
 * for a district of 74,000). Beyond it each deactivation is refused with 429 and nothing is changed; Entra
 * retries refused requests later, so nothing is lost. The admin page shows the refusals and lets a district
 * admin allow as many more again for 24 hours (audited) — for the expected end-of-year leavers.
 *
 * Counted from the audit log (`scim.user_deactivated`, index { district, action, at }): the record of what
 * provisioning did is also its meter. Two deactivations at the same instant may both pass the last free place.
 */
import type { Actor } from '../../shared/actor';
import { AuditEvent, recordAudit } from '../audit';
import { User } from '../users';
import { ScimError } from './scim-errors';
import { ScimToken } from './scim-token.model';
import type { Context, ScimClient } from './scim-tokens.service';

export const DEACTIVATION_WINDOW_MS = 24 * 3_600_000;
export const DEACTIVATION_LIMIT_SHARE = 0.02;
export const DEACTIVATION_LIMIT_MIN = 25;

export function deactivationLimit(activeCount: number): number {
  return Math.max(DEACTIVATION_LIMIT_MIN, Math.ceil(activeCount * DEACTIVATION_LIMIT_SHARE));
}

export type DeactivationStatus = Readonly<{
  /** Deactivated by provisioning in the last 24 hours. */
  used: number;
  /** The limit from the district's size alone. */
  base: number;
  /** base plus what an admin allowed, while that lasts. */
  limit: number;
  allowedUntil: Date | null;
  held: number;
  lastHeldAt: Date | null;
}>;

export async function deactivationStatus(districtId: string, now = new Date()): Promise<DeactivationStatus> {
  const [used, active, token] = await Promise.all([
    AuditEvent.countDocuments({ district: districtId, action: 'scim.user_deactivated', at: { $gte: new Date(now.getTime() - DEACTIVATION_WINDOW_MS) } }),
    User.countDocuments({ district: districtId, active: true }),
    ScimToken.findOne({ district: districtId }, { deactivationsHeld: 1, lastHeldAt: 1, allowance: 1 }).lean(),
  ]);
  const base = deactivationLimit(active);
  const allowedUntil = token?.allowance?.until && token.allowance.until > now ? token.allowance.until : null;
  return { used, base, limit: base + (allowedUntil ? token?.allowance?.extra ?? 0 : 0), allowedUntil, held: token?.deactivationsHeld ?? 0, lastHeldAt: token?.lastHeldAt ?? null };
}

/** Throws 429 (and counts the refusal for the admin page) when provisioning reached its deactivation limit. */
export async function guardDeactivation(client: ScimClient, now = new Date()): Promise<void> {
  const status = await deactivationStatus(client.districtId, now);
  if (status.used < status.limit) return;
  await ScimToken.updateOne({ _id: client.tokenId }, { $inc: { deactivationsHeld: 1 }, $set: { lastHeldAt: now } });
  throw new ScimError(
    429,
    `Deactivation limit reached: ${status.used} people were deactivated by provisioning in the last 24 hours (limit ${status.limit}). Nothing was changed. A district administrator can allow more on the provisioning page of the training app.`,
  );
}

/** The admin allows `base` more deactivations for 24 hours and clears the refusal count. Returns how many. */
export async function allowMoreDeactivations(actor: Actor, ctx: Context = {}, now = new Date()): Promise<number | null> {
  const { base } = await deactivationStatus(actor.districtId, now);
  const { matchedCount } = await ScimToken.updateOne(
    { district: actor.districtId },
    { $set: { allowance: { extra: base, until: new Date(now.getTime() + DEACTIVATION_WINDOW_MS) }, deactivationsHeld: 0, lastHeldAt: null } },
  );
  if (!matchedCount) return null;
  await recordAudit(actor, { action: 'scim.deactivations_allowed', target: { kind: 'scim_token', id: actor.districtId }, details: { extra: base }, requestId: ctx.requestId });
  return base;
}
