import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger, type Logger } from '../log/logger';
import type { LookupAll } from '../net/policy-proxy';
import { checkExtraArgs, destroyBrowser, launchBrowser, type LaunchOptions } from './website/browser-launch';
import { InterruptedError, interruptAfter, PooledBrowser, raceAbort, recyclesTotal, sessionsGauge, type BrowserSession } from './website/pooled-browser';

export type { BrowserSession } from './website/pooled-browser';

export interface BrowserPoolOptions {
  chromiumPath?: string;
  chromedriverPath?: string;
  /** Browsers running at most at once; default 2. */
  size?: number;
  /** A browser is replaced by a fresh one after this many captures, which bounds leaks in long-lived pages; default 50. */
  recycleAfter?: number;
  /** How long `acquire` waits for a free browser by default; default 30000. */
  acquireTimeoutMs?: number;
  /** How long a browser may take to start; default 30000. */
  startTimeoutMs?: number;
  /** More Chromium flags, e.g. `--lang=de`; proxy and host-resolver flags are refused (see PolicyProxy). */
  extraArgs?: string[];
  /** How the URL-policy proxy resolves host names; default the system resolver. Tests map names onto loopback. */
  lookup?: LookupAll;
  logger?: Logger;
}

export interface UseOptions {
  acquireTimeoutMs?: number;
  /** Abandons the work; its browser is killed, since the page is in an unknown state. */
  signal?: AbortSignal;
  /** Work still running after this long fails and its browser is killed, so a hung page cannot hold it forever. */
  deadlineMs?: number;
  /** Whether an error from the work means the browser is unusable; by default every error does. */
  isBrowserFault?: (err: unknown) => boolean;
}

export interface BrowserPoolStats {
  size: number;
  starting: number;
  idle: number;
  busy: number;
  waiting: number;
  /** Browsers started since the pool was made. */
  started: number;
}

interface Waiter {
  resolve: (browser: PooledBrowser) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A bounded set of chromedriver+Chromium browsers shared by every website camera. Browsers start on demand, are
 * lent to one capture at a time, and are replaced after `recycleAfter` captures or when a capture breaks them.
 */
export class BrowserPool {
  /** Parent folder of every browser's profile; nothing else writes there. */
  readonly workDir: string;
  private readonly size: number;
  private readonly recycleAfter: number;
  private readonly acquireTimeoutMs: number;
  private readonly launch: LaunchOptions;
  private readonly log: Logger;
  private readonly idle: PooledBrowser[] = [];
  private readonly busy = new Set<PooledBrowser>();
  private readonly waiters: Waiter[] = [];
  /** Starts and teardowns under way, which `close` waits for. */
  private readonly pending = new Set<Promise<void>>();
  private starting = 0;
  private started = 0;
  private closed = false;
  private reported = { starting: 0, idle: 0, busy: 0 };

  constructor(options: BrowserPoolOptions = {}) {
    this.size = positiveInteger(options.size ?? 2, 'size');
    this.recycleAfter = positiveInteger(options.recycleAfter ?? 50, 'recycleAfter');
    this.acquireTimeoutMs = positiveInteger(options.acquireTimeoutMs ?? 30000, 'acquireTimeoutMs');
    this.log = options.logger ?? silentLogger;
    const extraArgs = checkExtraArgs(options.extraArgs ?? []);
    this.workDir = mkdtempSync(path.join(tmpdir(), 'glimpser-browsers-'));
    this.launch = {
      chromiumPath: options.chromiumPath ?? '/usr/bin/chromium',
      chromedriverPath: options.chromedriverPath ?? '/usr/bin/chromedriver',
      workDir: this.workDir,
      extraArgs,
      startTimeoutMs: positiveInteger(options.startTimeoutMs ?? 30000, 'startTimeoutMs'),
      proxy: { logger: this.log, lookup: options.lookup },
    };
  }

