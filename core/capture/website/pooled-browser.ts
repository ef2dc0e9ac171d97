import { metrics } from '../../metrics';
import type { Driver } from 'selenium-webdriver/chrome';
import type { ProxyRules } from '../../net/policy-proxy';
import type { LaunchedBrowser } from './browser-launch';

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
  /** chromedriver has gone, on its own or killed from outside; the pool replaces such a browser. */
  readonly exited: boolean;
  /** A Chrome DevTools Protocol command on the current tab, with its result. */
  cdp<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Have the pool replace this browser when it is handed back, e.g. after a tab could not be closed. */
  markBroken(reason: string): void;
  /** What the browser's requests may reach from now on (see PolicyProxy); null refuses every request. */
  allowRequests(rules: ProxyRules | null): void;
}

// Proposed for core/metrics.ts; declared here, guarded the same way, until they move there.
export const sessionsGauge = metrics.browserSessions;
export const recyclesTotal = metrics.browserRecyclesTotal;

/** The pool's own record of a browser: the session it lends out, plus what decides when the browser is retired. */
export class PooledBrowser implements BrowserSession {
  captures = 0;
  brokenReason: string | null = null;
  exited = false;

  constructor(readonly browser: LaunchedBrowser) {
    void browser.exited.then(() => {
      this.exited = true;
    });
  }

  get id(): string {
    return this.browser.id;
  }
  get driver(): Driver {
    return this.browser.driver;
  }
  get pid(): number {
    return this.browser.pid;
  }
  get debuggerAddress(): string {
    return this.browser.debuggerAddress;
  }
  get userAgent(): string {
    return this.browser.userAgent;
  }
  get homeTab(): string {
    return this.browser.homeTab;
  }

  async cdp<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return (await this.browser.driver.sendAndGetDevToolsCommand(method, params)) as unknown as T;
  }

  markBroken(reason: string): void {
    this.brokenReason ??= reason;
  }

  allowRequests(rules: ProxyRules | null): void {
    this.browser.proxy.setRules(rules);
  }
}

/** The work was cut short from outside (deadline or abort), not failed by the page. */
export class InterruptedError extends Error {}

/**
 * A promise that rejects with InterruptedError when the deadline passes or the signal fires, whichever is first;
 * `dispose` stops both watches once the work is over.
 */
export function interruptAfter(deadlineMs: number | undefined, signal: AbortSignal | undefined): { promise: Promise<never>; dispose: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const promise = new Promise<never>((_, reject) => {
    if (deadlineMs !== undefined) timer = setTimeout(() => reject(new InterruptedError(`capture did not finish within ${deadlineMs} ms`)), deadlineMs);
    if (signal) {
      onAbort = () => reject(new InterruptedError(abortError(signal).message));
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  promise.catch(() => undefined);
  return {
    promise,
    dispose: () => {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Waits for `task` unless the signal fires first; a result that arrives after the abort goes to `late`. */
export function raceAbort<T>(task: Promise<T>, signal: AbortSignal, late: (value: T) => void): Promise<T> {
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

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('capture stopped');
}
