import { createECDH } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeliveryError, type Delivery, type DeliveryJob, type StoredAlert } from '../../core/alerts';
import { createPushChannel, MAX_PUSH_PLAINTEXT, pushPayload, retryAfterMs, topicOf, urgencyOf, type PushPayload } from '../../core/alerts/channels/push';
import { PushSubscriptionStore } from '../../core/alerts/push-subscriptions';
import { checkVapidSubject, generateVapidKeys } from '../../core/alerts/vapid';
import { decryptContent, decryptPush, startPushService, verifyVapid, type PushService } from '../support/push-service';

const VECTORS = path.resolve(__dirname, '../../../shared/testdata/webpush');
const json = (name: string) => JSON.parse(readFileSync(path.join(VECTORS, name), 'utf8')) as Record<string, unknown>;
const b64u = (text: string) => Buffer.from(text, 'base64url');

interface EcecCase {
  desc: string;
  plaintext?: string;
  recvPrivKey?: string;
  authSecret?: string;
  ikm?: string;
  payload: string;
}

function receiverOf(privateHex: string) {
  const receiver = createECDH('prime256v1');
  receiver.setPrivateKey(Buffer.from(privateHex, 'hex'));
  return receiver;
}

describe('the loopback push service decrypts and verifies per the RFCs', () => {
  const rfc = json('rfc8291_rfc8292_vectors.json') as {
    rfc8291: { plaintext_utf8: string; ua_private: string; auth_secret: string; http_body_b64u: string };
    rfc8292: { authorization_header: string; jwt_claims: { aud: string; exp: number } };
  };
  const ecec = json('ecec_decrypt_aes128gcm_vectors.json') as Record<string, EcecCase[]>;

  it('decrypts the RFC 8291 Appendix A message to its plaintext', () => {
    const receiver = createECDH('prime256v1');
    receiver.setPrivateKey(b64u(rfc.rfc8291.ua_private));
    const plaintext = decryptPush(b64u(rfc.rfc8291.http_body_b64u), receiver, b64u(rfc.rfc8291.auth_secret));
    expect(plaintext.toString('utf8')).toBe(rfc.rfc8291.plaintext_utf8);
  });

  it.each(ecec.webpush_aes128gcm_decrypt_ok_tests.map((c) => [c.desc, c] as const))('decrypts ecec web push case "%s"', (_desc, c) => {
    const plaintext = decryptPush(Buffer.from(c.payload, 'hex'), receiverOf(c.recvPrivKey!), Buffer.from(c.authSecret!, 'hex'));
    expect(plaintext.toString('utf8')).toBe(c.plaintext);
  });

  it.each(ecec.webpush_aes128gcm_err_decrypt_tests.map((c) => [c.desc, c] as const))('refuses malformed ecec web push case "%s"', (_desc, c) => {
    expect(() => decryptPush(Buffer.from(c.payload, 'hex'), receiverOf(c.recvPrivKey!), Buffer.from(c.authSecret!, 'hex'))).toThrow();
  });

  it.each(ecec.aes128gcm_ok_decrypt_tests.map((c) => [c.desc, c] as const))('decrypts RFC 8188 case "%s"', (_desc, c) => {
    expect(decryptContent(Buffer.from(c.payload, 'hex'), () => Buffer.from(c.ikm!, 'hex')).toString('utf8')).toBe(c.plaintext);
  });

  it.each(ecec.aes128gcm_err_decrypt_tests.map((c) => [c.desc, c] as const))('refuses malformed RFC 8188 case "%s"', (_desc, c) => {
    expect(() => decryptContent(Buffer.from(c.payload, 'hex'), () => Buffer.from(c.ikm!, 'hex'))).toThrow();
  });

  it('verifies the RFC 8292 §2.4 VAPID authorization and refuses it for another origin or after exp', () => {
    const { claims } = verifyVapid(rfc.rfc8292.authorization_header, rfc.rfc8292.jwt_claims.aud, rfc.rfc8292.jwt_claims.exp - 3600);
    expect(claims.sub).toBe('mailto:push@example.com');
    expect(() => verifyVapid(rfc.rfc8292.authorization_header, 'https://other.example', rfc.rfc8292.jwt_claims.exp - 3600)).toThrow(/aud/);
    expect(() => verifyVapid(rfc.rfc8292.authorization_header, rfc.rfc8292.jwt_claims.aud, rfc.rfc8292.jwt_claims.exp + 1)).toThrow(/exp/);
    const tampered = rfc.rfc8292.authorization_header.replace(/k=BA1/, 'k=BA2');
    expect(() => verifyVapid(tampered, rfc.rfc8292.jwt_claims.aud, rfc.rfc8292.jwt_claims.exp - 3600)).toThrow();
  });
});

