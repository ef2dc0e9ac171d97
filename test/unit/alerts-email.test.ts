import sharp from 'sharp';
import { parseCap, serializeCap } from '../../core/alerts/cap';
import {
  DEFAULT_EMAIL_TEMPLATES,
  EmailChannel,
  SmtpMailer,
  classifySmtpError,
  isLoopbackHost,
  mailboxAddress,
  type SmtpSettings,
} from '../../core/alerts/channels/email';
import type { EmailContent } from '../../core/alerts/channels/email-message';
import { DeliveryError, type Delivery, type DeliveryJob, type StoredAlert } from '../../core/alerts';
import { SMTP_PASSWORD, SMTP_USER, TestSmtpServer } from '../support/smtp-server';
import { freePort } from '../support/tools';

/** The email channel against a real SMTP server on loopback (STARTTLS, self-signed certificate, authentication). */

const SENT = Date.parse('2024-05-06T12:30:00Z');

function testAlert(overrides: Partial<StoredAlert> = {}): StoredAlert {
  const headline = overrides.headline ?? 'Person at the <gate> & "door"';
  const capXml = serializeCap({
    identifier: 'glimpser-01HX-test',
    sender: 'glimpser@example.com',
    sent: '2024-05-06T12:30:00+00:00',
    status: 'Actual',
    msgType: 'Alert',
    scope: 'Public',
    info: [{ category: ['Security'], event: 'Motion', urgency: 'Immediate', severity: 'Moderate', certainty: 'Observed', headline }],
  });
  return {
    id: '01HXALERT0000000000000000',
    identifier: 'glimpser-01HX-test',
    msgType: 'Alert',
    references: null,
    eventId: 'ev-1',
    camera: 'porch',
    sent: SENT,
    headline,
    description: 'Someone walks up to the <door>.',
    severity: 'Moderate',
    capXml,
    snapshot: { path: 'events/ev-1.jpg', bytes: 100 },
    snapshotMissing: null,
    ...overrides,
  };
}

function testDelivery(target: string, overrides: Partial<Delivery> = {}): Delivery {
  return {
    id: `d-${target}`,
    alertId: '01HXALERT0000000000000000',
    channel: 'email',
    notifier: 'mailer',
    target,
    idempotencyKey: `01HXALERT0000000000000000.${target.replace(/@/g, '.')}`,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: 0,
    leaseUntil: null,
    lastError: null,
    createdAt: 0,
    deliveredAt: null,
    ...overrides,
  };
}

function job(target: string, snapshot: Buffer | null, alert = testAlert()): DeliveryJob {
  return { alert, delivery: testDelivery(target), snapshot, signal: new AbortController().signal };
}

const content = (overrides: Partial<EmailContent> = {}): EmailContent => ({
  templates: DEFAULT_EMAIL_TEMPLATES,
  snapshot: 'attach',
  attachCap: true,
  timeZone: 'Europe/Paris',
  ...overrides,
});

