import { Schema, model } from 'mongoose';

/**
 * One request counter of one rate limit (src/shared/rate-limit.ts), shared by every app instance. Written by
 * rate-limiter-flexible's RateLimiterMongo: `key` is "<limit name>:<HMAC of the client key>" — never an address,
 * email or token in clear — `points` the requests counted in the window, `expire` the end of the window.
 */
const rateLimitSchema = new Schema(
  {
    key: { type: String, required: true },
    points: { type: Number, required: true },
    expire: { type: Date, default: null },
  },
  { collection: 'rate_limits', versionKey: false },
);
// Serves: every count (one findOneAndUpdate by key); unique, so concurrent first requests make one counter.
rateLimitSchema.index({ key: 1 }, { unique: true });
// Expiry: the server deletes a counter once its window is over (until then the limiter ignores it by `expire`).
rateLimitSchema.index({ expire: 1 }, { expireAfterSeconds: 0 });

export const RATE_LIMIT_COLLECTION = 'rate_limits';
export const RateLimitCounter = model('RateLimitCounter', rateLimitSchema);
