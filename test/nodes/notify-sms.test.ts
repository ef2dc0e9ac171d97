import type { EventEmitter } from 'node:events';
import type { NodeStatus } from 'node-red';
import type { DeliveryResult } from '../../core/alerts';
import glimpserTwilioNode from '../../nodes/glimpser-twilio/glimpser-twilio';
import notifySmsNode from '../../nodes/notify-sms/notify-sms';
import { loggedErrors, recordStatuses, statusesOf } from '../support/flow';
import { openTestAlertService, sampleAlert, type TestAlertService } from '../support/alerts';
import { glimpserHandles, helper, type FlowNode } from '../support/node-red-helper';
import { INVALID_NUMBER, TwilioServer } from '../support/twilio-server';
import type { EmbeddedBroker } from '../../runtime/broker';

const ACCOUNT = { accountSid: `AC${'5e'.repeat(16)}`, authToken: 'flow-test-token' };

/** The next status node `id` shows whose text matches: the helper announces each node.status call as an event. */
function nextStatus(id: string, text: RegExp): Promise<NodeStatus> {
  return new Promise((resolve) => {
    const node = helper.getNode(id) as unknown as EventEmitter;
    const listener = (call: { args: [NodeStatus] }) => {
      if (!text.test(String(call.args[0].text))) return;
      node.removeListener('call:status', listener);
      resolve(call.args[0]);
    };
    node.on('call:status', listener);
  });
}

/** The next error node `id` logs (done(err) of an input reports through node.error). */
function nextError(id: string): Promise<string> {
  return new Promise((resolve) =>
    helper.getNode(id).once('call:error', (call: { args: [unknown] }) => resolve(call.args[0] instanceof Error ? call.args[0].message : String(call.args[0]))),
  );
}

