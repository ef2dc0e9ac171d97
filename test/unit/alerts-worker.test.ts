import type { Counter, Gauge } from 'prom-client';
import type { Bus } from '../../core/bus/bus';
import type { Channel, DeliveryResult } from '../../core/alerts/index';
import { metrics } from '../../core/metrics';
import { topics } from '../../core/topics';
import { openTestAlertService, sampleAlert, type TestAlertService } from '../support/alerts';
import { postChannel, startAlertReceiver, type AlertReceiver } from '../support/alert-receiver';

/** A metric's value for these labels (0 when never set). */
async function counterValue(metric: Counter<string> | Gauge<string>, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value ?? 0;
}

describe('alert delivery worker', () => {
  let alerts: TestAlertService;
  let receiver: AlertReceiver;
  let channel: Channel;
  const seen: DeliveryResult[] = [];

  beforeEach(async () => {
    receiver = await startAlertReceiver();
    seen.length = 0;
    channel = { ...postChannel(), onResult: (result) => seen.push(result) };
  });
  afterEach(async () => {
    await alerts.close();
    await receiver.close();
  });

  const target = (notifier = 'hook') => ({ channel: 'webhook' as const, notifier, target: receiver.url });

  it('delivers an enqueued alert with its idempotency key and reports the result to the channel', async () => {
    alerts = openTestAlertService();
    alerts.service.registerChannel('hook', channel);
    const before = await counterValue(metrics.alertDeliveriesTotal, { channel: 'webhook', outcome: 'delivered' });
    const alert = sampleAlert();
    const [delivery] = await alerts.service.enqueue(alert, [target()]);
    const done = alerts.results(1);
    const [got] = await receiver.waitFor(1);
    expect(got).toEqual({ key: delivery.idempotencyKey, body: { alert: alert.id, headline: alert.headline } });
    const [result] = await done;
    expect(result).toMatchObject({ outcome: 'delivered', statusCode: 200, error: null, delivery: { id: delivery.id, status: 'delivered', attempts: 1 } });
    expect(seen).toEqual([result]);
    expect(await counterValue(metrics.alertDeliveriesTotal, { channel: 'webhook', outcome: 'delivered' })).toBe(before + 1);
    const detail = alerts.service.detail(alert.id)!;
    expect(detail.attempts).toEqual([expect.objectContaining({ deliveryId: delivery.id, outcome: 'delivered', statusCode: 200 })]);
  });

  it('retries until the receiver comes back', async () => {
    alerts = openTestAlertService({ worker: { retry: { maxAttempts: 50 }, breaker: { consecutiveFailures: 100 } } });
    receiver.reply = () => ({ status: 503 });
    alerts.service.registerChannel('hook', channel);
    const failures = alerts.results(3);
    alerts.service.enqueue(sampleAlert(), [target()]);
    expect((await failures).map((r) => [r.outcome, r.statusCode, r.error])).toEqual(Array(3).fill(['retry', 503, 'HTTP 503']));
    receiver.reply = () => ({ status: 200 });
    const [delivered] = await alerts.results(1);
    expect(delivered.outcome).toBe('delivered');
    expect(delivered.delivery.attempts).toBeGreaterThanOrEqual(4);
    expect(receiver.received).toHaveLength(1);
  });

  it('opens the circuit for a failing host, half-opens it later and closes it on success (visible in metrics)', async () => {
    alerts = openTestAlertService({ worker: { retry: { maxAttempts: 50 }, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 200 } } });
    const host = `127.0.0.1:${receiver.port}`;
    receiver.reply = () => ({ status: 503 });
    alerts.service.registerChannel('hook', channel);
    const failures = alerts.results(3);
    alerts.service.enqueue(sampleAlert(), [target()]);
    await failures;
    expect(await counterValue(metrics.alertBreakerState, { host })).toBe(2);
    expect(await counterValue(metrics.alertBreakerTransitionsTotal, { host, state: 'open' })).toBe(1);
    receiver.reply = () => ({ status: 200 });
    const [delivered] = await alerts.results(1, (r) => r.outcome === 'delivered');
    // Postponed by the open circuit without using attempts: three failures, then the half-open trial.
    expect(delivered.delivery.attempts).toBe(4);
    expect(await counterValue(metrics.alertBreakerTransitionsTotal, { host, state: 'half_open' })).toBe(1);
    expect(await counterValue(metrics.alertBreakerTransitionsTotal, { host, state: 'closed' })).toBe(1);
    expect(await counterValue(metrics.alertBreakerState, { host })).toBe(0);
  });

  it('delivers every one of 50 alerts raised during an outage once the receiver is back, each key once', async () => {
    alerts = openTestAlertService({ worker: { retry: { maxAttempts: 1000 } } });
    const host = `127.0.0.1:${receiver.port}`;
    receiver.reply = () => ({ status: 503 });
    alerts.service.registerChannel('hook', channel);
    const failing = alerts.results(5);
    const keys = await Promise.all(Array.from({ length: 50 }, async () => (await alerts.service.enqueue(sampleAlert(), [target()]))[0].idempotencyKey));
    await failing;
    receiver.reply = () => ({ status: 200 });
    const delivered = await alerts.results(50, (r) => r.outcome === 'delivered');
    expect(new Set(delivered.map((r) => r.delivery.idempotencyKey))).toEqual(new Set(keys));
    // At-least-once: a receiver dropping duplicates by key sees each alert exactly once.
    expect(new Set(receiver.received.map((r) => r.key))).toEqual(new Set(keys));
    expect(alerts.service.list({ status: 'pending' }).alerts).toEqual([]);
    expect(alerts.service.list({ status: 'dead' }).alerts).toEqual([]);
    expect(await counterValue(metrics.alertBreakerTransitionsTotal, { host, state: 'open' })).toBeGreaterThanOrEqual(1);
    expect(await counterValue(metrics.alertBreakerTransitionsTotal, { host, state: 'half_open' })).toBeGreaterThanOrEqual(1);
  });

  it('dead-letters a 4xx at once with its status, and retries it on request', async () => {
    alerts = openTestAlertService();
    receiver.reply = () => ({ status: 404 });
    alerts.service.registerChannel('hook', channel);
    const alert = sampleAlert();
    const dead = alerts.results(1);
    alerts.service.enqueue(alert, [target()]);
    const [result] = await dead;
    expect(result).toMatchObject({ outcome: 'dead', statusCode: 404, error: 'HTTP 404', delivery: { status: 'dead', attempts: 1, lastError: 'HTTP 404' } });
    expect(alerts.service.list({ status: 'dead' }).alerts.map((a) => a.alert.id)).toEqual([alert.id]);
    receiver.reply = () => ({ status: 200 });
    const delivered = alerts.results(1);
    expect(alerts.service.retryDead(alert.id)).toEqual([expect.objectContaining({ status: 'pending', attempts: 0 })]);
    expect((await delivered)[0].outcome).toBe('delivered');
    expect(alerts.service.retryDead('nope')).toBeNull();
  });

  it('retries a 408 and a 429 and waits as long as Retry-After says', async () => {
    alerts = openTestAlertService();
    receiver.reply = (_req, n) => (n === 1 ? { status: 408 } : n === 2 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
    alerts.service.registerChannel('hook', channel);
    const all = alerts.results(3);
    alerts.service.enqueue(sampleAlert(), [target()]);
    const [timeout, limited, delivered] = await all;
    expect([timeout.outcome, timeout.statusCode]).toEqual(['retry', 408]);
    expect([limited.outcome, limited.statusCode]).toEqual(['retry', 429]);
    expect(limited.delivery.nextAttemptAt - limited.at).toBeGreaterThanOrEqual(1000);
    expect(delivered.outcome).toBe('delivered');
  });

  it('gives up after the last attempt and dead-letters with the last error', async () => {
    alerts = openTestAlertService({ worker: { retry: { maxAttempts: 2 }, breaker: { consecutiveFailures: 100 } } });
    receiver.reply = () => ({ status: 500 });
    alerts.service.registerChannel('hook', channel);
    const both = alerts.results(2);
    alerts.service.enqueue(sampleAlert(), [target()]);
    const [, last] = await both;
    expect(last).toMatchObject({ outcome: 'dead', delivery: { status: 'dead', attempts: 2, lastError: 'gave up after 2 attempts: HTTP 500' } });
  });

  it('times an attempt out and retries it', async () => {
    alerts = openTestAlertService({ worker: { attemptTimeoutMs: 200 } });
    receiver.reply = (_req, n) => (n === 1 ? 'hang' : { status: 200 });
    alerts.service.registerChannel('hook', channel);
    const both = alerts.results(2);
    alerts.service.enqueue(sampleAlert(), [target()]);
    const [timedOut, delivered] = await both;
    expect([timedOut.outcome, timedOut.error]).toEqual(['retry', 'timed out after 200 ms']);
    expect(delivered.outcome).toBe('delivered');
  });

  it('leaves deliveries of a notifier that is not registered waiting, and sends them once it registers', async () => {
    alerts = openTestAlertService();
    alerts.service.registerChannel('hook', channel);
    const alert = sampleAlert();
    const first = alerts.results(1);
    const [, later] = await alerts.service.enqueue(alert, [target('hook'), target('later')]);
    await first;
    expect(alerts.service.detail(alert.id)!.deliveries.find((d) => d.id === later.id)).toMatchObject({ status: 'pending', attempts: 0 });
    const second = alerts.results(1);
    alerts.service.registerChannel('later', postChannel());
    expect((await second)[0].delivery.id).toBe(later.id);
    expect(receiver.received).toHaveLength(2);
  });

  it('publishes each new alert on glimpser/alerts with the new|update|end envelope, once', async () => {
    const published: Array<{ topic: string; payload: string }> = [];
    const bus: Bus = {
      publish: async (topic, payload) => {
        published.push({ topic, payload: payload.toString() });
      },
      subscribe: async () => async () => undefined,
    };
    alerts = openTestAlertService({ bus });
    const alert = sampleAlert();
    await alerts.service.enqueue(alert, []);
    await alerts.service.enqueue(alert, []);
    await alerts.service.enqueue(sampleAlert({ msgType: 'Cancel', references: 'x' }), []);
    await alerts.service.flush();
    expect(published.map((p) => [p.topic, (JSON.parse(p.payload) as { type: string }).type])).toEqual([
      [topics.alerts, 'new'],
      [topics.alerts, 'end'],
    ]);
    expect(JSON.parse(published[0].payload)).toEqual({ type: 'new', alert });
  });
});
