import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../core/jobs/manual-clock';
import { Scheduler } from '../../core/jobs/scheduler';
import { JobStore } from '../../core/jobs/store';
import { silentLogger } from '../../core/log/logger';
import { registerSystemJobs } from '../../runtime/system-jobs';
import { postChannel, startAlertReceiver, type AlertReceiver } from '../support/alert-receiver';
import { openTestAlertService, sampleAlert, type TestAlertService } from '../support/alerts';

/**
 * Issue 13: the alert outbox sweep is a job (`alerts.sweep`): it is listed with the other system jobs, a run looks
 * for due deliveries and says what the outbox holds, and pausing it holds every delivery — enqueued alerts wait in
 * the outbox, nothing is lost — until it is resumed, also across a restart. A real alert service (SQLite outbox and
 * worker) delivering to a loopback receiver; the scheduler's clock is moved by hand.
 */
const START = Date.parse('2026-12-07T12:00:00Z');

let dir: string;
let receiver: AlertReceiver;
let alerts: TestAlertService;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'glimpser-system-jobs-'));
  receiver = await startAlertReceiver();
  alerts = openTestAlertService();
  alerts.service.registerChannel('hook', postChannel());
});

afterEach(async () => {
  await alerts.close();
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

function scheduler(): Scheduler {
  return new Scheduler({ store: JobStore.open(dir, undefined, START), clock: new ManualClock(START), logger: silentLogger });
}

/** Two turns of the event loop: long enough for a kick to lease and send if it were allowed to. */
const turns = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

describe('the alerts.sweep system job', () => {
  it('is listed, reports what the outbox holds, and while paused holds every delivery until resumed', async () => {
    const jobs = scheduler();
    try {
      registerSystemJobs(jobs, { alerts: alerts.service });
      expect(jobs.list().map((job) => job.id)).toEqual(['alerts.sweep']);
      expect(jobs.state('alerts.sweep')).toMatchObject({ kind: 'alerts', owner: 'system', schedule: { kind: 'interval', everyMs: 5000 } });

      jobs.pause('alerts.sweep');
      const alert = sampleAlert();
      await alerts.service.enqueue(alert, [{ channel: 'webhook', notifier: 'hook', target: receiver.url }]);
      expect((await jobs.runNow('alerts.sweep')).outcome).toBe('ok');
      await turns();
      expect(receiver.received).toEqual([]);
      // Not even leased: the worker took nothing out of the outbox.
      expect(alerts.service.detail(alert.id)!.deliveries).toEqual([expect.objectContaining({ status: 'pending', attempts: 0, leaseUntil: null })]);

      const delivered = alerts.results(1);
      jobs.resume('alerts.sweep');
      expect((await delivered)[0]).toMatchObject({ outcome: 'delivered' });
      const run = await jobs.runNow('alerts.sweep');
      expect(run).toMatchObject({ outcome: 'ok', output: '0 deliveries pending, 0 dead-lettered' });
    } finally {
      await jobs.close();
    }
  });

  it('keeps deliveries held across a restart while the job stays paused', async () => {
    const first = scheduler();
    registerSystemJobs(first, { alerts: alerts.service });
    first.pause('alerts.sweep');
    await first.close();
    alerts.service.pauseDeliveries(false);

    const second = scheduler();
    try {
      registerSystemJobs(second, { alerts: alerts.service });
      expect(second.state('alerts.sweep').paused).toBe(true);
      const held = sampleAlert();
      await alerts.service.enqueue(held, [{ channel: 'webhook', notifier: 'hook', target: receiver.url }]);
      await turns();
      expect(receiver.received).toEqual([]);
      expect(alerts.service.detail(held.id)!.deliveries).toEqual([expect.objectContaining({ status: 'pending', leaseUntil: null })]);
      const delivered = alerts.results(1);
      second.resume('alerts.sweep');
      expect((await delivered)[0].outcome).toBe('delivered');
    } finally {
      await second.close();
    }
  });
});
