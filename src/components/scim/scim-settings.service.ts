/**
 * "Provisioning may make people principals" (docs/scim.md "Principals"): a district setting, off by default.
 * While it is off, a `roles` value asking for a principal is accepted and the person is kept (or created) as
 * staff; each such request is counted so the admin page can say that the identity provider is asking.
 */
import type { Actor } from '../../shared/actor';
import { recordAudit } from '../audit';
import { ScimSettings } from './scim-settings.model';
import type { Context } from './scim-tokens.service';

export type PrincipalSetting = Readonly<{ principalsAllowed: boolean; ignored: number; lastIgnoredAt: Date | null }>;

export async function principalSetting(districtId: string): Promise<PrincipalSetting> {
  const settings = await ScimSettings.findOne({ district: districtId }).lean();
  return { principalsAllowed: settings?.principalsAllowed === true, ignored: settings?.principalRequestsIgnored ?? 0, lastIgnoredAt: settings?.lastPrincipalIgnoredAt ?? null };
}

/** One more request asked for a principal while the setting was off. */
export async function countIgnoredPrincipal(districtId: string, now = new Date()): Promise<void> {
  await ScimSettings.updateOne({ district: districtId }, { $inc: { principalRequestsIgnored: 1 }, $set: { lastPrincipalIgnoredAt: now } }, { upsert: true });
}

/** Turns the setting on or off (audited when it changes; the count starts again). Returns whether it changed. */
export async function setPrincipalsAllowed(actor: Actor, allowed: boolean, ctx: Context = {}, now = new Date()): Promise<boolean> {
  const current = await principalSetting(actor.districtId);
  if (current.principalsAllowed === allowed) return false;
  await ScimSettings.updateOne(
    { district: actor.districtId },
    { $set: { principalsAllowed: allowed, principalRequestsIgnored: 0, lastPrincipalIgnoredAt: null, changedAt: now } },
    { upsert: true },
  );
  await recordAudit(actor, { action: 'scim.principals_setting_changed', target: { kind: 'district', id: actor.districtId }, details: { enabled: allowed, ignored: current.ignored }, requestId: ctx.requestId });
  return true;
}