  /** A free browser, started if there is room; waits in line otherwise. Hand it back with `release`. */
  acquire(timeoutMs = this.acquireTimeoutMs): Promise<BrowserSession> {
    if (this.closed) return Promise.reject(new Error('the browser pool is closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.removeWaiter(waiter);
          reject(new Error(`no browser free within ${timeoutMs} ms: all ${this.size} are busy; make the pool larger or capture less often`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
      this.dispatch();
    });
  }

  /**
   * Hands a browser back; one worn out, or broken (`brokenBy` names why), is replaced by a fresh one. Resolves once a
   * retired browser's processes are gone.
   */
  release(session: BrowserSession, brokenBy?: unknown): Promise<void> {
    const browser = session as PooledBrowser;
    if (!this.busy.delete(browser)) return Promise.resolve();
    browser.captures += 1;
    if (brokenBy !== undefined) browser.markBroken(brokenBy instanceof Error ? brokenBy.message : String(brokenBy));
    let retired = Promise.resolve();
    if (this.closed || browser.brokenReason !== null || browser.captures >= this.recycleAfter) {
      const reason = this.closed ? 'close' : browser.brokenReason !== null ? 'error' : 'captures';
      if (reason !== 'close') recyclesTotal.inc({ reason });
      this.log.info({ session: browser.id, captures: browser.captures, reason, error: browser.brokenReason }, 'retiring a browser');
      retired = this.destroy(browser);
    } else {
      this.idle.push(browser);
    }
    this.dispatch();
    return retired;
  }

  /** Runs `work` with a browser and hands it back afterwards, however the work ends. */
  async use<T>(work: (session: BrowserSession) => Promise<T>, options: UseOptions = {}): Promise<T> {
    const { signal } = options;
    signal?.throwIfAborted();
    const acquired = this.acquire(options.acquireTimeoutMs);
    const session = await (signal ? raceAbort(acquired, signal, (late) => this.giveBackUnused(late as PooledBrowser)) : acquired);
    const interruption = interruptAfter(options.deadlineMs, signal);
    try {
      const result = await Promise.race([work(session), interruption.promise]);
      void this.release(session);
      return result;
    } catch (err) {
      if (!(err instanceof InterruptedError)) {
        const isBrowserFault = options.isBrowserFault ?? (() => true);
        void this.release(session, isBrowserFault(err) ? err : undefined);
        throw err;
      }
      // The page is in an unknown state and the work may still be driving it: the browser goes, and whoever
      // stopped the work hears back once its processes have.
      await this.release(session, err);
      throw err;
    } finally {
      interruption.dispose();
    }
  }

  stats(): BrowserPoolStats {
    return { size: this.size, starting: this.starting, idle: this.idle.length, busy: this.busy.size, waiting: this.waiters.length, started: this.started };
  }

  /** Quits every browser, busy ones included, and resolves once none of their processes is left. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('the browser pool is closed'));
    }
    for (const browser of [...this.idle.splice(0), ...this.busy]) void this.destroy(browser);
    this.busy.clear();
    this.updateGauge();
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    rmSync(this.workDir, { recursive: true, force: true });
  }

  private dispatch(): void {
    while (this.waiters.length > 0 && this.idle.length > 0) {
      // The most recently used browser first, so a light load keeps reusing one warm browser.
      const browser = this.idle.pop() as PooledBrowser;
      if (browser.exited) {
        // Killed or crashed while idle: lending it out would only fail the capture.
        recyclesTotal.inc({ reason: 'exited' });
        void this.destroy(browser);
        continue;
      }
      const waiter = this.waiters.shift() as Waiter;
      clearTimeout(waiter.timer);
      this.busy.add(browser);
      waiter.resolve(browser);
    }
    while (this.waiters.length > this.starting && this.total() < this.size) this.start();
    this.updateGauge();
  }

  private start(): void {
    this.starting += 1;
    this.started += 1;
    const task = launchBrowser(this.launch).then(
      (launched) => {
        this.starting -= 1;
        const browser = new PooledBrowser(launched);
        this.log.info({ session: browser.id, pid: browser.pid }, 'browser started');
        if (this.closed) void this.destroy(browser);
        else this.idle.push(browser);
        this.dispatch();
      },
      (err: Error) => {
        this.starting -= 1;
        this.log.warn({ error: err.message }, 'browser failed to start');
        // The oldest waiter hears why at once rather than waiting out its timeout.
        const waiter = this.waiters.shift();
        if (waiter) {
          clearTimeout(waiter.timer);
          waiter.reject(err);
        }
        this.dispatch();
      },
    );
    this.track(task);
  }

  /** A browser acquired for work that was abandoned before it began goes straight back, unused. */
  private giveBackUnused(browser: PooledBrowser): void {
    if (!this.busy.delete(browser)) return;
    if (this.closed) void this.destroy(browser);
    else this.idle.push(browser);
    this.dispatch();
  }

  private destroy(browser: PooledBrowser): Promise<void> {
    return this.track(
      destroyBrowser(browser.browser).catch((err: Error) => {
        this.log.warn({ session: browser.id, error: err.message }, 'browser did not shut down cleanly');
      }),
    );
  }

  private track(task: Promise<void>): Promise<void> {
    this.pending.add(task);
    return task.finally(() => this.pending.delete(task));
  }

  private total(): number {
    return this.starting + this.idle.length + this.busy.size;
  }

  private removeWaiter(waiter: Waiter): void {
    const at = this.waiters.indexOf(waiter);
    if (at !== -1) this.waiters.splice(at, 1);
  }

  /** Moves the shared gauge by this pool's change, so several pools in one process add up. */
  private updateGauge(): void {
    const now = { starting: this.starting, idle: this.idle.length, busy: this.busy.size };
    for (const state of ['starting', 'idle', 'busy'] as const) {
      const change = now[state] - this.reported[state];
      if (change !== 0) sessionsGauge.inc({ state }, change);
    }
    this.reported = now;
  }
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`browser pool ${field} ${String(value)} is invalid: expected a positive integer`);
  return value;
}
