import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { DeliveryError, type Delivery, type DeliveryJob, type StoredAlert } from '../../core/alerts';
import { httpStatusError, isRetryableStatus } from '../../core/alerts/channels/http';
import {
  checkAuthorization,
  generateWebhookSecret,
  parseWebhookHeaders,
  signWebhook,
  WebhookChannel,
  type WebhookSettings,
} from '../../core/alerts/channels/webhook';
import { BlockedAddressError, guardedLookup, webhookKey } from '../../core/alerts/channels/webhook-request';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * The webhook channel against a real loopback receiver that verifies with the `standardwebhooks` package
 * (Standard Webhooks: "Signature scheme", "Idempotency"), sending one delivery at a time as the worker would.
 */
const secret = generateWebhookSecret();
const CAP = '<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>glimpser-a1</identifier></alert>';
let alerts = 0;

/** A stored alert as cap-alert makes one (the channel reads it, nothing checks the XML here). */
function sampleAlert(overrides: Partial<StoredAlert> = {}): StoredAlert {
  const id = `01JALERT${String(++alerts).padStart(4, '0')}`;
  const sent = Date.UTC(2026, 11, 7, 20, 0, alerts);
  return {
    id,
    identifier: `glimpser-${id}`,
    msgType: 'Alert',
    references: null,
    eventId: null,
    camera: 'porch',
    sent,
    headline: 'Motion at porch',
    description: 'Someone walked up to the door.',
    severity: 'Minor',
    capXml: CAP,
    snapshot: null,
    snapshotMissing: null,
    ...overrides,
  };
}
let receiver: WebhookReceiver;
const channels: WebhookChannel[] = [];

function channel(settings: Partial<WebhookSettings> = {}): WebhookChannel {
  const made = new WebhookChannel({ format: 'json', includeSnapshot: false, publicUrl: '', headers: {}, allowHosts: [], secret, ...settings });
  channels.push(made);
  return made;
}

function job(target: string, alert: StoredAlert = sampleAlert(), extra: Partial<DeliveryJob> = {}): DeliveryJob {
  const delivery: Delivery = {
    id: `d-${alert.id}`,
    alertId: alert.id,
    channel: 'webhook',
    notifier: 'hook1',
    target,
    idempotencyKey: `${alert.id}.hook1.0`,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: 0,
    leaseUntil: null,
    lastError: null,
    createdAt: Date.now(),
    deliveredAt: null,
  };
  return { alert, delivery, snapshot: null, signal: new AbortController().signal, ...extra };
}

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

beforeAll(async () => {
  receiver = await WebhookReceiver.start(secret);
});

afterEach(() => {
  receiver.answer({ status: 200 });
  for (const made of channels.splice(0)) made.close();
});

afterAll(async () => {
  await receiver.close();
});

