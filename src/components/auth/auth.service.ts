import { User, type Language, type Role } from '../users/user.model';
import type { Actor } from '../../shared/actor';
import { onRosterChanged } from '../../shared/domain-events';
import { TtlMemo } from '../../shared/ttl-memo';
import { dummyPasswordHash, verifyPassword } from './password';
import type { UnknownEmailLockout } from './unknown-email-lockout';

export const MAX_FAILED_SIGN_INS = 5;
export const LOCKOUT_MINUTES = 15;

export type SignInResult =
  | { ok: true; actor: Actor }
  | { ok: false; reason: 'invalid' | 'locked' | 'inactive'; lockedUntil?: Date };

/** At most this many accounts (one per district) are checked for one email at a sign-in. */
export const MAX_ACCOUNTS_PER_EMAIL = 5;

type SignInAccount = {
  _id: unknown;
  active?: boolean | null;
  passwordHash?: string | null;
  failedSignIns?: number | null;
  lockedUntil?: Date | null;
  lastSignInAt?: Date | null;
};

/** The account a sign-in opens when the password fits several: an active one, the one used last, then the oldest. */
function preferred<T extends SignInAccount>(matches: T[]): T {
  return [...matches].sort((a, b) => Number(Boolean(b.active)) - Number(Boolean(a.active)) || (b.lastSignInAt?.getTime() ?? 0) - (a.lastSignInAt?.getTime() ?? 0))[0];
}

/**
 * The password checks of one sign-in: always MAX_ACCOUNTS_PER_EMAIL slow verifications, one per account of the
 * email and a dummy hash for each missing one (and for an account without a password: roster-imported or
 * SSO only), so the time of an answer tells neither whether the email has an account nor how many.
 * Returns the accounts whose password it is.
 */
async function checkPasswordSlots<T extends SignInAccount>(accounts: T[], password: string): Promise<T[]> {
  const matches: T[] = [];
  for (let slot = 0; slot < MAX_ACCOUNTS_PER_EMAIL; slot++) {
    const account = accounts[slot] as T | undefined;
    const hash = account?.passwordHash || (await dummyPasswordHash());
    const valid = await verifyPassword(hash, password);
    if (account?.passwordHash && valid) matches.push(account);
  }
  return matches;
}

/**
 * Checks email + password. Failures count per account; after MAX_FAILED_SIGN_INS the account is locked
 * for LOCKOUT_MINUTES (kept in the database, so it holds across app instances).
 *
 * An email is unique within a district, not across them: a substitute teacher working for two districts on
 * one deployment has two accounts with one address. Each account's password is checked, and the sign-in
 * opens the account whose password it is — never one picked by the database's order. If the same password
 * fits both, the active one used last is opened. A wrong password counts against each account checked.
 */
export async function signIn(email: string, password: string, now = new Date(), unknownEmails?: UnknownEmailLockout): Promise<SignInResult> {
  const accounts = await User.find({ email: email.trim().toLowerCase() })
    .select('+passwordHash +failedSignIns +lockedUntil')
    .sort({ _id: 1 })
    .limit(MAX_ACCOUNTS_PER_EMAIL)
    .lean();
  if (accounts.length === 0) {
    // An email without an account answers as an account would: the same checks, and locked after as many
    // failures (unknown-email-lockout.ts), so neither the time nor the message tells that it has none.
    const lockedUntil = await unknownEmails?.lockedUntil(email, now);
    if (lockedUntil) return { ok: false, reason: 'locked', lockedUntil };
    await checkPasswordSlots([], password);
    const nowLocked = await unknownEmails?.countFailure(email, now);
    return nowLocked ? { ok: false, reason: 'locked', lockedUntil: nowLocked } : { ok: false, reason: 'invalid' };
  }
  const isLocked = (account: SignInAccount) => Boolean(account.lockedUntil && account.lockedUntil > now);
  const open = accounts.filter((account) => !isLocked(account));
  if (open.length === 0) {
    const lockedUntil = new Date(Math.min(...accounts.map((account) => account.lockedUntil!.getTime())));
    return { ok: false, reason: 'locked', lockedUntil };
  }
  const matches = await checkPasswordSlots(open, password);
  if (matches.length === 0) {
    const locks = await Promise.all(
      open.map(async (account) => {
        const failed = (account.lockedUntil && account.lockedUntil <= now ? 0 : account.failedSignIns ?? 0) + 1;
        const lockedUntil = failed >= MAX_FAILED_SIGN_INS ? new Date(now.getTime() + LOCKOUT_MINUTES * 60_000) : undefined;
        await User.updateOne({ _id: account._id }, { $set: { failedSignIns: failed, lockedUntil: lockedUntil ?? null } });
        return lockedUntil;
      }),
    );
    // Locked only when no account of this email can be tried any more.
    const newlyLocked = locks.filter((until): until is Date => until !== undefined);
    if (newlyLocked.length === open.length) return { ok: false, reason: 'locked', lockedUntil: newlyLocked[0] };
    return { ok: false, reason: 'invalid' };
  }
  const user = preferred(matches);
  if (!user.active) return { ok: false, reason: 'inactive' };
  await User.updateOne({ _id: user._id }, { $set: { failedSignIns: 0, lockedUntil: null, lastSignInAt: now } });
  return { ok: true, actor: toActor(user) };
}

