import { hammingDistance } from './dhash';
import type { Description } from './vision';

export interface CacheOptions {
  /** Most differing dHash bits for two pictures to count as the same scene (of 64). */
  maxDistance: number;
  maxEntries: number;
  ttlMs: number;
  now: () => number;
}

export const CACHE_DEFAULTS: Omit<CacheOptions, 'now'> = { maxDistance: 4, maxEntries: 256, ttlMs: 10 * 60_000 };

interface Entry {
  scope: string;
  hash: bigint;
  description: Description;
  storedAt: number;
}

/**
 * Descriptions of recent scenes, so an unchanged scene is not paid for twice. A hit needs the same camera and
 * prompt (the scope) and a picture within `maxDistance` dHash bits. Least recently used entries go first once
 * `maxEntries` is reached, and none outlives `ttlMs`: a scene that looks the same may still have changed meaning
 * (a parked car that has been there an hour).
 */
export class DescriptionCache {
  // A Map keeps insertion order: re-inserting on a hit makes its first key the least recently used.
  private readonly entries = new Map<number, Entry>();
  private nextKey = 0;

  constructor(private readonly options: CacheOptions) {
    if (!Number.isInteger(options.maxDistance) || options.maxDistance < 0 || options.maxDistance > 64)
      throw new Error(`cache maxDistance ${options.maxDistance} is invalid: expected 0 to 64 bits`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(scope: string, hash: bigint): Description | null {
    const now = this.options.now();
    let best: { key: number; entry: Entry; distance: number } | null = null;
    for (const [key, entry] of this.entries) {
      if (now - entry.storedAt > this.options.ttlMs) {
        this.entries.delete(key);
        continue;
      }
      if (entry.scope !== scope) continue;
      const distance = hammingDistance(entry.hash, hash);
      if (distance <= this.options.maxDistance && (best === null || distance < best.distance)) best = { key, entry, distance };
    }
    if (!best) return null;
    this.entries.delete(best.key);
    this.entries.set(best.key, best.entry);
    return best.entry.description;
  }

  set(scope: string, hash: bigint, description: Description): void {
    if (this.options.maxEntries === 0) return;
    this.entries.set(this.nextKey++, { scope, hash, description, storedAt: this.options.now() });
    while (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }
}
