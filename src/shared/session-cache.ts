import session, { type SessionData, type Store } from 'express-session';

type Callback = (err?: unknown) => void;
type Entry = { json: string; expiresAt: number };

/**
 * A write-through, per-process cache in front of the MongoDB session store.
 *
 * Every signed-in request reads its session; without this each read is a round trip to MongoDB (a scenario
 * step, POST + GET, made two of its five). Sessions stay in MongoDB — this process only remembers, for
 * `ttlMs`, what it last read or wrote for a session id:
 * - a write (set, touch) or destroy made through this process updates or drops the entry when it is stored,
 *   so everything done on this instance is seen at once (sign-out, sign-in, language, CSRF token, flash);
 * - a read that was already running when a write or destroy happened is answered but not kept;
 * - a change made through *another* instance (a sign-out there, a session written there) is seen here when
 *   the entry expires, at most `ttlMs` later — the same bound as the signed-in person's memo. Deployments
 *   that spread one person's requests across instances without sticky sessions should set
 *   SESSION_CACHE_MS=0 (README, "More than one machine").
 * Entries are stored as JSON and parsed per request, so a request can never change another's copy; a
 * session whose cookie has expired is never answered from here. The oldest entries go first beyond
 * `maxEntries` (sessions are ~300 bytes; 20,000 entries is a few MB).
 */
export class CachedSessionStore extends session.Store {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;

  private readonly ttlMs: number;

  /** `touchAfterMs`: the inner store's touchAfter (connect-mongo writes a touch at most that often). */
  constructor(
    private readonly inner: Store,
    private readonly options: Readonly<{ ttlMs: number; touchAfterMs: number; maxEntries?: number }>,
  ) {
    super();
    this.ttlMs = options.ttlMs;
    // express-session pauses on the store's disconnect and resumes on connect.
    inner.on('disconnect', () => this.emit('disconnect'));
    inner.on('connect', () => this.emit('connect'));
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    const hit = this.entries.get(sid);
    if (hit && hit.expiresAt > Date.now()) {
      const data = parse(hit.json);
      if (data && !hasExpired(data)) return callback(null, data);
      this.entries.delete(sid);
    }
    const generation = this.generation;
    this.inner.get(sid, (err, data) => {
      if (!err && data && generation === this.generation) this.remember(sid, data);
      callback(err, data);
    });
  }

  override set(sid: string, data: SessionData, callback: Callback = noop): void {
    this.forget(sid);
    this.inner.set(sid, data, (err) => {
      // connect-mongo stamps lastModified when it writes (for touchAfter); the copy kept here says the same
      // so the next requests do not touch again.
      if (!err) this.remember(sid, { ...data, lastModified: new Date() } as SessionData);
      callback(err);
    });
  }

  override touch(sid: string, data: SessionData, callback: Callback = noop): void {
    // connect-mongo calls back with an error when the touch fails; express-session's type says no arguments.
    const inner = this.inner as { touch?: (sid: string, data: SessionData, callback: Callback) => void };
    if (!inner.touch) return callback();
    const lastModified = (data as { lastModified?: Date }).lastModified;
    // The store itself skips a touch within touchAfter of the last write; nothing to update here then.
    if (lastModified instanceof Date && Date.now() - lastModified.getTime() < this.options.touchAfterMs) return inner.touch.call(this.inner, sid, data, callback);
    inner.touch.call(this.inner, sid, data, (err) => {
      const hit = this.entries.get(sid);
      const stored = !err && hit ? parse(hit.json) : undefined;
      if (stored) this.remember(sid, { ...stored, cookie: data.cookie, lastModified: new Date() } as SessionData);
      callback(err);
    });
  }

  override destroy(sid: string, callback: Callback = noop): void {
    this.forget(sid);
    this.inner.destroy(sid, callback);
  }

  override all(callback: (err: unknown, obj?: SessionData[] | { [sid: string]: SessionData } | null) => void): void {
    if (!this.inner.all) return callback(null, null);
    this.inner.all(callback);
  }

  override length(callback: (err: unknown, length?: number) => void): void {
    if (!this.inner.length) return callback(null, 0);
    this.inner.length(callback);
  }

  override clear(callback: Callback = noop): void {
    this.forgetAll();
    if (!this.inner.clear) return callback();
    this.inner.clear(callback);
  }

  /** Drops every cached session (e.g. after sessions were deleted in the database directly). */
  forgetAll(): void {
    this.generation += 1;
    this.entries.clear();
  }

  private forget(sid: string): void {
    this.generation += 1;
    this.entries.delete(sid);
  }

  private remember(sid: string, data: SessionData): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(sid);
    if (this.entries.size >= (this.options.maxEntries ?? 20_000)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(sid, { json: JSON.stringify(data), expiresAt: Date.now() + this.ttlMs });
  }
}

function noop(): void {}

/** Session JSON as express-session expects it back from a store (cookie.expires and lastModified as Dates). */
function parse(json: string): SessionData | undefined {
  if (!json) return undefined;
  const data = JSON.parse(json) as SessionData & { lastModified?: string | Date; cookie: { expires?: string | Date | null } };
  if (typeof data.lastModified === 'string') data.lastModified = new Date(data.lastModified);
  return data;
}

function hasExpired(data: SessionData): boolean {
  const expires = (data.cookie as { expires?: string | Date | null } | undefined)?.expires;
  return expires != null && new Date(expires).getTime() <= Date.now();
}
