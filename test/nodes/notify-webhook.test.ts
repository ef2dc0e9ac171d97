import type { DeliveryResult } from '../../core/alerts';
import { generateWebhookSecret } from '../../core/alerts/channels/webhook';
import notifyWebhookNode from '../../nodes/notify-webhook/notify-webhook';
import { openTestAlertService, sampleAlert, type TestAlertService } from '../support/alerts';
import { logged, loggedErrors, statusesOf, LOG } from '../support/flow';
import { glimpserHandles, helper, type FlowNode } from '../support/node-red-helper';
import { WebhookReceiver } from '../support/webhook-receiver';
import type { EmbeddedBroker } from '../../runtime/broker';

/**
 * notify-webhook in a flow with a real alert service (SQLite outbox and worker) and a loopback receiver that
 * verifies signatures with the standardwebhooks package: msg.alert in, a signed POST out, results in the status.
 */
const secret = generateWebhookSecret();
let receiver: WebhookReceiver;
let alerts: TestAlertService;
let broker: EmbeddedBroker;

const flow = (settings: Record<string, unknown>): FlowNode[] => [{ id: 'hook1', type: 'notify-webhook', version: 1, name: '', ...settings, wires: [] }];

function statusTexts(): string[] {
  return statusesOf('hook1').map((status) => String(status.text ?? ''));
}

/** The next recorded attempt of this node's deliveries. */
function nextResult(match: (result: DeliveryResult) => boolean = () => true): Promise<DeliveryResult> {
  return alerts.results(1, (result) => result.delivery.notifier === 'hook1' && match(result)).then(([result]) => result);
}

beforeAll(async () => {
  receiver = await WebhookReceiver.start(secret);
  alerts = openTestAlertService();
  const glimpser = await glimpserHandles();
  broker = glimpser.broker;
  helper.settings({ glimpser: { ...glimpser.handles, alerts: alerts.service } });
});

afterEach(async () => {
  receiver.answer({ status: 200 });
  await helper.unload();
});

afterAll(async () => {
  await alerts.close();
  await receiver.close();
  await broker.close();
});

