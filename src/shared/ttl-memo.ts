/**
 * A small per-process memo for data that every request reads and that rarely changes (the signed-in
 * person, the names in the page header). Entries live `ttlMs`; `forget()` drops entries at once for
 * changes made in this process, and a load that was already running when something was forgotten is
 * answered but not kept (it may have read the old value). Other processes see a change when their
 * entry expires, so `ttlMs` is the longest a change made elsewhere can go unnoticed. Misses (`null`)
 * are never kept. The oldest entries go first beyond `maxEntries`.
 */
export class TtlMemo<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  async get(key: string, load: () => Promise<V | null>): Promise<V | null> {
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.value;
    const generation = this.generation;
    const value = await load();
    this.entries.delete(key);
    if (value !== null && generation === this.generation && this.ttlMs > 0) {
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
      }
      this.entries.set(key, { value, expiresAt: Date.now() + this.ttlMs });
    }
    return value;
  }

  forget(keys: Iterable<string>): void {
    this.generation += 1;
    for (const key of keys) this.entries.delete(key);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }
}
