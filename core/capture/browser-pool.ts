import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Counter, Gauge, register } from 'prom-client';
import type { Driver } from 'selenium-webdriver/chrome';
import { silentLogger, type Logger } from '../log/logger';
import { destroyBrowser, launchBrowser, type LaunchedBrowser, type LaunchOptions } from './website/browser-launch';

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
  /** More Chromium flags, e.g. a proxy for sites only reachable through one. */
  extraArgs?: string[];
  logger?: Logger;
}

/** A browser lent out by the pool. */
export interface BrowserSession {
  /** The WebDriver session id: a recycled browser has a new one. */
  readonly id: string;
  readonly driver: Driver;
  /** chromedriver's process id. */
  readonly pid: number;
  readonly debuggerAddress: string;
  readonly userAgent: string;
  readonly homeTab: string;
  /** Captures done with this browser so far. */
  readonly captures: number;
  /** A Chrome DevTools Protocol command on the current tab, with its result. */
  cdp<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Have the pool replace this browser when it is handed back, e.g. after a tab could not be closed. */
  markBroken(reason: string): void;
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

// Proposed for core/metrics.ts; declared here, guarded the same way, until they move there.
const sessionsGauge = (register.getSingleMetric('glimpser_browser_sessions') as Gauge<string> | undefined)
  ?? new Gauge({ name: 'glimpser_browser_sessions', help: 'Headless browsers in the website capture pool, by state.', labelNames: ['state'] });
const recyclesTotal = (register.getSingleMetric('glimpser_browser_recycles_total') as Counter<string> | undefined)
  ?? new Counter({ name: 'glimpser_browser_recycles_total', help: 'Headless browsers replaced by a fresh one, by reason.', labelNames: ['reason'] });

class PooledBrowser implements BrowserSession {
  captures = 0;
  brokenReason: string | null = null;

  constructor(readonly browser: LaunchedBrowser) {}

  get id(): string { return this.browser.id; }
  get driver(): Driver { return this.browser.driver; }
  get pid(): number { return this.browser.pid; }
  get debuggerAddress(): string { return this.browser.debuggerAddress; }
  get userAgent(): string { return this.browser.userAgent; }
  get homeTab(): string { return this.browser.homeTab; }

  async cdp<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return (await this.browser.driver.sendAndGetDevToolsCommand(method, params)) as unknown as T;
  }

  markBroken(reason: string): void {
    this.brokenReason ??= reason;
  }
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
    this.workDir = mkdtempSync(path.join(tmpdir(), 'glimpser-browsers-'));
    this.launch = {
      chromiumPath: options.chromiumPath ?? '/usr/bin/chromium',
      chromedriverPath: options.chromedriverPath ?? '/usr/bin/chromedriver',
      workDir: this.workDir,
      extraArgs: options.extraArgs ?? [],
      startTimeoutMs: positiveInteger(options.startTimeoutMs ?? 30000, 'startTimeoutMs'),
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
   * Hands a browser back; a broken or worn-out one is replaced. Resolves once a retired browser's processes are gone.
   */
  release(session: BrowserSession, error?: unknown, isBrowserFault: (err: unknown) => boolean = () => true): Promise<void> {
    const browser = session as PooledBrowser;
    if (!this.busy.delete(browser)) return Promise.resolve();
    browser.captures += 1;
    if (error !== undefined && isBrowserFault(error)) browser.markBroken(error instanceof Error ? error.message : String(error));
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
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const interrupted = new Promise<never>((_, reject) => {
      if (options.deadlineMs !== undefined) {
        const { deadlineMs } = options;
        timer = setTimeout(() => reject(new InterruptedError(`capture did not finish within ${deadlineMs} ms`)), deadlineMs);
      }
      if (signal) {
        onAbort = () => reject(new InterruptedError(abortError(signal).message));
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    try {
      const result = await Promise.race([work(session), interrupted]);
      void this.release(session);
      return result;
    } catch (err) {
      if (!(err instanceof InterruptedError)) {
        void this.release(session, err, options.isBrowserFault);
        throw err;
      }
      // The page is in an unknown state and the work may still be driving it: the browser goes, and whoever
      // stopped the work hears back once its processes have.
      await this.release(session, err, () => true);
      throw err;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      interrupted.catch(() => undefined);
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
      const waiter = this.waiters.shift() as Waiter;
      // The most recently used browser first: the others stay idle and are the ones a smaller load lets go cold.
      const browser = this.idle.pop() as PooledBrowser;
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
    return this.track(destroyBrowser(browser.browser).catch((err: Error) => {
      this.log.warn({ session: browser.id, error: err.message }, 'browser did not shut down cleanly');
    }));
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

/** Waits for `task` unless the signal fires first; a result that arrives after the abort goes to `late`. */
function raceAbort<T>(task: Promise<T>, signal: AbortSignal, late: (value: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    task.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) late(value);
        else resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** The work was cut short from outside (deadline or abort), not failed by the page. */
class InterruptedError extends Error {}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('capture stopped');
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`browser pool ${field} ${String(value)} is invalid: expected a positive integer`);
  return value;
}
