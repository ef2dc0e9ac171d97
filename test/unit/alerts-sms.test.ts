import { DeliveryError, type Delivery, type DeliveryJob, type StoredAlert } from '../../core/alerts';
import { checkApiBaseUrl, retryAfterMs, SmsChannel, smsText, trimText, TwilioAccount, type SmsSettings } from '../../core/alerts/channels/sms';
import { MediaLinks } from '../../core/alerts/media-links';
import { INVALID_NUMBER, NOT_MOBILE, REGION_DISABLED, SERVER_ERROR, TOO_MANY, TwilioServer, UNSUBSCRIBED, type TwilioReply } from '../support/twilio-server';

const ACCOUNT = { accountSid: `AC${'a1'.repeat(16)}`, authToken: 'token-for-tests', apiKeys: { [`SK${'b2'.repeat(16)}`]: 'key-secret' } };
const SERVICE = `MG${'c3'.repeat(16)}`;

const alert: StoredAlert = {
  id: '01J0000000000000000000000A',
  identifier: 'glimpser-porch-1',
  msgType: 'Alert',
  references: null,
  eventId: 'ev-42',
  camera: 'porch',
  sent: Date.parse('2024-05-06T12:30:00Z'),
  headline: 'Person at the front door',
  description: 'One adult carrying a parcel.',
  severity: 'Moderate',
  capXml: '<alert/>',
  snapshot: { path: 'snapshots/ev-42.jpg', bytes: 1234 },
  snapshotMissing: null,
};

const delivery = (target: string): Delivery => ({
  id: 'd1',
  alertId: alert.id,
  channel: 'sms',
  notifier: 'sms-node',
  target,
  idempotencyKey: `${alert.id}:sms-node:${target}`,
  status: 'pending',
  attempts: 0,
  nextAttemptAt: 0,
  leaseUntil: null,
  lastError: null,
  createdAt: 0,
  deliveredAt: null,
});

const job = (target = '+15005550006', overrides: Partial<StoredAlert> = {}): DeliveryJob => ({
  alert: { ...alert, ...overrides },
  delivery: delivery(target),
  snapshot: null,
  signal: new AbortController().signal,
});

const SETTINGS: SmsSettings = {
  from: '+15005550000',
  messagingServiceSid: '',
  template: '{{severity}}: {{headline}} on {{camera}} at {{time}}',
  maxLength: 160,
  mediaBaseUrl: null,
};

