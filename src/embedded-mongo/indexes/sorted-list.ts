const MAX_CHUNK = 512;

/**
 * An ordered multiset kept as a list of small sorted chunks: O(log n) search and O(√n)-ish insert/remove
 * without the O(n) shifting of one big sorted array.
 */
export class SortedList<T> {
  private chunks: T[][] = [[]];
  private count = 0;

  constructor(private readonly cmp: (a: T, b: T) => number) {}

  get size(): number {
    return this.count;
  }

  /** Index of the first chunk whose last element is >= probe (by `before(x)` = x sorts before the probe). */
  private chunkFor(before: (x: T) => boolean): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid];
      if (c.length > 0 && before(c[c.length - 1])) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerBound<T>(arr: T[], before: (x: T) => boolean): number {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(arr[mid])) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Chunk index and position of the first element not sorting before `item` (no closures: hot path). */
  private locate(item: T): [number, number] {
    const { chunks, cmp } = this;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = chunks[mid];
      if (c.length > 0 && cmp(c[c.length - 1], item) < 0) lo = mid + 1;
      else hi = mid;
    }
    const chunk = chunks[lo];
    let a = 0;
    let b = chunk.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (cmp(chunk[mid], item) < 0) a = mid + 1;
      else b = mid;
    }
    return [lo, a];
  }

  insert(item: T): void {
    const [ci, i] = this.locate(item);
    const chunk = this.chunks[ci];
    if (i === chunk.length) chunk.push(item);
    else chunk.splice(i, 0, item);
    this.count++;
    if (chunk.length > MAX_CHUNK) this.chunks.splice(ci + 1, 0, chunk.splice(MAX_CHUNK >> 1));
  }

  /** Removes one element comparing equal to `item`; returns whether one was found. */
  remove(item: T): boolean {
    const [ci, i] = this.locate(item);
    const chunk = this.chunks[ci];
    if (i >= chunk.length || this.cmp(chunk[i], item) !== 0) return false;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0 && this.chunks.length > 1) this.chunks.splice(ci, 1);
    return true;
  }

  /** Calls `fn` for each element `cmp` finds equal (cmp(x) < 0: x sorts before the probe). No closures: hot path. */
  forEqual(cmp: (x: T) => number, fn: (x: T) => void): void {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = chunks[mid];
      if (c.length > 0 && cmp(c[c.length - 1]) < 0) lo = mid + 1;
      else hi = mid;
    }
    let ci = lo;
    let a = 0;
    let b = chunks[ci].length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (cmp(chunks[ci][mid]) < 0) a = mid + 1;
      else b = mid;
    }
    for (let i = a; ci < chunks.length; ci++, i = 0) {
      const chunk = chunks[ci];
      for (; i < chunk.length; i++) {
        if (cmp(chunk[i]) !== 0) return;
        fn(chunk[i]);
      }
    }
  }

  /** Elements from the first one for which `before` is false, while `inRange` holds. */
  *scan(before: (x: T) => boolean, inRange: (x: T) => boolean): Generator<T> {
    let ci = this.chunkFor(before);
    let i = SortedList.lowerBound(this.chunks[ci], before);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const chunk = this.chunks[ci];
      for (; i < chunk.length; i++) {
        if (!inRange(chunk[i])) return;
        yield chunk[i];
      }
    }
  }

  /** Elements for which `before` is false and `inRange` holds, from the last backwards (`before` ∪ range ∪ after, in order). */
  *scanReverse(notAfter: (x: T) => boolean, inRange: (x: T) => boolean): Generator<T> {
    const after = (x: T) => notAfter(x);
    let ci = this.chunkFor(after);
    let i = SortedList.lowerBound(this.chunks[ci], after) - 1;
    for (; ci >= 0; ci--, i = ci >= 0 ? this.chunks[ci].length - 1 : -1) {
      const chunk = this.chunks[ci];
      for (; i >= 0; i--) {
        if (!inRange(chunk[i])) return;
        yield chunk[i];
      }
    }
  }

  *all(): Generator<T> {
    for (const chunk of this.chunks) yield* chunk;
  }

  clear(): void {
    this.chunks = [[]];
    this.count = 0;
  }
}
