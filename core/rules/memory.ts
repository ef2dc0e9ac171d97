/**
 * What a rule gate remembers between events for dedupe, cooldown and rate limits: times of earlier passes, by key.
 * Every entry expires when its window has passed, and the store holds at most `maxKeys` keys, so a camera that
 * sends a new dedupe key with every event cannot grow it without end.
 */
export interface RuleMemory {
  /** The times recorded under a key that are still within their window at `now`, oldest first. */
  times(key: string, now: number): number[];
  /** Records a pass at `now` under a key, kept for `windowMs` and at most `keep` times. */
  record(key: string, now: number, windowMs: number, keep?: number): void;
}

interface Entry {
  times: number[];
  windowMs: number;
  expiresAt: number;
}

const DEFAULT_MAX_KEYS = 10_000;

export class InMemoryRuleMemory implements RuleMemory {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxKeys = DEFAULT_MAX_KEYS) {}

  get size(): number {
    return this.entries.size;
  }

  times(key: string, now: number): number[] {
    const entry = this.entries.get(key);
    if (!entry) return [];
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return [];
    }
    return entry.times.filter((t) => now - t < entry.windowMs);
  }

  record(key: string, now: number, windowMs: number, keep = 1): void {
    const earlier = this.times(key, now);
    const times = [...earlier, now].slice(-Math.max(1, keep));
    // Deleting first moves the key to the end of the Map's order, which makes that order least-recently-written.
    this.entries.delete(key);
    this.entries.set(key, { times, windowMs, expiresAt: now + windowMs });
    if (this.entries.size > this.maxKeys) this.evict(now);
  }

  private evict(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxKeys) break;
      this.entries.delete(key);
    }
  }
}
