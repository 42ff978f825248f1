import { User } from '../users/user.model';
import { recordAudit } from '../audit';
import { forgetSessionActors, toActor } from '../auth';
import type { Actor } from '../../shared/actor';
import { notFound } from '../../shared/errors';
import { logger } from '../../shared/logger';
import { emailDomainOf, isEmailTrusted } from './email-domains';

/** `emailVerified` undefined: the provider did not say (Entra); trusted only at OIDC_EMAIL_DOMAINS. */
export type SsoIdentity = { issuer: string; sub: string; email?: string; emailVerified?: boolean };
export type SsoRefusal = 'unknown' | 'unverified' | 'inactive' | 'ambiguous' | 'linked_elsewhere' | 'locked';
export type SsoResult = { ok: true; actor: Actor; linked: boolean } | { ok: false; reason: SsoRefusal };
/**
 * Where the link is kept and what is audited: 'sso' (the district's identity provider, ssoSubject) or 'lti'
 * (a district's LMS, ltiSubject: its own field, so a person can have both). `districtId` limits the match
 * to one district (an LMS registration belongs to one district); without it the match is across districts.
 */
export type SignInLink = { kind: 'sso' | 'lti'; districtId?: string };
const LINK_FIELDS = {
  sso: { subject: 'ssoSubject', linkedAt: 'ssoLinkedAt' },
  lti: { subject: 'ltiSubject', linkedAt: 'ltiLinkedAt' },
} as const;

/** The stored link: issuer and subject together (a `sub` is only unique within its issuer). */
export function subjectKey(identity: { issuer: string; sub: string }): string {
  return `${identity.issuer} ${identity.sub}`;
}

const SIGN_IN_FIELDS = '+lockedUntil';

/**
 * Finds the rostered person for an identity; never creates an account (the roster is the source of
 * truth). A linked subject wins over the email, so an email change at the IdP keeps working and a
 * reused email cannot take over a linked account. First sign-in links by verified email when exactly
 * one person in all districts has it and that account is active and not yet linked. An email the
 * provider neither verifies nor denies is trusted only at one of `trustedEmailDomains` (OIDC_EMAIL_DOMAINS).
 */
export async function resolveSsoSignIn(
  identity: SsoIdentity,
  ctx: { requestId?: string; trustedEmailDomains?: readonly string[]; link?: SignInLink },
  now = new Date(),
): Promise<SsoResult> {
  const key = subjectKey(identity);
  const kind = ctx.link?.kind ?? 'sso';
  const fields = LINK_FIELDS[kind];
  const inDistrict = ctx.link?.districtId ? { district: ctx.link.districtId } : {};
  const linkedUser = await User.findOne({ [fields.subject]: key, ...inDistrict }).select(SIGN_IN_FIELDS).lean();
  if (linkedUser) return finish(linkedUser, false, now, ctx);

  if (!identity.email) return refuse('unknown', identity, null, ctx);
  if (!isEmailTrusted(identity.email, identity.emailVerified, ctx.trustedEmailDomains ?? [])) {
    // The domain (not the address) tells the district whether OIDC_EMAIL_DOMAINS is missing one of theirs.
    logger.info({ emailVerified: identity.emailVerified ?? 'absent', emailDomain: emailDomainOf(identity.email)?.slice(0, 100), requestId: ctx.requestId }, 'SSO email not trusted');
    return refuse('unverified', identity, null, ctx);
  }
  const email = identity.email.trim().toLowerCase();
  // Across districts (exactly one match may link): served by the { email: 1 } index; in one district by { district, email }.
  const matches = await User.find({ email, ...inDistrict }).select(SIGN_IN_FIELDS).limit(2).lean();
  if (matches.length === 0) return refuse('unknown', identity, null, ctx);
  if (matches.length > 1) return refuse('ambiguous', identity, null, ctx);
  const user = matches[0];
  if (!user.active) return refuse('inactive', identity, user, ctx);
  if ((user as Record<string, unknown>)[fields.subject]) return refuse('linked_elsewhere', identity, user, ctx);
  // Conditional update: two first sign-ins at once, or a subject already linked to someone else
  // (unique index), cannot both win.
  let linked = false;
  try {
    const res = await User.updateOne({ _id: user._id, active: true, [fields.subject]: { $exists: false } }, { $set: { [fields.subject]: key, [fields.linkedAt]: now } });
    linked = res.modifiedCount === 1;
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
  }
  if (!linked) return refuse('linked_elsewhere', identity, user, ctx);
  const actor = toActor(user);
  await recordAudit(actor, { action: `${kind}.linked`, target: { kind: 'user', id: actor.userId }, details: { issuer: identity.issuer }, requestId: ctx.requestId });
  return finish(user, true, now, ctx);
}

type FoundUser = Parameters<typeof toActor>[0] & { _id: unknown; active?: boolean | null; lockedUntil?: Date | null };

async function finish(user: FoundUser, linked: boolean, now: Date, ctx: { requestId?: string; link?: SignInLink }): Promise<SsoResult> {
  if (!user.active) return refuse('inactive', null, user, ctx);
  // The same lockout as password sign-in: a locked account stays locked whichever way one signs in.
  if (user.lockedUntil && user.lockedUntil > now) return refuse('locked', null, user, ctx);
  await User.updateOne({ _id: user._id }, { $set: { lastSignInAt: now } });
  return { ok: true, actor: toActor(user), linked };
}

async function refuse(reason: SsoRefusal, identity: SsoIdentity | null, user: FoundUser | null, ctx: { requestId?: string; link?: SignInLink }): Promise<SsoResult> {
  const kind = ctx.link?.kind ?? 'sso';
  // Logged without tokens or the email address: the issuer and the reason are enough to help the district.
  logger.info({ reason, issuer: identity?.issuer, userId: user?._id?.toString(), requestId: ctx.requestId }, `${kind === 'lti' ? 'LTI launch' : 'SSO sign-in'} refused`);
  // Audited in the person's district (as their own attempt) when the refusal concerns a rostered account.
  if (user) {
    await recordAudit(toActor(user), { action: `${kind}.refused`, target: { kind: 'user', id: String(user._id) }, details: { reason }, requestId: ctx.requestId });
  }
  return { ok: false, reason };
}

/** Whether a person of the admin's district has an SSO link (admin user page). */
export async function getSsoLink(actor: Actor, userId: string): Promise<{ linked: boolean; linkedAt?: Date }> {
  const user = await User.findOne({ _id: userId, district: actor.districtId }).select('ssoSubject ssoLinkedAt').lean();
  if (!user) throw notFound();
  return { linked: Boolean(user.ssoSubject), linkedAt: user.ssoLinkedAt ?? undefined };
}

/** Removes the link; the next SSO sign-in links again by verified email. Ends their open sessions. */
export async function unlinkSso(actor: Actor, userId: string, ctx: { requestId?: string }): Promise<{ wasLinked: boolean }> {
  const user = await User.findOne({ _id: userId, district: actor.districtId }).select('ssoSubject').lean();
  if (!user) throw notFound();
  if (!user.ssoSubject) return { wasLinked: false };
  // The session epoch moves on as with a password reset: sessions signed in through the old link end.
  await User.updateOne({ _id: user._id }, { $unset: { ssoSubject: 1, ssoLinkedAt: 1 }, $inc: { sessionEpoch: 1 } });
  forgetSessionActors([userId]);
  await recordAudit(actor, { action: 'sso.unlinked', target: { kind: 'user', id: userId }, requestId: ctx.requestId });
  return { wasLinked: true };
}