type UserLike = {
  _id: { toString(): string };
  district: { toString(): string };
  role: Role;
  schools?: { toString(): string }[] | null;
  regions?: { toString(): string }[] | null;
  name: string;
  email: string;
  jobTitle?: string | null;
  preferredLanguage?: Language | null;
  sessionEpoch?: number | null;
};

export function toActor(user: UserLike): Actor {
  return Object.freeze({
    userId: user._id.toString(),
    districtId: user.district.toString(),
    role: user.role,
    schoolIds: Object.freeze((user.schools ?? []).map((s) => s.toString())),
    // Only a region administrator's regions give scope; anyone else's (a left-over after a role change) none.
    regionIds: Object.freeze(user.role === 'region_admin' ? (user.regions ?? []).map((r) => r.toString()) : []),
    name: user.name,
    email: user.email,
    jobTitle: user.jobTitle ?? undefined,
    language: user.preferredLanguage ?? 'en',
    sessionEpoch: user.sessionEpoch ?? 0,
  });
}

/** Loads the actor for a session; an account deactivated since sign-in ends the session. */
export async function loadActor(userId: string): Promise<Actor | null> {
  if (!/^[0-9a-f]{24}$/i.test(userId)) return null;
  const user = await User.findOne({ _id: userId, active: true }).lean();
  return user ? toActor(user) : null;
}

export async function setPreferredLanguage(actor: Actor, language: Language): Promise<void> {
  await User.updateOne({ _id: actor.userId }, { $set: { preferredLanguage: language } });
  forgetSessionActors([actor.userId]);
}

/**
 * Every signed-in request needs its Actor; reading the user on each one was a database round trip per
 * request. The Actor is kept per process for SESSION_ACTOR_MS. Trade-off (README, security notes):
 * - changes made through this app process apply at once: the roster-changed notification (create, edit,
 *   role, schools, activate, deactivate) and a language switch drop the entry;
 * - a change made by another app instance or directly in the database applies within SESSION_ACTOR_MS:
 *   a person deactivated there keeps their open sessions here for at most that long (they cannot sign in
 *   again: sign-in always reads the database).
 * A person who is inactive or gone is never kept, so the session ends at the next request.
 */
const SESSION_ACTOR_MS = 5_000;
const sessionActors = new TtlMemo<Actor>(SESSION_ACTOR_MS);
onRosterChanged(async (userIds) => forgetSessionActors(userIds));

/** The Actor for a session's user id (see SESSION_ACTOR_MS); null ends the session. */
export function loadSessionActor(userId: string): Promise<Actor | null> {
  return sessionActors.get(userId, () => loadActor(userId));
}

/** Drops memoised Actors so the next request reads the database (changes made in this process). */
export function forgetSessionActors(userIds: readonly string[]): void {
  sessionActors.forget(userIds);
}
