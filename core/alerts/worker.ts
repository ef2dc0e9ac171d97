import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  isTaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import type { IPolicy } from 'cockatiel';
import type { Logger } from '../log/logger';
import { metrics } from '../metrics';
import { DEFAULT_RETRY_POLICY, retryDelayMs, type RetryPolicy } from './backoff';
import { DeliveryError, type AttemptOutcome, type Channel, type Delivery, type DeliveryResult, type StoredAlert } from './index';
import type { AttemptRecord, Outbox, RecordItem } from './outbox';
import { TurnBatch } from '../store/turn-batch';

export interface BreakerOptions {
  /** Failures in a row (timeouts and retryable errors) that open a host's circuit. */
  consecutiveFailures: number;
  /** How long an open circuit waits before letting one trial delivery through (half-open). */
  halfOpenAfterMs: number;
}

export interface WorkerOptions {
  outbox: Outbox;
  /** The channels registered now, by notifier id; the worker only leases deliveries of these. */
  channels: ReadonlyMap<string, Channel>;
  loadSnapshot(alert: StoredAlert): Promise<Buffer | null>;
  logger: Logger;
  now: () => number;
  concurrency?: number;
  /** How long a leased delivery is held; past it (after a crash) it is due again. Longer than an attempt's timeout. */
  leaseMs?: number;
  attemptTimeoutMs?: number;
  /** The longest the worker sleeps between looks at the outbox. */
  pollMs?: number;
  retry?: Partial<RetryPolicy>;
  breaker?: Partial<BreakerOptions>;
  /** Told every recorded attempt, after the channel's own onResult. */
  onResult?(result: DeliveryResult): void;
}

const BREAKER_GAUGE: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
  [CircuitState.Isolated]: 2,
};
const BREAKER_NAME: Record<CircuitState, string> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Open]: 'open',
  [CircuitState.Isolated]: 'open',
};

/**
 * Delivers what the outbox holds: leases due deliveries (on a timer, and soon after an enqueue or a channel
 * registering), sends each through its notifier's channel behind a circuit breaker per target host and an attempt
 * timeout, and records every attempt. A delivery whose notifier is not registered is never leased, so it waits —
 * right after a restart the outbox holds deliveries of notifiers whose flows have not started yet.
 */
export class DeliveryWorker {
  private readonly o: Required<Omit<WorkerOptions, 'retry' | 'breaker' | 'onResult'>> & Pick<WorkerOptions, 'onResult'>;
  private readonly retry: RetryPolicy;
  private readonly breakerOptions: BreakerOptions;
  private readonly breakers = new Map<string, IPolicy>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly closing = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private kickPending = false;
  private depthPending = false;
  private paused = false;
  /** The attempts that end in one turn of the event loop are recorded in one transaction. */
  private readonly records: TurnBatch<RecordItem, Delivery>;

  constructor(options: WorkerOptions) {
    this.o = { concurrency: 8, leaseMs: 120_000, attemptTimeoutMs: 30_000, pollMs: 5_000, onResult: undefined, ...options };
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.breakerOptions = { consecutiveFailures: 5, halfOpenAfterMs: 30_000, ...options.breaker };
    this.records = new TurnBatch((items) => this.o.outbox.recordMany(items));
    if (this.o.leaseMs <= this.o.attemptTimeoutMs)
      throw new Error(`alert worker leaseMs ${this.o.leaseMs}: expected more than attemptTimeoutMs (${this.o.attemptTimeoutMs})`);
  }

  /**
   * Holds every delivery (nothing is leased; attempts under way finish) or lets them go again: the operator's pause of
   * the `alerts.sweep` job. Enqueued alerts wait in the outbox meanwhile, so nothing is lost.
   */
  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    this.o.logger.info({ paused }, paused ? 'alert deliveries paused' : 'alert deliveries resumed');
    if (!paused) this.kick();
    else if (this.timer) clearTimeout(this.timer);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Looks for due deliveries soon (once per turn of the event loop, however often it is called). */
  kick(): void {
    if (this.kickPending || this.paused || this.closing.signal.aborted) return;
    this.kickPending = true;
    setImmediate(() => {
      this.kickPending = false;
      this.poll();
    });
  }