describe('SMS channel through the real twilio SDK, against a loopback Twilio', () => {
  let server: TwilioServer;
  let account: TwilioAccount;

  beforeEach(async () => {
    server = await TwilioServer.start(ACCOUNT);
    account = new TwilioAccount({ accountSid: ACCOUNT.accountSid, authToken: ACCOUNT.authToken, apiBaseUrl: server.baseUrl });
  });

  afterEach(async () => {
    await server.close();
  });

  it('POSTs a form-encoded Messages.json with Basic auth, From, To and the filled-in template', async () => {
    const result = await new SmsChannel(account, SETTINGS).send(job());
    expect(result).toEqual({ statusCode: 201 });
    const [received] = server.received;
    expect(received).toMatchObject({
      accountSid: ACCOUNT.accountSid,
      username: ACCOUNT.accountSid,
      password: ACCOUNT.authToken,
      contentType: 'application/x-www-form-urlencoded',
      To: '+15005550006',
      From: '+15005550000',
      MessagingServiceSid: undefined,
      Body: 'Moderate: Person at the front door on porch at 2024-05-06 12:30 UTC',
      MediaUrl: [],
    });
    expect(received.userAgent).toMatch(/^twilio-node\//);
  });

  it('sends through a messaging service instead of a from-number, and authenticates with an API key', async () => {
    const keyed = new TwilioAccount({
      accountSid: ACCOUNT.accountSid,
      apiKeySid: `SK${'b2'.repeat(16)}`,
      apiKeySecret: 'key-secret',
      apiBaseUrl: server.baseUrl,
    });
    await new SmsChannel(keyed, { ...SETTINGS, from: '', messagingServiceSid: SERVICE }).send(job());
    expect(server.received[0]).toMatchObject({ username: `SK${'b2'.repeat(16)}`, MessagingServiceSid: SERVICE, From: undefined });
  });

  it('trims the text to the configured length in code points, ending with an ellipsis, never splitting an emoji', async () => {
    const long = { headline: `🚨 ${'intruder '.repeat(40)}` };
    await new SmsChannel(account, { ...SETTINGS, template: '{{headline}}', maxLength: 20 }).send(job('+15005550006', long));
    const body = server.received[0].Body;
    expect([...body]).toHaveLength(20);
    expect(body.startsWith('🚨 intruder')).toBe(true);
    expect(body.endsWith('…')).toBe(true);
    expect(trimText('🚨🚨🚨', 2)).toBe('🚨…');
    expect(trimText('short', 10)).toBe('short');
  });

  it('adds a signed, expiring link to the snapshot as MediaUrl when a public base URL is configured and the alert has a snapshot', async () => {
    const links = new MediaLinks('k'.repeat(64), 3_600_000, () => Date.parse('2024-05-06T12:30:00Z'));
    const channel = new SmsChannel(account, { ...SETTINGS, mediaBaseUrl: 'https://glimpser.example.org/', links });
    await channel.send(job());
    await channel.send(job('+15005550006', { snapshot: null }));
    const [[url], none] = server.received.map((r) => r.MediaUrl);
    expect(url).toMatch(/^https:\/\/glimpser\.example\.org\/api\/media\/events\/ev-42\/snapshot\.jpg\?expires=1715002200&sig=[\w-]{43}$/);
    expect(links.check('ev-42', 1715002200, new URL(url).searchParams.get('sig')!)).toBe('ok');
    expect(none).toEqual([]);
    // Without a way to sign (a plain Node-RED), no link Twilio could not open: the message goes as text.
    await new SmsChannel(account, { ...SETTINGS, mediaBaseUrl: 'https://glimpser.example.org/' }).send(job());
    expect(server.received.at(-1)!.MediaUrl).toEqual([]);
  });

  it('leaves placeholders that are not alert fields as written', () => {
    expect(smsText('{{camera}} {{nope}}', alert)).toBe('porch {{nope}}');
  });

  it.each<[string, TwilioReply, RegExp]>([
    ['21211 invalid number', INVALID_NUMBER, /error 21211\): The 'To' number \+15005550001 is not a valid phone number/],
    ['21610 unsubscribed', UNSUBSCRIBED, /error 21610\): Attempt to send to unsubscribed recipient/],
    ['21614 not a mobile', NOT_MOBILE, /error 21614\)/],
    ['21408 region not enabled', REGION_DISABLED, /error 21408\)/],
  ])('classifies Twilio %s as permanent, naming the number and the code', async (_name, reply, message) => {
    server.script(reply);
    const error = await new SmsChannel(account, SETTINGS).send(job('+15005550001')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ permanent: true, statusCode: 400, message: expect.stringMatching(message) });
    expect((error as Error).message).toContain('+15005550001');
  });

  it('classifies refused credentials (20003) as permanent with a message that says what to check, and never shows the token', async () => {
    const wrong = new TwilioAccount({ accountSid: ACCOUNT.accountSid, authToken: 'not-the-token', apiBaseUrl: server.baseUrl });
    const error = (await new SmsChannel(wrong, SETTINGS).send(job()).catch((e: unknown) => e)) as DeliveryError;
    expect(error).toMatchObject({ permanent: true, statusCode: 401 });
    expect(error.message).toBe('Twilio refused the credentials (error 20003): check the account SID and auth token or API key in the glimpser-twilio node');
    expect(error.message).not.toContain('not-the-token');
  });

  it('retries a 429 after the Retry-After the server sent, in seconds or as an HTTP date', async () => {
    server.script(TOO_MANY('17'), TOO_MANY(new Date(Date.now() + 60_000).toUTCString()));
    const channel = new SmsChannel(account, SETTINGS);
    const seconds = (await channel.send(job()).catch((e: unknown) => e)) as DeliveryError;
    expect(seconds).toMatchObject({ permanent: false, statusCode: 429, retryAfterMs: 17000 });
    const date = (await channel.send(job()).catch((e: unknown) => e)) as DeliveryError;
    expect(date).toMatchObject({ permanent: false, statusCode: 429 });
    expect(date.retryAfterMs).toBeGreaterThan(0);
    expect(date.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('keeps each concurrent send its own Retry-After', async () => {
    server.script(TOO_MANY('5'), { kind: 'accept' }, TOO_MANY('9'));
    const channel = new SmsChannel(account, SETTINGS);
    const results = await Promise.allSettled([channel.send(job('+15005550006')), channel.send(job('+15005550007')), channel.send(job('+15005550008'))]);
    const delays = results.map((r) => (r.status === 'rejected' ? (r.reason as DeliveryError).retryAfterMs : 'sent'));
    expect(delays.filter((d) => d === 'sent')).toHaveLength(1);
    expect(delays.filter((d) => d !== 'sent').sort()).toEqual([5000, 9000]);
  });

  it('retries a 5xx and a lost connection', async () => {
    server.script(SERVER_ERROR, { kind: 'hang-up' });
    const channel = new SmsChannel(account, SETTINGS);
    expect(await channel.send(job()).catch((e: unknown) => e)).toMatchObject({ permanent: false, statusCode: 503 });
    expect(await channel.send(job()).catch((e: unknown) => e)).toMatchObject({ permanent: false, statusCode: null, message: /Twilio could not be reached/ });
  });

  it('retries when nothing listens on the configured address', async () => {
    await server.close();
    const error = await new SmsChannel(account, SETTINGS).send(job()).catch((e: unknown) => e);
    expect(error).toMatchObject({ permanent: false, statusCode: null, message: expect.stringContaining('ECONNREFUSED') });
    server = await TwilioServer.start(ACCOUNT);
  });

  it('names the API host for the breaker', () => {
    expect(new SmsChannel(account, SETTINGS).hostOf(delivery('+15005550006'))).toBe(new URL(server.baseUrl).host);
  });
});

describe('Twilio API base URL and Retry-After', () => {
  it('takes https anywhere and plain http only on loopback', () => {
    expect(checkApiBaseUrl('https://api.twilio.com').host).toBe('api.twilio.com');
    expect(checkApiBaseUrl('http://127.0.0.1:8080').port).toBe('8080');
    expect(() => checkApiBaseUrl('http://api.example.org')).toThrow(
      'Twilio API base URL "http://api.example.org" must be https (plain http only for 127.0.0.1, [::1] or localhost)',
    );
    expect(() => checkApiBaseUrl('twilio')).toThrow('Twilio API base URL "twilio" is not a URL: expected e.g. https://api.twilio.com');
  });

  it('reads Retry-After as seconds or a date, and nothing from an unreadable one', () => {
    expect(retryAfterMs('2.5')).toBe(2500);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT'))).toBe(60000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(undefined)).toBeNull();
  });
});
