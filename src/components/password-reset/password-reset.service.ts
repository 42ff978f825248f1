/**
 * "Forgot your password, or first time here?": a one-time link by email that lets a person choose a password.
 *
 * - A request looks up the active accounts using the address (one per district) that may sign in with a
 *   password (PASSWORD_SIGN_IN=off: district admins only). Everything after that lookup — the per-account
 *   limit, the token, the email — runs after the answer is sent, so the answer's time does not tell whether
 *   an account exists (the same page answers every request).
 * - The link holds 32 random bytes (base64url); only their SHA-256 hash is stored. It works for
 *   RESET_TOKEN_MINUTES, once. At most MAX_LINKS_PER_HOUR links per account per hour; beyond, nothing is sent.
 * - Using it sets the password, marks this link used and the person's other open links too, moves the
 *   session epoch on (every other session ends), clears the lockout and records `user.password_reset_by_email`.
 *   The claim of the link is a conditional update: of two concurrent uses exactly one wins.
 */
import { createHash, randomBytes } from 'node:crypto';
import { User } from '../users/user.model';
import { hashPassword } from '../auth/password';
import { forgetSessionActors, MAX_ACCOUNTS_PER_EMAIL, toActor } from '../auth/auth.service';
import { recordAudit } from '../audit';
import { inTransaction } from '../../shared/transactions';
import { logger } from '../../shared/logger';
import type { Mailer } from '../../shared/mailer';
import { ResetToken, RESET_TOKEN_MINUTES } from './reset-token.model';
import { buildResetMessage } from './reset-email';

export const MAX_LINKS_PER_HOUR = 3;

export type ResetPolicy = {
  /** PASSWORD_SIGN_IN=off: only district admins may use a password. */
  adminsOnly: boolean;
};

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function accountFilter(policy: ResetPolicy): Record<string, unknown> {
  return { active: true, ...(policy.adminsOnly ? { role: 'district_admin' } : {}) };
}

// Background work started by requests (token + email), kept so tests and shutdown can wait for it.
const pending = new Set<Promise<void>>();

/** Resolves once every request's background work (tokens, emails) started so far has finished. */
export async function settleResetMails(): Promise<void> {
  while (pending.size > 0) await Promise.all([...pending]);
}

/** Handles a request for a link. Always resolves the same way: the caller answers the same page whatever happened. */
export async function requestPasswordReset(email: string, policy: ResetPolicy, mailer: Mailer, now = new Date()): Promise<void> {
  const accounts = await User.find({ email: email.trim().toLowerCase(), ...accountFilter(policy) }, { _id: 1 })
    .sort({ _id: 1 })
    .limit(MAX_ACCOUNTS_PER_EMAIL)
    .lean();
  if (mailer.mode === 'disabled') return;
  for (const account of accounts) {
    const work = sendLink(String(account._id), mailer, now).catch((err: unknown) => {
      logger.warn({ err: err instanceof Error ? err.message : String(err), userId: String(account._id) }, 'password reset email not sent');
    });
    pending.add(work);
    void work.finally(() => pending.delete(work));
  }
}

async function sendLink(userId: string, mailer: Mailer, now: Date): Promise<void> {
  const recent = await ResetToken.countDocuments({ user: userId, createdAt: { $gt: new Date(now.getTime() - 60 * 60_000) } });
  if (recent >= MAX_LINKS_PER_HOUR) return;
  const user = await User.findOne({ _id: userId, active: true }, { name: 1, email: 1, district: 1, preferredLanguage: 1 }).lean();
  if (!user) return;
  const token = randomBytes(32).toString('base64url');
  await ResetToken.create({ user: user._id, district: user.district, tokenHash: hashToken(token), expiresAt: new Date(now.getTime() + RESET_TOKEN_MINUTES * 60_000), createdAt: now });
  const message = await buildResetMessage(user, `${mailer.baseUrl}/login/reset/${token}`);
  await mailer.send(message);
}

/** The open link for a token, or null (unknown, used, expired, or the account can no longer use a password). */
export async function findUsableLink(token: string, policy: ResetPolicy, now = new Date()) {
  const link = await ResetToken.findOne({ tokenHash: hashToken(token), usedAt: null, expiresAt: { $gt: now } }).lean();
  if (!link) return null;
  const user = await User.exists({ _id: link.user, district: link.district, ...accountFilter(policy) });
  return user ? link : null;
}

export type ResetOutcome = { ok: true; userId: string } | { ok: false };

/** Sets the password through a link; { ok: false } when the link is not (or no longer) usable. */
export async function completePasswordReset(token: string, newPassword: string, policy: ResetPolicy, ctx: { requestId?: string } = {}, now = new Date()): Promise<ResetOutcome> {
  const tokenHash = hashToken(token);
  if (!(await findUsableLink(token, policy, now))) return { ok: false };
  // Slow (argon2): done before the transaction so it holds no locks meanwhile.
  const passwordHash = await hashPassword(newPassword);
  const userId = await inTransaction(async (session) => {
    const claimed = await ResetToken.findOneAndUpdate({ tokenHash, usedAt: null, expiresAt: { $gt: now } }, { $set: { usedAt: now } }, { session, returnDocument: 'after' }).lean();
    if (!claimed) return null;
    const user = await User.findOneAndUpdate(
      { _id: claimed.user, district: claimed.district, ...accountFilter(policy) },
      { $set: { passwordHash, failedSignIns: 0, lockedUntil: null }, $inc: { sessionEpoch: 1 } },
      { session, returnDocument: 'after' },
    ).lean();
    if (!user) return null;
    await ResetToken.updateMany({ user: user._id, usedAt: null }, { $set: { usedAt: now } }, { session });
    await recordAudit(toActor(user), { action: 'user.password_reset_by_email', target: { kind: 'user', id: String(user._id) }, requestId: ctx.requestId }, session);
    return String(user._id);
  });
  if (!userId) return { ok: false };
  forgetSessionActors([userId]);
  return { ok: true, userId };
}