  /** Stops leasing, cancels attempts in flight (their deliveries stay due) and waits for them. */
  async close(): Promise<void> {
    this.closing.abort();
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private poll(): void {
    if (this.closing.signal.aborted || this.paused) return;
    try {
      this.leaseAndSchedule();
    } catch (err) {
      // Runs from a timer: a database error must not take the process down. The deliveries stay in the outbox.
      this.o.logger.error({ err: (err as Error).message }, 'alert outbox could not be read; trying again later');
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.poll(), this.o.pollMs).unref();
    }
  }

  private leaseAndSchedule(): void {
    const notifiers = [...this.o.channels.keys()];
    const free = this.o.concurrency - this.inFlight.size;
    const leased = this.o.outbox.lease(notifiers, this.o.now(), this.o.leaseMs, free);
    for (const delivery of leased) {
      const attempt = this.attempt(delivery)
        .catch((err: Error) => this.o.logger.error({ delivery: delivery.id, err: err.message }, 'alert delivery could not be recorded; its lease will expire'))
        .finally(() => {
          this.inFlight.delete(attempt);
          this.kick();
        });
      this.inFlight.add(attempt);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // With every slot busy the next finished attempt polls again.
    if (this.inFlight.size >= this.o.concurrency) return;
    const next = this.o.outbox.nextDueAt(notifiers);
    const wait = next === null ? this.o.pollMs : Math.min(this.o.pollMs, Math.max(0, next - this.o.now()));
    this.timer = setTimeout(() => this.poll(), wait).unref();
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const channel = this.o.channels.get(delivery.notifier);
    const alert = this.o.outbox.getAlert(delivery.alertId);
    if (!channel || !alert) {
      // Unregistered between the lease and now: hand it back to wait for its notifier.
      this.o.outbox.postpone(delivery.id, this.o.now());
      return;
    }
    const host = this.hostOf(channel, delivery);
    const log = this.o.logger.child({ alert: alert.id, delivery: delivery.id, notifier: delivery.notifier, channel: channel.kind, host });
    const at = this.o.now();
    const started = performance.now();
    let outcome: AttemptRecord;
    try {
      const snapshot = await this.o.loadSnapshot(alert);
      const sent = await this.policyFor(host).execute(({ signal }) => channel.send({ alert, delivery, snapshot, signal }), this.closing.signal);
      outcome = { at, durationMs: performance.now() - started, outcome: 'delivered', statusCode: sent.statusCode ?? null, error: null };
    } catch (err) {
      if (err instanceof BrokenCircuitError) {
        // Not an attempt: nothing was sent. It waits out the open circuit without using up its attempts.
        this.o.outbox.postpone(delivery.id, this.o.now() + this.breakerOptions.halfOpenAfterMs);
        log.debug({ err: err.message }, 'alert delivery postponed: circuit open');
        return;
      }
      if (this.closing.signal.aborted) {
        this.o.outbox.postpone(delivery.id, this.o.now());
        return;
      }
      outcome = this.failure(delivery, err, at, performance.now() - started);
    }
    await this.finish(delivery, alert, channel, outcome, log);
  }

  private failure(delivery: Delivery, err: unknown, at: number, durationMs: number): AttemptRecord {
    const error =
      err instanceof DeliveryError
        ? err.message
        : isTaskCancelledError(err)
          ? `timed out after ${this.o.attemptTimeoutMs} ms`
          : err instanceof Error
            ? err.message
            : String(err);
    const statusCode = err instanceof DeliveryError ? err.statusCode : null;
    const attempts = delivery.attempts + 1;
    if (err instanceof DeliveryError && err.permanent) return { at, durationMs, outcome: 'dead', statusCode, error };
    if (attempts >= this.retry.maxAttempts) return { at, durationMs, outcome: 'dead', statusCode, error: `gave up after ${attempts} attempts: ${error}` };
    const retryAfter = err instanceof DeliveryError ? err.retryAfterMs : null;
    const delay = retryAfter === null ? retryDelayMs(this.retry, attempts) : Math.min(retryAfter, this.retry.maxRetryAfterMs);
    return { at, durationMs, outcome: 'retry', statusCode, error, nextAttemptAt: at + durationMs + delay };
  }

  private async finish(delivery: Delivery, alert: StoredAlert, channel: Channel, attempt: AttemptRecord, log: Logger): Promise<void> {
    const stored = await this.records.add({ deliveryId: delivery.id, attempt });
    metrics.alertDeliveriesTotal.inc({ channel: channel.kind, outcome: attempt.outcome });
    if (attempt.outcome === 'delivered') metrics.alertDeliverySeconds.observe({ channel: channel.kind }, Math.max(0, stored.deliveredAt! - alert.sent) / 1000);
    this.updateDepth();
    const fields = { attempt: stored.attempts, outcome: attempt.outcome, statusCode: attempt.statusCode, durationMs: Math.round(attempt.durationMs) };
    if (attempt.outcome === 'dead') log.warn({ ...fields, err: attempt.error }, 'alert delivery dead-lettered');
    else if (attempt.outcome === 'retry') log.info({ ...fields, err: attempt.error, nextAttemptAt: stored.nextAttemptAt }, 'alert delivery failed; will retry');
    else log.debug(fields, 'alert delivered');
    this.report(
      channel,
      { delivery: stored, outcome: attempt.outcome as AttemptOutcome, statusCode: attempt.statusCode, error: attempt.error, at: attempt.at },
      log,
    );
  }

  /** Sets the outbox depth gauge soon (once per turn of the event loop); the service calls it after an enqueue too. */
  updateDepth(): void {
    if (this.depthPending) return;
    this.depthPending = true;
    setImmediate(() => {
      this.depthPending = false;
      if (!this.closing.signal.aborted) this.setDepth();
    });
  }

  private setDepth(): void {
    const depth = this.o.outbox.depth();
    metrics.alertOutboxDeliveries.set({ status: 'pending' }, depth.pending);
    metrics.alertOutboxDeliveries.set({ status: 'dead' }, depth.dead);
  }

  private report(channel: Channel, result: DeliveryResult, log: Logger): void {
    // A notifier's status display failing must not stop deliveries.
    for (const listener of [channel.onResult?.bind(channel), this.o.onResult]) {
      try {
        listener?.(result);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'alert delivery result listener failed');
      }
    }
  }

