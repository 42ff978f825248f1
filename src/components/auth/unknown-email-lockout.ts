/**
 * Wrong passwords for an email that has no account lock it exactly as they lock an account: after
 * MAX_FAILED_SIGN_INS failures the sign-in answers "locked for LOCKOUT_MINUTES". Without this the lockout
 * message itself would tell which emails have accounts (an account locks, an unknown email never does).
 *
 * The failures are counted in the shared rate-limit store (src/shared/rate-limit.ts, collection
 * `rate_limits`): every instance counts together, the key is an HMAC of the email (never the email), and a
 * counter expires by itself (a day without failures, or the end of the lock). If the database does not
 * answer, unknown emails simply do not lock for that while (the sign-in cannot succeed anyway).
 */
import type { Collection } from 'mongodb';
import { RateLimiterMongo } from 'rate-limiter-flexible';
import { logger } from '../../shared/logger';
import { rateLimitKeyHasher } from '../../shared/rate-limit';
import { RateLimitCounter } from '../../shared/rate-limit.model';

const LIMIT_NAME = 'sign-in-unknown-email';
/** An account's failure count lasts until a success or a lock; an unknown email's for a day without failures. */
const COUNT_WINDOW_S = 24 * 60 * 60;

export type UnknownEmailLockout = {
  /** The end of the lock when this email is locked now, else null. */
  lockedUntil(email: string, now: Date): Promise<Date | null>;
  /** Counts one failure; the end of the lock when this failure locks the email, else null. */
  countFailure(email: string, now: Date): Promise<Date | null>;
};

export function unknownEmailLockout(options: {
  secret: string;
  maxFailures: number;
  lockoutMinutes: number;
  collection?: () => Collection;
}): UnknownEmailLockout {
  const hashKey = rateLimitKeyHasher(options.secret, LIMIT_NAME);
  const collection = options.collection ?? (() => RateLimitCounter.collection as unknown as Collection);
  const counter = new RateLimiterMongo({
    storeClient: { collection: () => collection() },
    keyPrefix: LIMIT_NAME,
    points: options.maxFailures,
    duration: COUNT_WINDOW_S,
    disableIndexesCreation: true,
  });
  const warn = (err: unknown) => logger.warn({ err, limit: LIMIT_NAME }, 'could not count a failed sign-in for an unknown email');
  const key = (email: string) => hashKey(email.trim().toLowerCase());

  return {
    async lockedUntil(email, now) {
      try {
        const found = await counter.get(key(email));
        // block() leaves points + 1 consumed until the lock ends.
        return found && found.consumedPoints > options.maxFailures ? new Date(now.getTime() + found.msBeforeNext) : null;
      } catch (err) {
        warn(err);
        return null;
      }
    },
    async countFailure(email, now) {
      try {
        const counted = await counter.penalty(key(email), 1);
        if (counted.consumedPoints < options.maxFailures) return null;
        await counter.block(key(email), options.lockoutMinutes * 60);
        return new Date(now.getTime() + options.lockoutMinutes * 60_000);
      } catch (err) {
        warn(err);
        return null;
      }
    },
  };
}
