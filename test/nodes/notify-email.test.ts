import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { parseCap } from '../../core/alerts/cap';
import type { DeliveryResult } from '../../core/alerts';
import glimpserSmtpNode from '../../nodes/glimpser-smtp/glimpser-smtp';
import notifyEmailNode from '../../nodes/notify-email/notify-email';
import type { GlimpserHandles } from '../../nodes/shared/handles';
import type { EmbeddedBroker } from '../../runtime/broker';
import { openTestAlertService, sampleAlert, type TestAlertService } from '../support/alerts';
import { LOG, logged, loggedErrors, recordStatuses, statusesOf } from '../support/flow';
import { glimpserHandles, helper, type FlowNode } from '../support/node-red-helper';
import { SMTP_PASSWORD, SMTP_USER, TestSmtpServer } from '../support/smtp-server';
import { waitFor } from '../support/tools';

/** glimpser-smtp and notify-email in Node-RED, with a real alert outbox and worker, against a real SMTP server on loopback. */

const CREDENTIALS = { smtp: { username: SMTP_USER, password: SMTP_PASSWORD } };

describe('glimpser-smtp and notify-email nodes', () => {
  let server: TestSmtpServer;
  let broker: EmbeddedBroker;
  let handles: GlimpserHandles;
  let alerts: TestAlertService;
  let jpeg: Buffer;

  const flow = (smtp: Record<string, unknown> = {}, notify: Record<string, unknown> = {}): FlowNode[] => [
    {
      id: 'smtp',
      type: 'glimpser-smtp',
      name: 'loopback',
      host: '127.0.0.1',
      port: server.port,
      security: 'starttls',
      ca: server.certificate.cert,
      from: 'Glimpser <alerts@example.com>',
      timeout: 5,
      ...smtp,
    },
    {
      id: 'mailer',
      type: 'notify-email',
      smtp: 'smtp',
      to: 'ops@example.com, Night <night@example.com>',
      attachCap: true,
      timeZone: 'UTC',
      ...notify,
      wires: [],
    },
  ];

  /** An alert whose snapshot is a file in the outbox's data dir, where cap-alert's journal would have written it. */
  const alertWithSnapshot = () => {
    const alert = sampleAlert({ headline: 'Person at the porch', description: 'Someone rings the bell.', severity: 'Moderate' });
    const file = path.join('events', `${alert.id}.jpg`);
    mkdirSync(path.join(alerts.dataDir, 'events'), { recursive: true });
    writeFileSync(path.join(alerts.dataDir, file), jpeg);
    return { ...alert, snapshot: { path: file, bytes: jpeg.length } };
  };

  const resultFor = (target: string, outcome: DeliveryResult['outcome']) => alerts.results(1, (r) => r.delivery.target === target && r.outcome === outcome);

  beforeAll(async () => {
    ({ broker, handles } = await glimpserHandles());
    server = await TestSmtpServer.start();
    jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#305070' } })
      .jpeg()
      .toBuffer();
  });

  beforeEach(() => {
    alerts = openTestAlertService();
    helper.settings({ glimpser: { ...handles, alerts: alerts.service } });
  });

  afterEach(async () => {
    await helper.unload();
    await alerts.close();
  });

  afterAll(async () => {
    await server.close();
    await broker.close();
  });

  it('mails each alert to every recipient through the outbox: snapshot attached, CAP attached, status from ready to sent', async () => {
    await helper.load([glimpserSmtpNode, notifyEmailNode], flow(), CREDENTIALS);
    expect(statusesOf('mailer').at(-1)).toMatchObject({ fill: 'green', text: `ready · 2 recipients via 127.0.0.1` });
    const seen = recordStatuses('mailer');
    const delivered = alerts.results(2, (r) => r.outcome === 'delivered');
    const alert = alertWithSnapshot();
    helper.getNode('mailer').receive({ alert });
    const [ops, night] = await Promise.all([server.nextMail('ops@example.com'), server.nextMail('night@example.com')]);
    await delivered;
    expect(seen[0]).toMatchObject({ fill: 'yellow', text: 'queued 2 mails · porch' });
    expect(seen.at(-1)).toMatchObject({
      fill: 'green',
      text: expect.stringMatching(/^sent to (ops@example\.com|Night <night@example\.com>) at \d\d:\d\d:\d\d$/),
    });
    for (const mail of [ops, night]) {
      expect(mail.secure).toBe(true);
      expect(mail.user).toBe(SMTP_USER);
      expect(mail.parsed.subject).toBe('Person at the porch');
      expect(mail.parsed.text).toContain('Someone rings the bell.\n\nCamera: porch');
      const [picture, cap] = mail.parsed.attachments;
      expect(picture.content.equals(jpeg)).toBe(true);
      expect((await parseCap(cap.content)).identifier).toBe(alert.identifier);
    }
    const detail = alerts.service.detail(alert.id)!;
    expect(detail.deliveries.map((d) => [d.target, d.status])).toEqual(
      expect.arrayContaining([
        ['ops@example.com', 'delivered'],
        ['Night <night@example.com>', 'delivered'],
      ]),
    );
    expect(ops.parsed.messageId).toBe(`<${detail.deliveries.find((d) => d.target === 'ops@example.com')!.idempotencyKey}@example.com>`);
    expect(loggedErrors()).toEqual([]);
  });

  it('keeps its pooled connection open between mails and closes it when the flow stops', async () => {
    await helper.load([glimpserSmtpNode, notifyEmailNode], flow({ pool: true, maxConnections: 1 }, { to: 'pool@example.com' }), CREDENTIALS);
    const sessions: string[] = [];
    const onConnect = (id: string) => sessions.push(id);
    server.events.on('connect', onConnect);
    const delivered = alerts.results(2, (r) => r.delivery.target === 'pool@example.com' && r.outcome === 'delivered');
    helper.getNode('mailer').receive({ alert: sampleAlert() });
    helper.getNode('mailer').receive({ alert: sampleAlert() });
    await delivered;
    server.events.off('connect', onConnect);
    expect(sessions).toHaveLength(1);
    const closed = waitFor<string>(server.events, 'close', (id) => id === sessions[0]);
    await helper.unload();
    await closed;
  });

  it('a bad SMTP host is retried, then dead-lettered with the reason, which the status shows', async () => {
    await helper.load([glimpserSmtpNode, notifyEmailNode], flow({ host: 'smtp.invalid', timeout: 2 }, { to: 'ops@example.com' }), CREDENTIALS);
    const dead = resultFor('ops@example.com', 'dead');
    const alert = sampleAlert();
    helper.getNode('mailer').receive({ alert });
    const [result] = await dead;
    expect(result.error).toMatch(/SMTP smtp\.invalid \(CONN\): getaddrinfo (ENOTFOUND|EAI_AGAIN) smtp\.invalid/);
    expect(statusesOf('mailer').at(-1)).toMatchObject({ fill: 'red', text: expect.stringMatching(/^failed: .*SMTP smtp\.invalid/) });
    expect(logged('mailer', LOG.warn)).toEqual([`mail of alert ${alert.id} to ops@example.com dead-lettered: ${result.error}`]);
    const [delivery] = alerts.service.detail(alert.id)!.deliveries;
    expect(delivery).toMatchObject({ status: 'dead', lastError: result.error });
    expect(delivery.attempts).toBeGreaterThan(1);
  });

  it('an address the server refuses (550) is dead-lettered at the first attempt; the other recipient still gets the mail', async () => {
    await helper.load([glimpserSmtpNode, notifyEmailNode], flow({}, { to: 'unknown@example.com, ops@example.com' }), CREDENTIALS);
    const dead = resultFor('unknown@example.com', 'dead');
    const alert = sampleAlert();
    helper.getNode('mailer').receive({ alert });
    const [result] = await dead;
    expect(result).toMatchObject({ statusCode: 550, error: expect.stringContaining('No such user here: unknown@example.com') });
    expect(result.delivery.attempts).toBe(1);
    const mail = await server.nextMail((m) => m.parsed.headers.get('x-glimpser-alert') === alert.id);
    expect(mail.to).toEqual(['ops@example.com']);
  });

  it('a message of the wrong shape fails naming the field, and the node keeps working for the next alert', async () => {
    await helper.load([glimpserSmtpNode, notifyEmailNode], flow({}, { to: 'shape@example.com' }), CREDENTIALS);
    const node = helper.getNode('mailer');
    const failed = new Promise<Error>((resolve) => node.once('call:error', (call: { args: [Error] }) => resolve(call.args[0])));
    node.receive({ alert: { ...sampleAlert(), sent: 'yesterday' } });
    expect((await failed).message).toBe('msg.alert.sent: expected milliseconds since the epoch, got "yesterday" (an alert from a cap-alert node)');
    expect(statusesOf('mailer').at(-1)).toMatchObject({ fill: 'red', text: expect.stringContaining('msg.alert.sent: expected milliseconds since the epoch') });
    const delivered = resultFor('shape@example.com', 'delivered');
    node.receive({ alert: sampleAlert() });
    await delivered;
    expect(statusesOf('mailer').at(-1)).toMatchObject({ fill: 'green', text: expect.stringContaining('sent to shape@example.com') });
  });

  it('without an SMTP server, recipients or a host it says "not configured" without logging an error; an alert arriving anyway fails with the reason', async () => {
    await helper.load(
      [glimpserSmtpNode, notifyEmailNode],
      [
        { id: 'blank', type: 'glimpser-smtp' },
        { id: 'mailer', type: 'notify-email', to: 'ops@example.com', wires: [] },
        { id: 'nohost', type: 'notify-email', smtp: 'blank', to: 'ops@example.com', wires: [] },
        { id: 'nofrom', type: 'glimpser-smtp', host: 'smtp.example.com' },
        { id: 'nosender', type: 'notify-email', smtp: 'nofrom', to: 'ops@example.com', wires: [] },
        { id: 'ready', type: 'glimpser-smtp', host: 'smtp.example.com', from: 'alerts@example.com' },
        { id: 'nobody', type: 'notify-email', smtp: 'ready', wires: [] },
      ],
    );
    expect(statusesOf('mailer').at(-1)).toMatchObject({ fill: 'blue', text: 'not configured: pick an SMTP server' });
    expect(statusesOf('nohost').at(-1)).toMatchObject({ text: 'not configured: the SMTP server has no host' });
    expect(statusesOf('nosender').at(-1)).toMatchObject({ text: 'not configured: the SMTP server has no from address' });
    expect(statusesOf('nobody').at(-1)).toMatchObject({ text: 'not configured: no recipients' });
    expect(loggedErrors()).toEqual([]);
    const node = helper.getNode('mailer');
    const failed = new Promise<Error>((resolve) => node.once('call:error', (call: { args: [Error] }) => resolve(call.args[0])));
    node.receive({ alert: sampleAlert() });
    expect((await failed).message).toBe('notify-email is not configured: no glimpser-smtp server chosen: pick one in the "smtp" setting');
  });

  it('a wrong SMTP setting is logged naming it, and the notifier using that server stops with the same message', async () => {
    await helper.load([glimpserSmtpNode, notifyEmailNode], flow({ host: 'smtp.example.com', security: 'none' }), CREDENTIALS);
    expect(loggedErrors('smtp')).toEqual([expect.stringMatching(/^SMTP server "loopback": glimpser-smtp setting "security" is "none" for smtp\.example\.com/)]);
    expect(loggedErrors('mailer')).toEqual([expect.stringMatching(/^smtp: glimpser-smtp setting "security" is "none"/)]);
    expect(statusesOf('mailer').at(-1)).toMatchObject({ fill: 'red' });
  });
});
