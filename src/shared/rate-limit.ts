/**
 * Request rate limits counted in MongoDB, so every app instance behind a load balancer counts against one
 * budget and a restart forgets nothing (docs/rate-limits.md).
 *
 * express-rate-limit stays the middleware (who is counted, which requests count, the 429 answer, the
 * RateLimit / Retry-After headers); its counters live in the `rate_limits` collection through
 * rate-limiter-flexible's RateLimiterMongo (one atomic findOneAndUpdate per count, an expired window replaced
 * even before the TTL index deletes it).
 *
 * - Keys: the client key (an IP address from req.ip, so `trust proxy` applies as before, or an email) is
 *   stored only as an HMAC keyed from SESSION_SECRET, which every instance shares: the collection is not a
 *   list of who tried to sign in, and a copy of it cannot be checked against a list of emails.
 * - Failure: if the database does not answer, the count falls back to this instance's memory (the limits as
 *   they were before they were shared) with a logged warning — never a 500 because of the limiter, never
 *   no limit at all. Sign-in keeps its per-account lockout, which is in MongoDB.
 */
import { createHmac } from 'node:crypto';
import type { Collection } from 'mongodb';
import { rateLimit, type ClientRateLimitInfo, type IncrementResponse, type Options, type RateLimitRequestHandler, type Store } from 'express-rate-limit';
import { RateLimiterMemory, RateLimiterMongo, type RateLimiterRes } from 'rate-limiter-flexible';
import { logger } from './logger';
import { RateLimitCounter } from './rate-limit.model';

/** A store failure is logged at most this often per limit (an outage would otherwise log every request). */
const WARN_EVERY_MS = 60_000;

export type SharedRateLimitOptions = Partial<Omit<Options, 'store' | 'windowMs' | 'limit' | 'max' | 'logger' | 'passOnStoreError'>> & {
  /** Names the limit in the collection ("sign-in:<hash>") and in log lines. Unique per limit. */
  name: string;
  windowMs: number;
  limit: number;
  /** The secret the stored keys are derived with: SESSION_SECRET, the same on every instance. */
  secret: string;
  /** Where the counters live; the app's `rate_limits` collection unless a test gives another. */
  collection?: () => Collection;
};

const defaultCollection = (): Collection => RateLimitCounter.collection as unknown as Collection;

/** express-rate-limit's own messages (misconfiguration warnings, a failed decrement) go to the app's log. */
const rateLimitLogger = {
  error: (err: unknown, message?: string) => logger.error({ err }, message ?? 'express-rate-limit error'),
  warn: (err: unknown, message?: string) => logger.warn({ err }, message ?? 'express-rate-limit warning'),
};

/** A keyed one-way function of the client key: the same on every instance, unreadable without the secret. */
export function rateLimitKeyHasher(secret: string, name: string): (key: string) => string {
  const derived = createHmac('sha256', secret).update('rate-limit keys v1').digest();
  return (key) => createHmac('sha256', derived).update(`${name}\u0000${key}`).digest('base64url');
}

type StoreSettings = { name: string; windowMs: number; limit: number; secret: string; collection: () => Collection };

/** An express-rate-limit Store over RateLimiterMongo, with this instance's memory as the fallback. */
export class SharedRateLimitStore implements Store {
  /** Counts are shared between instances (express-rate-limit's validations rely on this flag). */
  readonly localKeys = false;
  readonly prefix: string;
  private readonly name: string;
  private readonly hashKey: (key: string) => string;
  private readonly collection: () => Collection;
  private readonly shared: RateLimiterMongo;
  private readonly fallback: RateLimiterMemory;
  private lastWarning = 0;

  constructor(settings: StoreSettings) {
    this.name = settings.name;
    this.prefix = `${settings.name}:`;
    this.hashKey = rateLimitKeyHasher(settings.secret, settings.name);
    this.collection = settings.collection;
    const duration = settings.windowMs / 1000;
    // Indexes are the model's (rate-limit.model.ts), built with the app's others: not by the library.
    this.shared = new RateLimiterMongo({
      storeClient: { collection: () => settings.collection() },
      keyPrefix: settings.name,
      points: settings.limit,
      duration,
      disableIndexesCreation: true,
    });
    this.fallback = new RateLimiterMemory({ keyPrefix: settings.name, points: settings.limit, duration });
  }

  async increment(key: string): Promise<IncrementResponse> {
    const id = this.hashKey(key);
    let counted: RateLimiterRes;
    try {
      counted = await this.shared.penalty(id, 1);
    } catch (err) {
      this.warn(err, 'increment');
      counted = await this.fallback.penalty(id, 1);
    }
    return { totalHits: counted.consumedPoints, resetTime: new Date(Date.now() + counted.msBeforeNext) };
  }

  /**
   * A request that does not count after all (a successful sign-in). Only a live window is decremented and
   * never below zero: unlike the library's reward(), it does not open a new window with a negative count.
   */
  async decrement(key: string): Promise<void> {
    const id = this.hashKey(key);
    try {
      await this.collection().updateOne({ key: this.shared.getKey(id), expire: { $gt: new Date() }, points: { $gt: 0 } }, { $inc: { points: -1 } });
    } catch (err) {
      this.warn(err, 'decrement');
    }
    if (await this.fallback.get(id)) await this.fallback.reward(id, 1);
  }

  async resetKey(key: string): Promise<void> {
    const id = this.hashKey(key);
    try {
      await this.shared.delete(id);
    } catch (err) {
      this.warn(err, 'reset');
    }
    await this.fallback.delete(id);
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const found = await this.shared.get(this.hashKey(key));
    return found ? { totalHits: found.consumedPoints, resetTime: new Date(Date.now() + found.msBeforeNext) } : undefined;
  }

  private warn(err: unknown, operation: string): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    logger.warn({ err, limit: this.name, operation }, 'rate-limit store unavailable: counting in this app instance only until it answers again');
  }
}

/**
 * express-rate-limit with its counters in MongoDB. Takes express-rate-limit's options (handler,
 * skipSuccessfulRequests, keyGenerator, headers …) plus the limit's name and the key secret.
 */
export function sharedRateLimit(options: SharedRateLimitOptions): RateLimitRequestHandler {
  const { name, secret, collection, ...rest } = options;
  const store = new SharedRateLimitStore({ name, windowMs: rest.windowMs, limit: rest.limit, secret, collection: collection ?? defaultCollection });
  // The store never throws on a count (it falls back to memory), so passOnStoreError is never needed.
  // Every limit answers with the IETF draft-8 RateLimit headers and no X-RateLimit-* ones unless it says otherwise.
  return rateLimit({ standardHeaders: 'draft-8', legacyHeaders: false, ...rest, store, logger: rateLimitLogger, passOnStoreError: false });
}