describe('webhook channel: delivery', () => {
  it('POSTs the alert summary as JSON, signed so that standardwebhooks verifies it, with webhook-id = the idempotency key', async () => {
    const alert = sampleAlert({ eventId: 'evt-1', references: 'glimpser@example.org,glimpser-x,2026-01-01T00:00:00+00:00' });
    const arriving = receiver.next();
    await expect(channel({ headers: { 'x-team': 'night shift' }, authorization: 'Bearer t0ken' }).send(job(receiver.url, alert))).resolves.toEqual({
      statusCode: 200,
    });
    const hook = await arriving;
    expect(hook.id).toBe(`${alert.id}.hook1.0`);
    expect(hook.contentType).toBe('application/json');
    expect(hook.headers['x-team']).toBe('night shift');
    expect(hook.headers.authorization).toBe('Bearer t0ken');
    expect(new Webhook(secret).verify(hook.body, hook.headers as Record<string, string>)).toEqual({
      type: 'alert.alert',
      timestamp: new Date(alert.sent).toISOString(),
      data: {
        id: alert.id,
        identifier: alert.identifier,
        msgType: 'Alert',
        camera: 'porch',
        eventId: 'evt-1',
        sent: new Date(alert.sent).toISOString(),
        headline: alert.headline,
        description: alert.description,
        severity: 'Minor',
        references: alert.references,
        snapshot: null,
        snapshotMissing: null,
      },
    });
  });

  it('sends the CAP XML as application/cap+xml when the format is cap', async () => {
    const alert = sampleAlert();
    const arriving = receiver.next();
    await channel({ format: 'cap' }).send(job(receiver.url, alert));
    const hook = await arriving;
    expect(hook.contentType).toBe('application/cap+xml; charset=utf-8');
    expect(hook.body.toString('utf8')).toBe(alert.capXml);
  });

  it("links the snapshot on Glimpser's public address and, when asked, carries its bytes inline in base64", async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
    const alert = sampleAlert({ eventId: 'evt-2', snapshot: { path: 'snapshots/evt-2.jpg', bytes: jpeg.length } });
    const arriving = receiver.next();
    await channel({ includeSnapshot: true, publicUrl: 'https://glimpser.example.org/' }).send(job(receiver.url, alert, { snapshot: jpeg }));
    const { data } = JSON.parse((await arriving).body.toString('utf8')) as { data: { snapshot: Record<string, unknown> } };
    expect(data.snapshot).toEqual({
      url: 'https://glimpser.example.org/api/events/evt-2/snapshot.jpg',
      mimeType: 'image/jpeg',
      bytes: 9,
      data: jpeg.toString('base64'),
    });
  });

  it('sends the same webhook-id on a retry, so the receiver keeps one copy [Standard Webhooks: idempotency]', async () => {
    const again = job(receiver.url);
    const before = receiver.received.length;
    await channel().send(again);
    await channel().send(again);
    expect(receiver.received.length - before).toBe(1);
    expect(receiver.duplicates).toBeGreaterThanOrEqual(1);
    expect(receiver.rejected).toEqual([]);
  });

  it('signs as the spec defines it: v1, base64 HMAC-SHA256 of "id.timestamp.body"', () => {
    const key = webhookKey(secret);
    const body = Buffer.from('{"a":1}');
    expect(signWebhook(key, 'msg_1', 1700000000, body)).toBe(new Webhook(secret).sign('msg_1', new Date(1700000000 * 1000), body));
  });
});

describe('webhook channel: failures are classified', () => {
  it('retries a 500, naming the status and what the receiver said', async () => {
    receiver.answer({ status: 500 });
    const err = await failure(channel().send(job(receiver.url)));
    expect(err).toMatchObject({
      permanent: false,
      statusCode: 500,
      message: 'the webhook receiver answered HTTP 500 Internal Server Error: receiver says 500',
    });
  });

  it('retries a 429 after the Retry-After it asked for', async () => {
    receiver.answer({ status: 429, retryAfter: '7' });
    expect(await failure(channel().send(job(receiver.url)))).toMatchObject({ permanent: false, statusCode: 429, retryAfterMs: 7000 });
  });

  it('gives up at once on a 410 (the endpoint is gone)', async () => {
    receiver.answer({ status: 410 });
    expect(await failure(channel().send(job(receiver.url)))).toMatchObject({ permanent: true, statusCode: 410 });
  });

  it('retries when the receiver is down', async () => {
    await receiver.down();
    try {
      const err = await failure(channel().send(job(receiver.url)));
      expect(err.permanent).toBe(false);
      expect(err.message).toMatch(/^the webhook receiver could not be reached: .*ECONNREFUSED/);
    } finally {
      await receiver.up();
    }
  });

  it('abandons a request when the job is aborted (the worker deadline) and retries it later', async () => {
    const silent = http.createServer(() => {});
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const controller = new AbortController();
    silent.once('request', () => controller.abort(new DOMException('deadline', 'TimeoutError')));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
      expect(await failure(channel().send(job(url, sampleAlert(), { signal: controller.signal })))).toMatchObject({ permanent: false });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it.each([
    [408, false],
    [429, false],
    [503, false],
    [400, true],
    [401, true],
    [404, true],
    [301, true],
  ])('HTTP %i: permanent=%s (4xx permanent except 408/429; redirects not followed)', (status, permanent) => {
    expect(isRetryableStatus(status)).toBe(!permanent);
    expect(httpStatusError(status, { location: 'https://elsewhere.example/' }, 'the webhook receiver')).toMatchObject({ permanent, statusCode: status });
  });

  it('says where a redirect pointed and that it was not followed', () => {
    expect(httpStatusError(308, { location: 'http://169.254.169.254/' }, 'the webhook receiver')?.message).toBe(
      'the webhook receiver answered HTTP 308 Permanent Redirect to http://169.254.169.254/: redirects are not followed, set the URL to where it points',
    );
  });
});

describe('webhook channel: the URL policy guards targets', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254, a link-local address/],
    ['http://metadata.google.internal/computeMetadata/v1/', /a cloud metadata service/],
    ['http://[fe80::1]/hook', /a link-local address \(fe80::\/10\)/],
    ['file:///etc/passwd', /only http:\/\/ and https:\/\//],
    ['not a url', /is not a valid URL/],
    ['', /has no URL/],
  ])('refuses %s permanently, before any connection', async (url, reason) => {
    const before = receiver.requests;
    const err = await failure(channel().send(job(url)));
    expect(err.permanent).toBe(true);
    expect(err.message).toMatch(reason);
    expect(receiver.requests).toBe(before);
  });

  it('refuses, when connecting, a name whose address is blocked (no window between the check and the connection)', async () => {
    const lookup = guardedLookup('url');
    const err = await new Promise<Error | null>((resolve) => lookup('169.254.169.254', { all: true }, (e) => resolve(e)));
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect(err?.message).toBe(
      'url: 169.254.169.254 resolves to 169.254.169.254, a link-local address (169.254.0.0/16, where cloud metadata services live); add it to the allow-list if you really mean it',
    );
    const ok = await new Promise<unknown>((resolve) => lookup('127.0.0.1', {}, (e, address, family) => resolve([e, address, family])));
    expect(ok).toEqual([null, '127.0.0.1', 4]);
  });

  it('retries a host name that does not resolve (DNS may come back)', async () => {
    expect((await failure(channel().send(job('http://glimpser-receiver.invalid/hook')))).permanent).toBe(false);
  });

  it('lets a host through that the allow-list names', async () => {
    const arriving = receiver.next();
    await channel({ allowHosts: ['127.0.0.1'] }).send(job(receiver.url));
    await expect(arriving).resolves.toMatchObject({ contentType: 'application/json' });
  });
});

