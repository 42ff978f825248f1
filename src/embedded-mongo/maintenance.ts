import { typeRank } from './bson-values';
import { abortTxn } from './commands/transactions';
import type { Engine } from './storage/engine';
import { writeDoc } from './storage/writes';
import type { Logger } from './wire/server';

/** Deletes documents whose TTL index date is past its expiry, like mongod's TTL monitor. */
export function sweepTtl(engine: Engine, now = Date.now()): number {
  let removed = 0;
  const batch = engine.newBatch();
  const ctx = { engine, batch };
  for (const colls of engine.dbs.values()) {
    for (const coll of colls.values()) {
      for (const idx of coll.indexes) {
        const ttl = idx.spec.expireAfterSeconds;
        if (ttl === undefined || idx.fields.length !== 1 || !Number.isFinite(ttl)) continue;
        const cutoff = new Date(now - ttl * 1000);
        const expired = [...new Set(idx.scan([], { rank: typeRank(cutoff), hi: cutoff, hiInc: false, loInc: true }))];
        for (const key of expired) {
          const writer = engine.sessions.writer;
          if (writer?.writes.get(coll.ns)?.has(key)) continue;
          if (!coll.docs.has(key)) continue;
          writeDoc(ctx, coll, key, null, false);
          removed++;
        }
      }
    }
  }
  engine.flush(batch);
  return removed;
}

/** Background housekeeping: TTL expiry, idle cursors, transactions past their lifetime. */
export function startMaintenance(engine: Engine, intervalMs: number, log: Logger): { stop(): void } {
  const timer = setInterval(() => {
    try {
      const now = Date.now();
      sweepTtl(engine, now);
      engine.cursors.expireIdle(now);
      for (const t of engine.sessions.expireIdle(now)) abortTxn(engine, t);
      engine.sessions.expireSessions(now);
    } catch (e) {
      log('error', 'embedded-mongo: maintenance failed', { error: String(e) });
    }
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
