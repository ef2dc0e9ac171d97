import type { NodeStatus } from 'node-red';
import type { DeliveryResult } from '../../core/alerts';
import { PushSubscriptionStore } from '../../core/alerts/push-subscriptions';
import { generateVapidKeys, isVapidKeys, type VapidKeys } from '../../core/alerts/vapid';
import notifyPushNode from '../../nodes/notify-push/notify-push';
import type { EmbeddedBroker } from '../../runtime/broker';
import { openTestAlertService, sampleAlert, type TestAlertService } from '../support/alerts';
import { loggedErrors, recordStatuses, statusesOf } from '../support/flow';
import { glimpserHandles, helper, type FlowNode } from '../support/node-red-helper';
import { startPushService, type PushService } from '../support/push-service';

/** The error an input's done(err) logs on the node (the test helper reports node.error calls as events). */
function inputError(id: string): Promise<Error> {
  return new Promise((resolve) =>
    helper
      .getNode(id)
      .once('call:error', (call: { args: [Error | string] }) => resolve(call.args[0] instanceof Error ? call.args[0] : new Error(call.args[0]))),
  );
}

/** The next status node `id` shows whose text matches. */
function statusShown(id: string, text: RegExp): Promise<NodeStatus> {
  return new Promise((resolve) => {
    // The test helper's events are not in Node's typed overloads.
    const node = helper.getNode(id) as unknown as NodeJS.EventEmitter;
    const listener = (call: { args: [NodeStatus] }) => {
      if (!text.test(String(call.args[0].text))) return;
      node.off('call:status', listener);
      resolve(call.args[0]);
    };
    node.on('call:status', listener);
  });
}

const flow = (push: Record<string, unknown> = {}): FlowNode[] => [{ id: 'push', type: 'notify-push', subject: 'mailto:alerts@glimpser.dev', ...push }];