describe('glimpser-twilio and notify-sms nodes', () => {
  let broker: EmbeddedBroker;
  let alerts: TestAlertService;
  let server: TwilioServer;

  const flow = (sms: Record<string, unknown> = {}, twilio: Record<string, unknown> = {}): FlowNode[] => [
    { id: 'account', type: 'glimpser-twilio', name: 'test account', apiBaseUrl: server.baseUrl, ...twilio },
    { id: 'sms', type: 'notify-sms', twilio: 'account', to: '+15005550006, +15005550007', from: '+15005550000', template: '{{camera}}: {{headline}}', ...sms },
  ];

  beforeEach(async () => {
    const context = await glimpserHandles();
    broker = context.broker;
    alerts = openTestAlertService();
    helper.settings({ glimpser: { ...context.handles, alerts: alerts.service } });
    server = await TwilioServer.start(ACCOUNT);
  });

  afterEach(async () => {
    await helper.unload();
    await alerts.close();
    await server.close();
    await broker.close();
  });

  it('shows ready, stores one delivery per number and sends each through Twilio, then shows the last result', async () => {
    await helper.load([glimpserTwilioNode, notifySmsNode], flow(), { account: ACCOUNT });
    expect(statusesOf('sms').at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'ready · 2 numbers' });
    const seen = recordStatuses('sms');
    const delivered = alerts.results(2, (r) => r.outcome === 'delivered');
    const alert = sampleAlert({ headline: 'Person at the door' });
    const queued = nextStatus('sms', /^queued/);
    helper.getNode('sms').receive({ alert });
    await queued;
    // Acknowledged only once stored: the deliveries are in the outbox when done() is called.
    expect(
      alerts.service
        .detail(alert.id)
        ?.deliveries.map((d) => d.target)
        .sort(),
    ).toEqual(['+15005550006', '+15005550007']);
    await delivered;
    const received = await server.receivedCount(2);
    expect(received.map((r) => r.To).sort()).toEqual(['+15005550006', '+15005550007']);
    expect(received.map((r) => [r.From, r.Body, r.username])).toEqual([
      ['+15005550000', 'porch: Person at the door', ACCOUNT.accountSid],
      ['+15005550000', 'porch: Person at the door', ACCOUNT.accountSid],
    ]);
    expect(seen[0]).toEqual({ fill: 'yellow', shape: 'ring', text: 'queued 2 SMS · porch' });
    expect(seen.at(-1)).toMatchObject({ fill: 'green', shape: 'dot', text: expect.stringMatching(/^sent to \+1500555000[67] at \d\d:\d\d:\d\d$/) });
    expect(loggedErrors()).toEqual([]);
  });

  it("dead-letters a bad number at once with Twilio's reason, and shows it", async () => {
    await helper.load([glimpserTwilioNode, notifySmsNode], flow({ to: '+15005550001' }), { account: ACCOUNT });
    server.script(INVALID_NUMBER);
    const seen = recordStatuses('sms');
    const dead = alerts.results(1, (r) => r.outcome === 'dead');
    const alert = sampleAlert();
    helper.getNode('sms').receive({ alert });
    const [result] = (await dead) as [DeliveryResult];
    expect(result.delivery).toMatchObject({ target: '+15005550001', status: 'dead', attempts: 1 });
    expect(result.delivery.lastError).toMatch(/error 21211\): The 'To' number \+15005550001 is not a valid phone number/);
    expect(server.received).toHaveLength(1);
    expect(alerts.service.detail(alert.id)?.deliveries[0]).toMatchObject({ status: 'dead', lastError: result.delivery.lastError });
    expect(seen.at(-1)).toMatchObject({ fill: 'red', shape: 'dot', text: expect.stringMatching(/^failed for \+15005550001: Twilio refused/) });
  });

  it('fails a message of the wrong shape naming the field, and keeps working for the next good one', async () => {
    await helper.load([glimpserTwilioNode, notifySmsNode], flow({ to: '+15005550006' }), { account: ACCOUNT });
    const seen = recordStatuses('sms');
    const refused = nextError('sms');
    helper.getNode('sms').receive({ alert: { ...sampleAlert(), sent: 'yesterday' } });
    expect(await refused).toMatch(/^msg\.alert\.sent: expected milliseconds since the epoch, got "yesterday"/);
    expect(seen.at(-1)).toMatchObject({ fill: 'red', shape: 'dot', text: expect.stringMatching(/^msg\.alert\.sent: expected/) });
    const delivered = alerts.results(1, (r) => r.outcome === 'delivered');
    helper.getNode('sms').receive({ alert: sampleAlert() });
    await delivered;
    expect(server.received).toHaveLength(1);
    expect(seen.at(-1)).toMatchObject({ fill: 'green', text: expect.stringMatching(/^sent to \+15005550006/) });
  });

  it('shows "not configured" without logging an error when the account has no credentials, and refuses an alert with the reason', async () => {
    await helper.load([glimpserTwilioNode, notifySmsNode], flow());
    expect(statusesOf('sms').at(-1)).toEqual({ fill: 'blue', shape: 'ring', text: 'not configured: Twilio account has no credentials' });
    expect(loggedErrors()).toEqual([]);
    const refused = nextError('sms');
    helper.getNode('sms').receive({ alert: sampleAlert() });
    expect(await refused).toBe('notify-sms is not configured: no Twilio account SID: add it with an auth token or API key in the glimpser-twilio node');
  });

  it('logs a credential of the wrong shape on the account, naming it, and notify-sms stops with the same message', async () => {
    await helper.load([glimpserTwilioNode, notifySmsNode], flow(), { account: { accountSid: 'not-a-sid', authToken: 'x' } });
    expect(loggedErrors('account')).toEqual([
      'Twilio account "test account": credential "accountSid" must be AC followed by 32 hex digits (the Account SID in the Twilio console)',
    ]);
    expect(loggedErrors('sms')).toEqual([expect.stringMatching(/^twilio: credential "accountSid" must be AC/)]);
  });
});
