import { isIP } from 'node:net';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { DeliveryError, type Channel, type DeliveryJob, type DeliveryResult } from '../index';
import { buildEmail, mailboxAddress, type EmailContent } from './email-message';

export { DEFAULT_EMAIL_TEMPLATES, EMAIL_PLACEHOLDERS, mailboxAddress, unknownPlaceholders, type EmailContent } from './email-message';

/**
 * Email alerts over SMTP (nodemailer): one transport per SMTP server, shared by every notifier that uses it, and a
 * Channel per notifier that turns a delivery into a mail and a failed send into a classified DeliveryError.
 */

/** `tls`: TLS from the first byte (port 465); `starttls`: plain, then STARTTLS, required (587); `none`: no TLS at all. */
export type SmtpSecurity = 'tls' | 'starttls' | 'none';

export interface SmtpSettings {
  host: string;
  port: number;
  security: SmtpSecurity;
  /** Refuse a certificate that does not chain to a trusted CA or does not name the host. */
  rejectUnauthorized: boolean;
  /** PEM of extra CAs to trust (a company or lab CA, a test server's self-signed certificate). */
  ca: string;
  /** The sender of every mail: `alerts@example.com` or `Glimpser <alerts@example.com>`. */
  from: string;
  pool: boolean;
  maxConnections: number;
  /** Connection, greeting and socket timeout. */
  timeoutMs: number;
  username?: string;
  password?: string;
}

/** Loopback hosts, where mail without TLS never crosses a network. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

/** One SMTP server's transport; `close` ends its pooled connections. */
export class SmtpMailer {
  readonly host: string;
  readonly from: string;
  private readonly transport: Transporter;

  constructor(settings: SmtpSettings) {
    mailboxAddress(settings.from, 'from');
    this.host = settings.host;
    this.from = settings.from;
    const timeouts = { connectionTimeout: settings.timeoutMs, greetingTimeout: settings.timeoutMs, socketTimeout: settings.timeoutMs };
    const tls = { rejectUnauthorized: settings.rejectUnauthorized, ...(settings.ca.trim() ? { ca: settings.ca } : {}) };
    const auth = settings.username ? { auth: { user: settings.username, pass: settings.password ?? '' } } : {};
    const base = {
      host: settings.host,
      port: settings.port,
      secure: settings.security === 'tls',
      requireTLS: settings.security === 'starttls',
      ignoreTLS: settings.security === 'none',
      tls,
      ...auth,
      ...timeouts,
    };
    this.transport = settings.pool
      ? nodemailer.createTransport({ ...base, pool: true, maxConnections: settings.maxConnections })
      : nodemailer.createTransport(base);
  }

  async send(mail: SendMailOptions): Promise<{ response: string }> {
    return (await this.transport.sendMail(mail)) as { response: string };
  }

  close(): void {
    this.transport.close();
  }
}

interface SmtpFailure {
  message: string;
  code?: string;
  responseCode?: number;
  command?: string;
}

/** Errors that are about the way to the server, not the mail: the worker retries them and its breaker counts them. */
const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'EPROTOCOL',
  'EPROXY',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EABORT',
]);

/**
 * A failed send as the worker needs it: a 5xx reply (unknown recipient, authentication refused, message refused) is
 * permanent; a 4xx reply (greylisting, mailbox busy, too many connections) and every connection failure (a host that
 * does not resolve, refuses, times out, or fails TLS) is retried — the worker dead-letters it after its last attempt.
 * Credentials the server never got to check (none configured but required) are permanent too.
 */
export function classifySmtpError(err: unknown, host: string): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const failure = (err ?? {}) as SmtpFailure;
  const code = failure.responseCode ?? null;
  const reason = (failure.message || String(err)).replace(/\s+/g, ' ').trim();
  const where = `SMTP ${host}${failure.command ? ` (${failure.command.split(' ')[0]})` : ''}`;
  if (code !== null && code >= 500) return new DeliveryError(`${where}: ${reason}`, true, code);
  if (code !== null && code >= 400) return new DeliveryError(`${where}: ${reason}`, false, code);
  if (failure.code && CONNECTION_CODES.has(failure.code)) return new DeliveryError(`${where}: ${reason}`, false);
  if (failure.code === 'EAUTH' || failure.code === 'ENOAUTH' || failure.code === 'EENVELOPE' || failure.code === 'EMESSAGE') {
    return new DeliveryError(`${where}: ${reason}`, true);
  }
  return new DeliveryError(`${where}: ${reason}`, false);
}

/** One notify-email node's way out: its SMTP server, its templates and attachments. */
export class EmailChannel implements Channel {
  readonly kind = 'email' as const;

  constructor(
    private readonly mailer: Pick<SmtpMailer, 'host' | 'from' | 'send'>,
    private readonly content: EmailContent,
    /** The worker's report of each attempt, recorded: the node shows it as its last delivery result. */
    private readonly report: (result: DeliveryResult) => void = () => undefined,
  ) {}

  hostOf(): string {
    return this.mailer.host;
  }

  async send(job: DeliveryJob): Promise<{ statusCode?: number }> {
    try {
      job.signal.throwIfAborted();
      const info = await this.mailer.send({ ...buildEmail(job, this.mailer.from, this.content), signal: job.signal });
      const code = /^(\d{3})/.exec(info.response ?? '');
      return code ? { statusCode: Number(code[1]) } : {};
    } catch (err) {
      throw classifySmtpError(err, this.mailer.host);
    }
  }

  onResult(result: DeliveryResult): void {
    this.report(result);
  }
}
