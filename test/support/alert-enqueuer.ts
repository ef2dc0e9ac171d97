/**
 * The victim of test/integration/alerts-crash.test.ts: opens the alert service on a data dir, registers a channel
 * that POSTs to a receiver that is down, enqueues `count` deliveries and prints each as `<delivery id> <key>` once
 * enqueue() has resolved (i.e. once the outbox acknowledged it: it is on disk), then `attempting` after the worker has failed a
 * few attempts, so the kill lands while deliveries are retried and leased. The test SIGKILLs it there.
 *
 *   alert-enqueuer <dataDir> <receiver url> <count>
 */
import { openAlertService } from '../../core/alerts/service';
import { postChannel } from './alert-receiver';
import { sampleAlert } from './alerts';

const [dataDir, url, countText] = process.argv.slice(2);
const count = Number(countText);
if (!dataDir || !url || !Number.isInteger(count) || count < 1) {
  process.stderr.write('usage: alert-enqueuer <dataDir> <receiver url> <count>\n');
  process.exit(2);
}

const service = openAlertService({
  dataDir,
  worker: {
    pollMs: 100,
    attemptTimeoutMs: 1000,
    leaseMs: 2000,
    retry: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 1000 },
    breaker: { consecutiveFailures: 1000, halfOpenAfterMs: 100 },
  },
});
let failures = 0;
service.onResult(() => {
  if (++failures === 10) process.stdout.write('attempting\n');
});
service.registerChannel('hook', postChannel());
async function enqueueAll(): Promise<void> {
  for (let i = 0; i < count; i++) {
    // Ten alerts with ten targets each: both one alert's deliveries and several alerts are in flight at the kill.
    if (i % 10 !== 0) continue;
    const alert = sampleAlert({ headline: `alert ${i / 10}` });
    const targets = Array.from({ length: Math.min(10, count - i) }, (_, n) => ({ channel: 'webhook' as const, notifier: 'hook', target: `${url}?n=${i + n}` }));
    for (const delivery of await service.enqueue(alert, targets)) process.stdout.write(`${delivery.id} ${delivery.idempotencyKey}\n`);
  }
}

enqueueAll().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
