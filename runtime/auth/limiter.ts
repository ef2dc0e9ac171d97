import { metrics } from '../../core/metrics';
import type { SignInGate, SignInTicket } from './sign-in-gate';

/** At most `count` failed (or still running) attempts within `windowMs`. */
export interface LimitRule {
  count: number;
  windowMs: number;
}

type Channel = 'http' | 'editor' | 'mqtt';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Frigate's login limit (1/s, 5/min, 20/h), here for one username from one address. */
export const PER_USER_LIMITS: readonly LimitRule[] = [
  { count: 1, windowMs: SECOND },
  { count: 5, windowMs: MINUTE },
  { count: 20, windowMs: HOUR },
];
/** Looser, for one address trying many usernames (password spraying); people behind one NAT share it. */
export const PER_ADDRESS_LIMITS: readonly LimitRule[] = [
  { count: 5, windowMs: SECOND },
  { count: 30, windowMs: MINUTE },
  { count: 100, windowMs: HOUR },
];
/**
 * Bad bearer tokens and API keys, per address. A web app with a stale token retries a few times, so this is generous;
 * it only limits token guessing and never refuses a password sign-in (finding 4).
 */
export const PER_ADDRESS_TOKEN_LIMITS: readonly LimitRule[] = [
  { count: 30, windowMs: MINUTE },
  { count: 300, windowMs: HOUR },
];

export interface SignInLimiterOptions {
  perUser?: readonly LimitRule[];
  perAddress?: readonly LimitRule[];
  perAddressTokens?: readonly LimitRule[];
  /** Keys tracked at once; past this the least recently touched is forgotten, so a flood of addresses cannot grow memory. */
  maxEntries?: number;
  now?: () => number;
}

interface Bucket {
  /** When each failed or still running attempt began, oldest first. */
  times: number[];
  rules: readonly LimitRule[];
  scope: 'user' | 'address' | 'token';
}

/**
 * The sign-in limiter behind the SignInGate: an attempt is counted when it begins, before the password hash, so many
 * concurrent guesses are refused instead of all being checked (finding 2). Failures count per (username, address)
 * and per address; a success clears that pair and takes back its own reservation from the address. Attempts without
 * a username (bearer tokens, API keys) count in a bucket of their own per address.
 */
export class SignInLimiter implements SignInGate {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perUser: readonly LimitRule[];
  private readonly perAddress: readonly LimitRule[];
  private readonly perAddressTokens: readonly LimitRule[];
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: SignInLimiterOptions = {}) {
    this.perUser = options.perUser ?? PER_USER_LIMITS;
    this.perAddress = options.perAddress ?? PER_ADDRESS_LIMITS;
    this.perAddressTokens = options.perAddressTokens ?? PER_ADDRESS_TOKEN_LIMITS;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  begin(username: string, address: string, channel: Channel): SignInTicket {
    const now = this.now();
    const keys =
      username === ''
        ? [this.key('token', address, '', this.perAddressTokens)]
        : // An address of '' means the caller cannot tell (none are passed that way today); the pair still limits.
          [this.key('user', address, username, this.perUser), ...(address === '' ? [] : [this.key('address', address, '', this.perAddress)])];
    for (const [, bucket] of keys) {
      const refusal = this.refusal(bucket, now);
      if (refusal) {
        metrics.signInRefusalsTotal.inc({ channel, scope: bucket.scope });
        return { ok: false, ...refusal };
      }
    }
    for (const [, bucket] of keys) bucket.times.push(now);
    let settled = false;
    return {
      ok: true,
      finish: (success: boolean) => {
        if (settled) return;
        settled = true;
        if (!success) return;
        for (const [key, bucket] of keys) {
          if (bucket.scope === 'user') this.buckets.delete(key);
          else removeOne(bucket.times, now);
        }
      },
    };
  }

  /** Entries tracked now (for tests and the memory bound). */
  get size(): number {
    return this.buckets.size;
  }

  private key(scope: Bucket['scope'], address: string, username: string, rules: readonly LimitRule[]): [string, Bucket] {
    // Cut so a 16 KB username in a Basic header cannot make each entry large; real usernames are at most 64 characters.
    const key = `${scope}\u0000${address.slice(0, 64)}\u0000${username.slice(0, 128)}`;
    let bucket = this.buckets.get(key);
    if (bucket) this.buckets.delete(key);
    else bucket = { times: [], rules, scope };
    // Re-inserting keeps the Map in least-recently-touched order, so the first key is the one to evict.
    this.buckets.set(key, bucket);
    while (this.buckets.size > this.maxEntries) this.buckets.delete(this.buckets.keys().next().value!);
    return [key, bucket];
  }

  private refusal(bucket: Bucket, now: number): { retryAfterMs: number; reason: string } | null {
    const longest = Math.max(...bucket.rules.map((r) => r.windowMs));
    while (bucket.times.length > 0 && bucket.times[0] <= now - longest) bucket.times.shift();
    for (const rule of bucket.rules) {
      const inWindow = bucket.times.filter((t) => t > now - rule.windowMs);
      if (inWindow.length < rule.count) continue;
      // Allowed again once enough of the attempts in this window have aged out of it.
      const retryAfterMs = Math.max(1, inWindow[inWindow.length - rule.count] + rule.windowMs - now);
      return { retryAfterMs, reason: `${rule.count} failed sign-ins per ${per(rule.windowMs)} ${WHO[bucket.scope]}` };
    }
    return null;
  }
}

const WHO: Record<Bucket['scope'], string> = {
  user: 'for this username from this address',
  address: 'from this address',
  token: 'with bearer tokens or API keys from this address',
};

function per(ms: number): string {
  if (ms === SECOND) return 'second';
  if (ms === MINUTE) return 'minute';
  if (ms === HOUR) return 'hour';
  return `${Math.round(ms / SECOND)} s`;
}

function removeOne(times: number[], value: number): void {
  const index = times.indexOf(value);
  if (index >= 0) times.splice(index, 1);
}