describe('VAPID subject (RFC 8292 §2.1; Apple refuses anything but a reachable mailto:/https: contact)', () => {
  it.each(['mailto:alerts@glimpser.dev', 'https://cameras.glimpser.dev/contact'])('accepts %s', (subject) => {
    expect(checkVapidSubject(subject)).toBe(subject);
  });
  it.each([
    ['', /empty/],
    ['alerts@glimpser.dev', /not a URL/],
    ['mailto:alerts', /not a real mail address/],
    ['mailto:someone@localhost', /not a real mail address|reserved/],
    ['https://localhost', /no public host/],
    ['http://glimpser.dev', /uses http:/],
  ])('refuses %j naming what was expected', (subject, reason) => {
    expect(() => checkVapidSubject(subject)).toThrow(reason);
    expect(() => checkVapidSubject(subject)).toThrow(/mailto:.*https:/);
  });
});

const alert: StoredAlert = {
  id: '01JALERT0000000000000000AA',
  identifier: 'glimpser-porch-1',
  msgType: 'Alert',
  references: null,
  eventId: 'evt-1',
  camera: 'porch',
  sent: Date.UTC(2026, 11, 7, 20, 0, 0),
  headline: 'Person at the porch',
  description: 'A person in a red coat stands at the door.',
  severity: 'Severe',
  capXml: '<alert/>',
  snapshot: null,
  snapshotMissing: null,
};

function deliveryTo(target: string): Delivery {
  return {
    id: 'd1',
    alertId: alert.id,
    channel: 'push',
    notifier: 'n1',
    target,
    idempotencyKey: `${alert.id}:${target}`,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: 0,
    leaseUntil: null,
    lastError: null,
    createdAt: 0,
    deliveredAt: null,
  };
}

const jobFor = (target: string, over: Partial<StoredAlert> = {}): DeliveryJob => ({
  alert: { ...alert, ...over },
  delivery: deliveryTo(target),
  snapshot: null,
  signal: new AbortController().signal,
});

