import { register } from 'prom-client';
import type { Delivery, DeliveryResult, StoredAlert } from '../../core/alerts/index';
import { generateWebhookSecret, WebhookChannel } from '../../core/alerts/channels/webhook';
import { openTestAlertService, sampleAlert, type TestAlertService } from '../support/alerts';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * Issue 11, acceptance 3: the webhook receiver is down while alerts are raised, then comes back; every alert arrives,
 * each exactly once after the receiver drops duplicates by webhook-id, and the circuit breaker's opening and
 * half-opening show in the metrics. A real alert service (SQLite outbox + worker), the real webhook channel, and a
 * receiver that verifies every request with the `standardwebhooks` package.
 *
 * The outage lasts the 60 s: the receiver stays down until the breaker has opened and FAILED_PROBES
 * half-open probes have failed (event-driven) and at least OUTAGE_MS have passed, with the breaker's half-open wait
 * scaled so that the probes of the long outage do not use up any delivery's attempts. ALERTS_OUTAGE_MS=0 shortens
 * it to the probes alone (a second or so) for quick local runs.
 */
const ALERTS = 50;
const FAILED_PROBES = 1;
const OUTAGE_MS = Number(process.env.ALERTS_OUTAGE_MS ?? 60_000);
const HALF_OPEN_AFTER_MS = Math.max(300, Math.ceil(OUTAGE_MS / 4));
const TRANSITIONS = 'glimpser_alert_breaker_transitions_total';
const BREAKER = 'glimpser_alert_breaker_state';

/** The breaker metrics of one host, read from prom-client's default registry as /metrics would show them. */
async function breakerMetrics(host: string): Promise<{ state: number | null; entered: Record<string, number> }> {
  const transitions = await register.getSingleMetric(TRANSITIONS)!.get();
  const gauge = await register.getSingleMetric(BREAKER)!.get();
  const entered: Record<string, number> = { open: 0, half_open: 0, closed: 0 };
  for (const { labels, value } of transitions.values) if (labels.host === host) entered[String(labels.state)] = value;
  return { state: gauge.values.find(({ labels }) => labels.host === host)?.value ?? null, entered };
}

/** Resolves once a recorded attempt makes `done` true (checked after each attempt, never on a timer). */
function untilAttempt(alerts: TestAlertService, done: (result: DeliveryResult) => boolean | Promise<boolean>): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = alerts.service.onResult((result) => {
      Promise.resolve(done(result)).then((finished) => {
        if (!finished) return;
        stop();
        resolve();
      }, reject);
    });
  });
}

describe('alerts while the webhook receiver is down (issue 11, acceptance 3)', () => {
  let receiver: WebhookReceiver;
  let alerts: TestAlertService;
  let channel: WebhookChannel;

  afterEach(async () => {
    await alerts?.close();
    channel?.close();
    await receiver?.close();
  });

  it(
    'delivers every alert exactly once after the receiver comes back, and the breaker opens and half-opens',
    async () => {
      const secret = generateWebhookSecret();
      receiver = await WebhookReceiver.start(secret);
      const host = new URL(receiver.url).host;
      // Enough attempts that no delivery is dead-lettered by the probes of the outage (default policy: 12).
      alerts = openTestAlertService({ worker: { retry: { maxAttempts: 12 }, breaker: { consecutiveFailures: 3, halfOpenAfterMs: HALF_OPEN_AFTER_MS } } });
      channel = new WebhookChannel({ format: 'json', includeSnapshot: false, publicUrl: '', headers: {}, allowHosts: ['127.0.0.1'], secret });

      await receiver.down();
      const outageBegan = Date.now();
      let failedProbes = 0;
      let dead = 0;
      const probesFailed = untilAttempt(alerts, async (result) => {
        if (result.outcome === 'dead') dead++;
        const { entered } = await breakerMetrics(host);
        // A failed half-open probe sends the circuit back to open: one more "open" than "half_open" entered before it.
        failedProbes = Math.min(entered.half_open, entered.open - 1);
        return failedProbes >= FAILED_PROBES;
      });
      alerts.service.registerChannel('webhook-1', channel);
      const stored: StoredAlert[] = [];
      const deliveries: Delivery[] = [];
      for (let i = 0; i < ALERTS; i++) {
        const alert = sampleAlert({ sent: Date.now(), camera: `cam-${i % 4}`, headline: `Motion ${i}` });
        stored.push(alert);
        deliveries.push(...(await alerts.service.enqueue(alert, [{ channel: 'webhook', notifier: 'webhook-1', target: receiver.url }])));
      }
      expect(deliveries).toHaveLength(ALERTS);

      await probesFailed;
      const duringOutage = await breakerMetrics(host);
      expect(duringOutage.state).toBe(2);
      expect(duringOutage.entered.open).toBeGreaterThanOrEqual(2);
      expect(duringOutage.entered.half_open).toBeGreaterThanOrEqual(1);
      expect(receiver.requests).toBe(0);
      if (OUTAGE_MS > 0) await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageBegan))));

      // The first request the receiver takes after coming back is the half-open probe, still unanswered for the sender.
      const firstBack = receiver.next().then(() => breakerMetrics(host));
      let delivered = 0;
      const allDelivered = untilAttempt(alerts, (result) => {
        if (result.outcome === 'dead') dead++;
        if (result.outcome === 'delivered') delivered++;
        return delivered + dead >= ALERTS;
      });
      await receiver.up();
      expect((await firstBack).state).toBe(1);
      await allDelivered;

      expect(dead).toBe(0);
      expect(receiver.rejected).toEqual([]);
      // The receiver keeps each webhook-id once: every delivery's idempotency key, and every alert, exactly once.
      expect(receiver.received.map((hook) => hook.id).sort()).toEqual(deliveries.map((d) => d.idempotencyKey).sort());
      const alertIds = receiver.received.map((hook) => (JSON.parse(hook.body.toString('utf8')) as { data: { id: string } }).data.id);
      expect(alertIds.sort()).toEqual(stored.map((alert) => alert.id).sort());
      for (const alert of stored) expect(alerts.service.detail(alert.id)?.deliveries.map((d) => d.status)).toEqual(['delivered']);

      const after = await breakerMetrics(host);
      expect(after.state).toBe(0);
      expect(after.entered.closed).toBeGreaterThanOrEqual(1);
      expect(after.entered.half_open).toBeGreaterThan(duringOutage.entered.half_open);
    },
    OUTAGE_MS + 60_000,
  );
});