describe('notify-push node', () => {
  let broker: EmbeddedBroker;
  let alerts: TestAlertService;
  let service: PushService;
  let subscriptions: PushSubscriptionStore;
  let keys: VapidKeys;

  function subscribe(tags: string[] = []) {
    const browser = service.subscribe();
    return { browser, record: subscriptions.add({ endpoint: browser.endpoint, keys: browser.keys, tags, user: 'admin' }) };
  }

  beforeEach(async () => {
    const context = await glimpserHandles();
    broker = context.broker;
    alerts = openTestAlertService();
    service = await startPushService();
    subscriptions = PushSubscriptionStore.inMemory();
    keys = generateVapidKeys();
    helper.settings({ glimpser: { ...context.handles, alerts: alerts.service, push: { keys, subscriptions, agent: service.agent } } });
  });

  afterEach(async () => {
    await helper.unload();
    await alerts.close();
    await service.close();
    await broker.close();
  });

  it('enqueues one delivery per subscribed browser, which decrypts the alert, and shows the last result', async () => {
    subscribe();
    subscribe();
    await helper.load([notifyPushNode], flow());
    expect(statusesOf('push').at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'ready · 2 browser(s)' });
    const seen = recordStatuses('push');
    const delivered = alerts.results(2, (r) => r.outcome === 'delivered');
    const alert = sampleAlert({ headline: 'Person at the door', severity: 'Severe' });
    const queued = statusShown('push', /^queued/);
    helper.getNode('push').receive({ alert });
    await queued;
    // Stored before the input is acknowledged: the deliveries are in the outbox once the node shows "queued".
    expect(
      alerts.service
        .detail(alert.id)
        ?.deliveries.map((d) => d.target)
        .sort(),
    ).toEqual(
      subscriptions
        .list()
        .map((s) => s.id)
        .sort(),
    );
    await delivered;
    const pushes = [await service.nextPush(), await service.nextPush()];
    for (const push of pushes) {
      expect(JSON.parse(push.plaintext)).toEqual({
        title: 'Person at the door',
        body: alert.description,
        camera: 'porch',
        alertId: alert.id,
        eventId: alert.eventId,
        time: new Date(alert.sent).toISOString(),
      });
      expect(push.vapidKey).toBe(keys.publicKey);
      expect(push.headers).toMatchObject({ ttl: '86400', urgency: 'high' });
    }
    expect(seen[0]).toEqual({ fill: 'yellow', shape: 'ring', text: 'queued 2 · porch' });
    expect(seen.at(-1)).toMatchObject({ fill: 'green', shape: 'dot', text: expect.stringMatching(/^delivered \d\d:\d\d:\d\d$/) });
    expect(loggedErrors()).toEqual([]);
  });

  it('sends only to browsers with the chosen tag', async () => {
    subscribe(['night-shift']);
    subscribe();
    await helper.load([notifyPushNode], flow({ subscriptions: 'tag', tag: 'night-shift' }));
    const delivered = alerts.results(1, (r) => r.outcome === 'delivered');
    const alert = sampleAlert();
    helper.getNode('push').receive({ alert });
    await delivered;
    expect(alerts.service.detail(alert.id)?.deliveries.map((d) => d.target)).toEqual(subscriptions.list('night-shift').map((s) => s.id));
  });

  it('a 410 from the push service dead-letters the delivery and deletes the subscription (RFC 8030 §7.3)', async () => {
    const { record } = subscribe();
    await helper.load([notifyPushNode], flow());
    service.answerNext(410);
    const seen = recordStatuses('push');
    const dead = alerts.results(1, (r) => r.outcome === 'dead');
    helper.getNode('push').receive({ alert: sampleAlert() });
    const [result] = (await dead) as [DeliveryResult];
    expect(result.delivery).toMatchObject({ target: record.id, status: 'dead', attempts: 1 });
    expect(result.delivery.lastError).toMatch(/gone \(410\)/);
    expect(subscriptions.get(record.id)).toBeNull();
    expect(seen.at(-1)).toMatchObject({ fill: 'red', shape: 'dot', text: expect.stringMatching(/^failed \d\d:\d\d:\d\d: push subscription/) });
  });

  it('shows a bad VAPID subject in red and dead-letters deliveries naming it, without a crash', async () => {
    subscribe();
    await helper.load([notifyPushNode], flow({ subject: 'admin@localhost' }));
    expect(statusesOf('push').at(-1)).toEqual({ fill: 'red', shape: 'dot', text: 'bad VAPID subject: admin@localhost' });
    const dead = alerts.results(1, (r) => r.outcome === 'dead');
    helper.getNode('push').receive({ alert: sampleAlert() });
    const [result] = (await dead) as [DeliveryResult];
    expect(result.delivery.lastError).toMatch(/^VAPID subject "admin@localhost" is not a URL: expected a mailto: address/);
    expect(service.rejected).toEqual([]);
  });

  it('is "not configured" without a subject or without subscribed browsers, and says so when an alert arrives anyway', async () => {
    await helper.load([notifyPushNode], [...flow({ subject: '' }), { id: 'push2', type: 'notify-push', subject: 'https://cameras.glimpser.dev' }]);
    expect(statusesOf('push').at(-1)).toEqual({ fill: 'blue', shape: 'ring', text: 'not configured: no VAPID subject' });
    expect(statusesOf('push2').at(-1)).toEqual({ fill: 'blue', shape: 'ring', text: 'not configured: no browser subscribed' });
    expect(loggedErrors()).toEqual([]);
    const refused = inputError('push2');
    helper.getNode('push2').receive({ alert: sampleAlert() });
    expect((await refused).message).toBe('notify-push is not configured: no browser subscribed: subscribe one through POST /api/push/subscriptions');
    const ready = recordStatuses('push2');
    subscribe();
    expect(ready.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'ready · 1 browser(s)' });
  });

  it('fails a message of the wrong shape naming the field, and keeps working for the next good one', async () => {
    subscribe();
    await helper.load([notifyPushNode], flow());
    const seen = recordStatuses('push');
    const refused = inputError('push');
    helper.getNode('push').receive({ alert: { ...sampleAlert(), camera: 42 } });
    const error = await refused;
    expect(error.message).toMatch(/^msg\.alert\.camera: expected a camera id.*, got 42 \(an alert from a cap-alert node\)$/);
    expect(seen.at(-1)).toMatchObject({ fill: 'red', shape: 'dot', text: expect.stringMatching(/^msg\.alert\.camera: expected/) });
    const delivered = alerts.results(1, (r) => r.outcome === 'delivered');
    helper.getNode('push').receive({ alert: sampleAlert() });
    await delivered;
    expect(JSON.parse((await service.nextPush()).plaintext)).toMatchObject({ camera: 'porch' });
  });
});

describe('notify-push node outside the Glimpser runtime', () => {
  afterEach(() => helper.unload());

  it('generates its own VAPID keys into its credentials and shows that it needs the runtime', async () => {
    helper.settings({});
    await helper.load([notifyPushNode], flow());
    expect(statusesOf('push').at(-1)).toEqual({ fill: 'blue', shape: 'ring', text: 'not configured: needs the Glimpser runtime' });
    expect(loggedErrors()).toEqual([]);
    const RED = (helper as unknown as { _RED: { nodes: { getCredentials(id: string): Record<string, string> | undefined } } })._RED;
    const stored = RED.nodes.getCredentials('push');
    expect(isVapidKeys({ publicKey: stored?.vapidPublicKey, privateKey: stored?.vapidPrivateKey })).toBe(true);
  });
});
