/** Limits on what one AI provider may spend; 0 means unlimited. */
export interface BudgetLimits {
  requestsPerHour: number;
  requestsPerDay: number;
  tokensPerHour: number;
  tokensPerDay: number;
}

export const UNLIMITED: BudgetLimits = { requestsPerHour: 0, requestsPerDay: 0, tokensPerHour: 0, tokensPerDay: 0 };

const HOUR = 3600_000;
const DAY = 24 * HOUR;

interface Spend {
  at: number;
  tokens: number;
}

export type BudgetCheck = { ok: true } | { ok: false; resetsAt: number; reason: string };

/**
 * Rolling windows: "per hour" is the last 60 minutes, "per day" the last 24 hours, counted from each request's
 * send time. Rolling rather than fixed (calendar) windows, because a fixed window lets twice the limit through
 * around its boundary and needs a time zone to say when a day starts. When a limit is reached, `resetsAt` is
 * the moment enough old requests leave the window to allow the next one.
 */
export class Budget {
  private readonly spends: Spend[] = [];

  constructor(
    private readonly limits: BudgetLimits,
    private readonly now: () => number = Date.now,
  ) {
    for (const [key, value] of Object.entries(limits)) {
      if (!Number.isInteger(value) || value < 0) throw new Error(`budget ${key} ${String(value)} is invalid: expected a whole number, 0 for unlimited`);
    }
  }

  /** Whether one more request fits. */
  check(): BudgetCheck {
    const now = this.now();
    this.forget(now);
    const limits: Array<[number, number, 'requests' | 'tokens', string]> = [
      [this.limits.requestsPerHour, HOUR, 'requests', 'requests per hour'],
      [this.limits.requestsPerDay, DAY, 'requests', 'requests per day'],
      [this.limits.tokensPerHour, HOUR, 'tokens', 'tokens per hour'],
      [this.limits.tokensPerDay, DAY, 'tokens', 'tokens per day'],
    ];
    let worst: { resetsAt: number; reason: string } | null = null;
    for (const [limit, window, kind, label] of limits) {
      if (limit === 0) continue;
      const resetsAt = this.resetsAt(now, window, kind, limit);
      if (resetsAt !== null && (worst === null || resetsAt > worst.resetsAt)) worst = { resetsAt, reason: `${limit} ${label} spent` };
    }
    return worst ? { ok: false, ...worst } : { ok: true };
  }

  /** Records a request as it is sent; `settle` adds the tokens its reply reports. */
  spend(): { settle(tokens: number): void } {
    const entry: Spend = { at: this.now(), tokens: 0 };
    this.spends.push(entry);
    return {
      settle(tokens: number) {
        entry.tokens = Math.max(0, tokens);
      },
    };
  }

  used(windowMs: number): { requests: number; tokens: number } {
    const since = this.now() - windowMs;
    const inWindow = this.spends.filter((s) => s.at > since);
    return { requests: inWindow.length, tokens: inWindow.reduce((sum, s) => sum + s.tokens, 0) };
  }

  /** Null while under the limit; otherwise when the oldest spends have left the window enough to allow one more. */
  private resetsAt(now: number, window: number, kind: 'requests' | 'tokens', limit: number): number | null {
    const inWindow = this.spends.filter((s) => s.at > now - window);
    let used = kind === 'requests' ? inWindow.length : inWindow.reduce((sum, s) => sum + s.tokens, 0);
    if (used < limit) return null;
    for (const spend of inWindow) {
      used -= kind === 'requests' ? 1 : spend.tokens;
      if (used < limit) return spend.at + window;
    }
    return now + window;
  }

  private forget(now: number): void {
    while (this.spends.length > 0 && this.spends[0].at <= now - DAY) this.spends.shift();
  }
}