  private hostOf(channel: Channel, delivery: Delivery): string {
    try {
      return channel.hostOf(delivery);
    } catch {
      return `${channel.kind}:${delivery.notifier}`;
    }
  }

  /** One breaker per target host, wrapped around the attempt timeout so that timeouts count as failures. */
  private policyFor(host: string): IPolicy {
    let policy = this.breakers.get(host);
    if (!policy) {
      const retryable = handleWhen((err) => !(err instanceof DeliveryError && err.permanent) && !(err instanceof BrokenCircuitError));
      const breaker = circuitBreaker(retryable, {
        halfOpenAfter: this.breakerOptions.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(this.breakerOptions.consecutiveFailures),
      });
      metrics.alertBreakerState.set({ host }, 0);
      breaker.onStateChange((state) => {
        metrics.alertBreakerState.set({ host }, BREAKER_GAUGE[state]);
        metrics.alertBreakerTransitionsTotal.inc({ host, state: BREAKER_NAME[state] });
        this.o.logger.info({ host, state: BREAKER_NAME[state] }, 'alert delivery circuit changed');
      });
      policy = wrap(breaker, timeout(this.o.attemptTimeoutMs, TimeoutStrategy.Aggressive));
      this.breakers.set(host, policy);
    }
    return policy;
  }
}
