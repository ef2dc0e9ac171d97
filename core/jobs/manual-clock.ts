import type { JobClock } from './index';

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told, for tests of anything scheduled (the scheduler, nodes built on it): timers fire
 * in due order as time is moved past them, and each timer's consequences (promises, SQLite writes) settle before
 * the next fires, so a test sees the same order of events as real time would give, without waiting for it.
 */
export class ManualClock implements JobClock {
  private readonly timers = new Map<number, PendingTimer>();
  private seq = 0;

  constructor(private time: number) {}

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const seq = ++this.seq;
    this.timers.set(seq, { at: this.time + Math.max(0, ms), seq, fn });
    return seq;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.timers.delete(handle);
  }

  /** Resolves once the clock has been moved `ms` on; rejects with the signal's reason if it is aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const handle = this.setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        this.clearTimeout(handle);
        reject(signal.reason);
      });
    });
  }

  /** Moves time to `target`, firing every timer due on the way (timers set by those timers included). */
  async advanceTo(target: number): Promise<void> {
    for (;;) {
      const next = [...this.timers.values()].filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers.delete(next.seq);
      this.time = Math.max(this.time, next.at);
      next.fn();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.time = Math.max(this.time, target);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  advance(ms: number): Promise<void> {
    return this.advanceTo(this.time + ms);
  }
}
