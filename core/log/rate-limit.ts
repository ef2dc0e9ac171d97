import { performance } from 'node:perf_hooks';

export interface WindowRateLimiterOptions {
  /** Events let through per window. */
  limit: number;
  windowMs: number;
  /** Told how many events were held back, when their window closes or on flush(); never called with 0. */
  onSuppressed: (count: number) => void;
  /** Monotonic milliseconds; injectable so tests need not wait out a window. */
  now?: () => number;
}

/**
 * Lets the first `limit` events of each window through and counts the rest, so a source that repeats itself
 * thousands of times a second (a broken camera's decoder) costs a few log lines and one summary per window.
 * A window opens with the first event after the previous one closed, so a quiet source is never summarised.
 */
export class WindowRateLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly onSuppressed: (count: number) => void;
  private readonly now: () => number;
  private windowStartedAt = Number.NEGATIVE_INFINITY;
  private passed = 0;
  private suppressed = 0;

  constructor(options: WindowRateLimiterOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new Error(`limit ${options.limit} is invalid: expected a whole number of events of at least 1`);
    }
    if (!Number.isFinite(options.windowMs) || options.windowMs <= 0) {
      throw new Error(`windowMs ${options.windowMs} is invalid: expected milliseconds above 0`);
    }
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.onSuppressed = options.onSuppressed;
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether this event may be logged; an event that may not is counted for the window's summary. */
  allow(): boolean {
    const now = this.now();
    if (now - this.windowStartedAt >= this.windowMs) {
      this.flush();
      this.windowStartedAt = now;
      this.passed = 0;
    }
    if (this.passed < this.limit) {
      this.passed += 1;
      return true;
    }
    this.suppressed += 1;
    return false;
  }

  /** Reports what the current window held back so far, as when its source stops. */
  flush(): void {
    const count = this.suppressed;
    if (count === 0) return;
    this.suppressed = 0;
    this.onSuppressed(count);
  }
}