describe('notify-webhook node', () => {
  it('writes msg.alert to the outbox; the worker POSTs it signed, and the status shows the delivery', async () => {
    await helper.load([notifyWebhookNode], flow({ url: receiver.url }), { hook1: { secret } });
    expect(statusTexts()).toContain(`ready · ${new URL(receiver.url).host}`);
    const alert = sampleAlert();
    const arriving = receiver.next();
    const delivered = nextResult();
    helper.getNode('hook1').receive({ alert });
    const hook = await arriving;
    const result = await delivered;
    expect(JSON.parse(hook.body.toString('utf8'))).toMatchObject({ type: 'alert.alert', data: { id: alert.id, camera: 'porch', headline: alert.headline } });
    expect(hook.id).toBe(result.delivery.idempotencyKey);
    expect(result).toMatchObject({ outcome: 'delivered', statusCode: 200, delivery: { target: receiver.url, channel: 'webhook' } });
    expect(receiver.rejected).toEqual([]);
    expect(statusTexts().at(-1)).toMatch(/^delivered · HTTP 200 at \d\d:\d\d:\d\d$/);
    expect(loggedErrors('hook1')).toEqual([]);
  });

  it('fails a message of the wrong shape naming the field, and delivers the next good one', async () => {
    await helper.load([notifyWebhookNode], flow({ url: receiver.url }), { hook1: { secret } });
    const node = helper.getNode('hook1');
    node.receive({ alert: { ...sampleAlert(), camera: 'Front Door' } });
    node.receive({ payload: 'no alert here' });
    const alert = sampleAlert();
    const arriving = receiver.next();
    const delivered = nextResult();
    node.receive({ alert });
    expect(JSON.parse((await arriving).body.toString('utf8'))).toMatchObject({ data: { id: alert.id } });
    expect(await delivered).toMatchObject({ outcome: 'delivered' });
    // done(err) logs the error as text: "Error: <message>".
    const errors = loggedErrors('hook1').map((text) => text.replace(/^Error: /, ''));
    expect(errors[0]).toMatch(/^msg\.alert\.camera: expected a camera id: .*, got "Front Door" \(an alert from a cap-alert node\)$/);
    expect(errors[1]).toMatch(/^msg\.alert: expected .*, got nothing \(an alert from a cap-alert node\)$/);
    expect(statusTexts()).toContain(errors[0].length > 60 ? `${errors[0].slice(0, 57)}…` : errors[0]);
  });

  it('sends the CAP XML when the format is cap', async () => {
    await helper.load([notifyWebhookNode], flow({ url: receiver.url, format: 'cap' }), { hook1: { secret } });
    const alert = sampleAlert();
    const arriving = receiver.next();
    const delivered = nextResult();
    helper.getNode('hook1').receive({ alert });
    const hook = await arriving;
    expect(hook.contentType).toBe('application/cap+xml; charset=utf-8');
    expect(hook.body.toString('utf8')).toBe(alert.capXml);
    // Its result is in before the next test tells the receiver to answer otherwise.
    expect(await delivered).toMatchObject({ outcome: 'delivered', statusCode: 200 });
  });

  it('shows a receiver error in the status: retrying a 500, failed on a 410', async () => {
    await helper.load([notifyWebhookNode], flow({ url: receiver.url }), { hook1: { secret } });
    receiver.answer({ status: 410 });
    const gone = nextResult();
    helper.getNode('hook1').receive({ alert: sampleAlert() });
    expect(await gone).toMatchObject({ outcome: 'dead', statusCode: 410, delivery: { status: 'dead' } });
    expect(statusTexts().at(-1)).toMatch(/^failed: HTTP 410 \(\d\d:\d\d:\d\d\)$/);

    receiver.answer({ status: 500 });
    const retried = nextResult();
    const arriving = receiver.next();
    helper.getNode('hook1').receive({ alert: sampleAlert() });
    expect(await retried).toMatchObject({ outcome: 'retry', statusCode: 500 });
    expect(statusTexts()).toContainEqual(expect.stringMatching(/^retrying after HTTP 500 \(\d\d:\d\d:\d\d\)$/));
    const delivered = nextResult((result) => result.outcome === 'delivered');
    receiver.answer({ status: 200 });
    await arriving;
    await delivered;
  });

  it('shows a URL the policy refuses as blocked, and dead-letters its alerts with the reason instead of sending them', async () => {
    await helper.load([notifyWebhookNode], flow({ url: 'http://169.254.169.254/latest/meta-data/' }), { hook1: { secret } });
    expect(statusTexts()).toContainEqual(expect.stringMatching(/^blocked: url points at 169\.254\.169\.254, a link-local/));
    const dead = nextResult();
    helper.getNode('hook1').receive({ alert: sampleAlert() });
    const result = await dead;
    expect(result).toMatchObject({ outcome: 'dead', statusCode: null, delivery: { status: 'dead' } });
    expect(result.error).toMatch(/^url points at 169\.254\.169\.254, a link-local address .*add it to the allow-list/);
    expect(statusTexts().at(-1)).toMatch(/^failed \(\d\d:\d\d:\d\d\): url points at 169\.254\.169\.254/);
    expect(loggedErrors('hook1')).toEqual([]);
  });

  it('without a URL shows "not configured" (no error at start) and dead-letters what arrives, saying why', async () => {
    await helper.load([notifyWebhookNode], flow({ url: '' }));
    expect(statusTexts()).toEqual(['not configured: set a URL']);
    expect(loggedErrors()).toEqual([]);
    const dead = nextResult();
    helper.getNode('hook1').receive({ alert: sampleAlert() });
    expect((await dead).error).toBe('the notify-webhook node has no URL: set one and retry the delivery');
  });

  it('makes a signing secret when it has none, and never logs it', async () => {
    await helper.load([notifyWebhookNode], flow({ url: receiver.url }));
    // The test helper's runtime node registry, where RED.nodes.addCredentials keeps what it was given.
    const registry = (helper as unknown as { _redNodes: { getCredentials(id: string): { secret?: string } } })._redNodes;
    const credentials = registry.getCredentials('hook1');
    expect(credentials.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const everything = [...logged(undefined, LOG.error), ...logged(undefined, LOG.warn)].join('\n');
    expect(everything).not.toContain(credentials.secret);
    expect(statusTexts()).toContain(`ready · ${new URL(receiver.url).host}`);
  });

  it('refuses a header that would override the signature as a setting error naming the line', async () => {
    await helper.load([notifyWebhookNode], flow({ url: receiver.url, headers: 'X-Team: a\nwebhook-signature: v1,forged' }), { hook1: { secret } });
    expect(loggedErrors('hook1')).toEqual(['headers line 2: webhook-signature is written by Glimpser itself and cannot be set']);
  });
});