describe('email channel', () => {
  let server: TestSmtpServer;
  let jpeg: Buffer;
  const mailers: SmtpMailer[] = [];

  const settings = (overrides: Partial<SmtpSettings> = {}): SmtpSettings => ({
    host: '127.0.0.1',
    port: server.port,
    security: 'starttls',
    rejectUnauthorized: true,
    ca: server.certificate.cert,
    from: 'Glimpser <alerts@example.com>',
    pool: false,
    maxConnections: 1,
    timeoutMs: 10000,
    username: SMTP_USER,
    password: SMTP_PASSWORD,
    ...overrides,
  });

  const mailer = (overrides: Partial<SmtpSettings> = {}) => {
    const made = new SmtpMailer(settings(overrides));
    mailers.push(made);
    return made;
  };

  beforeAll(async () => {
    server = await TestSmtpServer.start();
    jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#806040' } })
      .jpeg()
      .toBuffer();
  });

  afterAll(async () => {
    for (const made of mailers) made.close();
    await server.close();
  });

  it('sends the alert over STARTTLS with authentication: subject, text and HTML bodies, the JPEG and the CAP XML attached', async () => {
    const channel = new EmailChannel(mailer(), content());
    const sent = await channel.send(job('ops@example.com', jpeg));
    const mail = await server.nextMail('ops@example.com');
    expect(sent).toEqual({ statusCode: 250 });
    expect(mail).toMatchObject({ from: 'alerts@example.com', to: ['ops@example.com'], secure: true, user: SMTP_USER });
    expect(mail.parsed.subject).toBe('Person at the <gate> & "door"');
    expect(mail.parsed.text).toContain(
      'Someone walks up to the <door>.\n\nCamera: porch\nTime: Monday 2024-05-06 14:30:00 GMT+2 (Europe/Paris)\nSeverity: Moderate',
    );
    expect(mail.parsed.html).toContain('<h2>Person at the &lt;gate&gt; &amp; &quot;door&quot;</h2>');
    expect(mail.parsed.html).toContain('<p>Someone walks up to the &lt;door&gt;.</p>');
    const [picture, cap] = mail.parsed.attachments;
    expect(picture).toMatchObject({ filename: 'porch-snapshot.jpg', contentType: 'image/jpeg', contentDisposition: 'attachment' });
    expect(picture.content.equals(jpeg)).toBe(true);
    expect(cap).toMatchObject({ filename: 'alert.cap.xml', contentType: 'application/cap+xml' });
    expect((await parseCap(cap.content)).info?.[0].headline).toBe('Person at the <gate> & "door"');
  });

  it('gives a repeated delivery the same Message-ID, derived from its idempotency key', async () => {
    const channel = new EmailChannel(mailer(), content({ attachCap: false }));
    await channel.send(job('repeat@example.com', jpeg));
    await channel.send(job('repeat@example.com', jpeg));
    const mails = await new Promise<typeof server.mails>((resolve) => {
      const check = () => {
        const found = server.mails.filter((m) => m.to.includes('repeat@example.com'));
        if (found.length === 2) resolve(found);
        else server.events.once('mail', check);
      };
      check();
    });
    expect(mails.map((m) => m.parsed.messageId)).toEqual([
      '<01HXALERT0000000000000000.repeat.example.com@example.com>',
      '<01HXALERT0000000000000000.repeat.example.com@example.com>',
    ]);
    expect(mails[0].parsed.headers.get('x-glimpser-alert')).toBe('01HXALERT0000000000000000');
  });

  it('shows the snapshot inline (cid) in the HTML body from custom templates, and says when the alert went without one', async () => {
    const templates = {
      subject: '[{{severity}}] {{camera}}: {{headline}}',
      text: '{{description}}',
      html: '<p>{{description}}</p>{{snapshot}}<p>{{time}}</p>',
    };
    const channel = new EmailChannel(mailer({ pool: true, maxConnections: 2 }), content({ templates, snapshot: 'inline', attachCap: false, timeZone: 'UTC' }));
    await channel.send(job('inline@example.com', jpeg));
    const mail = await server.nextMail('inline@example.com');
    expect(mail.parsed.subject).toBe('[Moderate] porch: Person at the <gate> & "door"');
    expect(mail.parsed.attachments).toHaveLength(1);
    const [picture] = mail.parsed.attachments;
    expect(picture).toMatchObject({ contentType: 'image/jpeg', contentId: '<snapshot@glimpser>', related: true });
    expect(picture.content.equals(jpeg)).toBe(true);
    // mailparser rewrites cid: references to data: URLs of the related part, so the picture is really linked.
    expect(mail.parsed.html).toMatch(
      /<p>Someone walks up to the &lt;door&gt;\.<\/p><p><img src="data:image\/jpeg;base64,[^"]+" alt="porch snapshot"><\/p><p>Monday 2024-05-06 12:30:00 GMT\S* \(UTC\)<\/p>/,
    );

    await channel.send(job('nosnap@example.com', null, testAlert({ snapshot: null, snapshotMissing: 'the event snapshot was not written within 10 s' })));
    const without = await server.nextMail('nosnap@example.com');
    expect(without.parsed.attachments).toEqual([]);
    expect(without.parsed.text).toContain('No snapshot: the event snapshot was not written within 10 s');
  });

  it('a rejected recipient (550) is permanent, a busy mailbox (451) is retried', async () => {
    const channel = new EmailChannel(mailer(), content());
    const unknown = await channel.send(job('unknown@example.com', jpeg)).catch((err: unknown) => err);
    expect(unknown).toBeInstanceOf(DeliveryError);
    expect(unknown).toMatchObject({
      permanent: true,
      statusCode: 550,
      message: expect.stringMatching(/^SMTP 127\.0\.0\.1 \(RCPT\): .*No such user here: unknown@example\.com/),
    });
    const busy = await channel.send(job('busy@example.com', jpeg)).catch((err: unknown) => err);
    expect(busy).toMatchObject({ permanent: false, statusCode: 451, message: expect.stringContaining('Mailbox busy') });
  });

  it('a wrong password is permanent (535), naming the server', async () => {
    const channel = new EmailChannel(mailer({ password: 'wrong' }), content());
    await expect(channel.send(job('ops@example.com', jpeg))).rejects.toMatchObject({
      permanent: true,
      statusCode: 535,
      message: expect.stringContaining('SMTP 127.0.0.1'),
    });
  });

  it('a certificate it was not told to trust fails TLS, and is retried (the worker dead-letters it in the end)', async () => {
    const channel = new EmailChannel(mailer({ ca: '' }), content());
    const error = (await channel.send(job('ops@example.com', jpeg)).catch((err: unknown) => err)) as DeliveryError;
    expect(error).toMatchObject({ permanent: false, statusCode: null });
    expect(error.message).toMatch(/self[- ]signed certificate/i);
  });

  it('a host that does not resolve or a port where nobody listens is a retry naming the host', async () => {
    const nowhere = new EmailChannel(mailer({ host: 'smtp.invalid', timeoutMs: 5000 }), content());
    await expect(nowhere.send(job('ops@example.com', jpeg))).rejects.toMatchObject({
      permanent: false,
      message: expect.stringMatching(/^SMTP smtp\.invalid \(CONN\): getaddrinfo (ENOTFOUND|EAI_AGAIN) smtp\.invalid/),
    });
    const refused = new EmailChannel(mailer({ port: await freePort() }), content());
    await expect(refused.send(job('ops@example.com', jpeg))).rejects.toMatchObject({ permanent: false, message: expect.stringContaining('ECONNREFUSED') });
    expect(refused.hostOf()).toBe('127.0.0.1');
  });

  it('classifies what nodemailer reports: 5xx permanent, 4xx and connection errors retried', () => {
    expect(classifySmtpError(Object.assign(new Error('Invalid login'), { code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }), 'h')).toMatchObject({
      permanent: true,
      statusCode: 535,
      message: 'SMTP h (AUTH): Invalid login',
    });
    expect(classifySmtpError(Object.assign(new Error('Greylisted'), { code: 'EENVELOPE', responseCode: 450 }), 'h')).toMatchObject({
      permanent: false,
      statusCode: 450,
    });
    expect(classifySmtpError(Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'EDNS' }), 'h')).toMatchObject({ permanent: false });
    expect(classifySmtpError(Object.assign(new Error('Missing credentials for "PLAIN"'), { code: 'EAUTH' }), 'h')).toMatchObject({ permanent: true });
  });

  it('reads mailboxes and knows loopback hosts', () => {
    expect(['a@example.com', ' Ops <ops@example.com> ', '"Ops, night" <night@example.com>'].map((m) => mailboxAddress(m, 'to'))).toEqual([
      'a@example.com',
      'ops@example.com',
      'night@example.com',
    ]);
    expect(() => mailboxAddress('not-an-address', 'to')).toThrow(
      'to: "not-an-address" is not an email address (expected name@example.com or Name <name@example.com>)',
    );
    expect(() => mailboxAddress('Ops <ops@example.com>\r\nBcc: x@example.com', 'to')).toThrow('is not an email address');
    expect(['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]'].map(isLoopbackHost)).toEqual([true, true, true, true, true]);
    expect(['smtp.example.com', '10.0.0.1', '128.0.0.1'].map(isLoopbackHost)).toEqual([false, false, false]);
  });
});