describe('push channel through the real web-push library', () => {
  let service: PushService;
  let dir: string;
  beforeAll(async () => {
    service = await startPushService();
  });
  afterAll(() => service.close());
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'glimpser-push-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function setUp(subject = 'mailto:alerts@glimpser.dev') {
    const store = new PushSubscriptionStore(path.join(dir, 'push-subscriptions.json'));
    const browser = service.subscribe();
    const record = store.add({ endpoint: browser.endpoint, keys: browser.keys, tags: [], user: 'admin' });
    const keys = generateVapidKeys();
    const channel = createPushChannel({ subscriptions: store, keys, subject, ttl: 600, agent: service.agent });
    return { store, record, keys, channel };
  }

  it('delivers an encrypted payload the browser decrypts, with VAPID, TTL, urgency and topic', async () => {
    const { record, keys, channel } = setUp();
    await expect(channel.send(jobFor(record.id))).resolves.toEqual({ statusCode: 201 });
    const push = await service.nextPush();
    expect(JSON.parse(push.plaintext)).toEqual({
      title: 'Person at the porch',
      body: 'A person in a red coat stands at the door.',
      camera: 'porch',
      alertId: alert.id,
      eventId: 'evt-1',
      time: '2026-12-07T20:00:00.000Z',
    } satisfies PushPayload);
    expect(push.vapidKey).toBe(keys.publicKey);
    expect(push.claims).toMatchObject({ aud: service.origin, sub: 'mailto:alerts@glimpser.dev' });
    expect(push.headers).toMatchObject({ ttl: '600', urgency: 'high', topic: topicOf('porch') });
    expect(channel.hostOf(deliveryTo(record.id))).toBe(new URL(service.origin).host);
  });

  it('bounds a long description so the message fits the 4096-byte push limit, and still decrypts', async () => {
    const { record, channel } = setUp();
    await channel.send(jobFor(record.id, { description: 'é"'.repeat(5000) }));
    const push = await service.nextPush();
    expect(Buffer.byteLength(push.plaintext)).toBeLessThanOrEqual(MAX_PUSH_PLAINTEXT);
    expect((JSON.parse(push.plaintext) as PushPayload).body).toMatch(/^(é")+é?…$/);
  });

  it('410 Gone deletes the subscription and fails permanently (RFC 8030 §7.3)', async () => {
    const { store, record, channel } = setUp();
    service.answerNext(410);
    const error = await channel.send(jobFor(record.id)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ permanent: true, statusCode: 410 });
    expect(store.get(record.id)).toBeNull();
    expect(JSON.parse(readFileSync(path.join(dir, 'push-subscriptions.json'), 'utf8'))).toEqual({ version: 1, subscriptions: [] });
    await expect(channel.send(jobFor(record.id))).rejects.toMatchObject({ permanent: true, message: expect.stringMatching(/no longer exists/) });
  });

  it('404 deletes the subscription too; 413 is permanent and keeps it', async () => {
    const { store, record, channel } = setUp();
    service.answerNext(413);
    await expect(channel.send(jobFor(record.id))).rejects.toMatchObject({ permanent: true, statusCode: 413 });
    expect(store.get(record.id)).not.toBeNull();
    service.answerNext(404);
    await expect(channel.send(jobFor(record.id))).rejects.toMatchObject({ permanent: true, statusCode: 404 });
    expect(store.get(record.id)).toBeNull();
  });

  it('429 is retried after Retry-After; 5xx is retried', async () => {
    const { store, record, channel } = setUp();
    service.answerNext(429, { 'retry-after': '120' });
    await expect(channel.send(jobFor(record.id))).rejects.toMatchObject({ permanent: false, statusCode: 429, retryAfterMs: 120_000 });
    service.answerNext(503);
    await expect(channel.send(jobFor(record.id))).rejects.toMatchObject({ permanent: false, statusCode: 503 });
    expect(store.get(record.id)).not.toBeNull();
  });

  it('refuses a bad VAPID subject permanently without contacting the push service', async () => {
    const { record, channel } = setUp('mailto:nobody');
    const rejectedBefore = service.rejected.length;
    await expect(channel.send(jobFor(record.id))).rejects.toMatchObject({ permanent: true, message: expect.stringMatching(/VAPID subject "mailto:nobody"/) });
    expect(service.rejected.length).toBe(rejectedBefore);
  });

  it('keeps subscriptions in a 0600 file that a new store reads back', () => {
    const { store, record } = setUp();
    const file = path.join(dir, 'push-subscriptions.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(new PushSubscriptionStore(file).get(record.id)).toEqual(store.get(record.id));
  });
});

describe('push message headers', () => {
  it('maps CAP severity to urgency', () => {
    expect(['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'].map(urgencyOf)).toEqual(['high', 'high', 'normal', 'low', 'normal']);
  });
  it('builds a topic of at most 32 base64url characters per camera', () => {
    expect(topicOf('a-very-long-camera-identifier-over-32-chars')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(topicOf('porch')).not.toBe(topicOf('garden'));
  });
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('30')).toBe(30_000);
    expect(retryAfterMs('Mon, 07 Dec 2026 20:01:00 GMT', Date.UTC(2026, 11, 7, 20, 0, 0))).toBe(60_000);
    expect(retryAfterMs(undefined)).toBeNull();
  });
  it('keeps a short payload whole', () => {
    expect(JSON.parse(pushPayload(alert))).toMatchObject({ title: alert.headline, body: alert.description });
  });
});