describe('webhook settings', () => {
  it('generates secrets as whsec_ and 32 random bytes, and refuses a malformed one without showing it', () => {
    const made = generateWebhookSecret();
    expect(made).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(made).not.toBe(generateWebhookSecret());
    expect(() => channel({ secret: 'whsec_c2hvcnQ=' })).toThrow('secret: expected "whsec_" followed by 24 to 64 bytes in base64');
    expect(() => channel({ secret: 'whsec_c2hvcnQ=' })).not.toThrow(/c2hvcnQ/);
  });

  it('reads custom headers, one "Name: value" a line', () => {
    expect(parseWebhookHeaders('X-Team: night shift\r\n\nX-Env:prod')).toEqual({ 'x-team': 'night shift', 'x-env': 'prod' });
  });

  it.each([
    ['X-A: b\rX-Evil: c', 'headers line 1: the value of X-A must be at most 1024 printable ASCII characters, without line breaks'],
    ['X-A: b\u0000', 'headers line 1: the value of X-A must be'],
    ['X Evil: c', 'headers line 1: "X Evil" is not a header name'],
    ['no colon', 'headers line 1: expected "Name: value", got "no colon"'],
    ['X-A: 1\nwebhook-signature: v1,forged', 'headers line 2: webhook-signature is written by Glimpser itself and cannot be set'],
    ['Webhook-Id: other', 'headers line 1: Webhook-Id is written by Glimpser itself'],
    ['Content-Length: 1', 'headers line 1: Content-Length is written by Glimpser itself'],
    ['Authorization: Bearer x', 'headers line 1: Authorization would keep a secret in the flow file; put it in the Authorization credential'],
    ['X-A: 1\nx-a: 2', 'headers line 2: x-a is set twice'],
  ])('refuses header injection and overrides: %j', (text, message) => {
    expect(() => parseWebhookHeaders(text)).toThrow(message);
  });

  it('refuses an Authorization credential with a line break', () => {
    expect(() => checkAuthorization('Bearer x\r\nX-Evil: 1')).toThrow('authorization: expected printable ASCII without line breaks');
    expect(checkAuthorization('Bearer x')).toBe('Bearer x');
  });
});
