import { SmtpMailer } from '../../core/alerts/channels/email';
import type { NodeBehaviour } from '../shared/node-kit';
import type { SmtpConfig } from './schema';

export interface SmtpCredentials {
  username?: string;
  password?: string;
}

/** What notify-email nodes may ask of the glimpser-smtp node they picked. */
export interface SmtpService {
  /** The setting still empty (nothing wrong, just not filled in yet), else null. */
  readonly missing: 'host' | 'from' | null;
  /** The same in words, for the error a message gets when it arrives anyway. */
  readonly notConfigured: string | null;
  /** The server's transport, shared by every notify-email node that picks this server. */
  readonly mailer: SmtpMailer | null;
}

/**
 * The behaviour of a glimpser-smtp config node: one nodemailer transport (pooled connections by default) for every
 * notify-email node that picks it, closed with the node; or the setting still missing. A wrong setting never gets
 * here: the kit reports it as this node's config error. Nothing connects until the first mail, so a server that is
 * down shows in the notifiers' delivery results, not at deploy.
 */
export class SmtpController implements SmtpService, NodeBehaviour {
  readonly missing: 'host' | 'from' | null = null;
  readonly notConfigured: string | null = null;
  readonly mailer: SmtpMailer | null = null;

  constructor(config: SmtpConfig, credentials: SmtpCredentials) {
    const username = credentials.username?.trim() ?? '';
    const password = credentials.password ?? '';
    if (!username && password) throw new Error('credential "username" is missing: a password needs the user name it belongs to');
    if (!config.host) {
      this.missing = 'host';
      this.notConfigured = 'no SMTP host: add one in the glimpser-smtp node';
      return;
    }
    if (!config.from) {
      this.missing = 'from';
      this.notConfigured = 'no sender address: add "from" in the glimpser-smtp node';
      return;
    }
    this.mailer = new SmtpMailer({
      host: config.host,
      port: config.port,
      security: config.security,
      rejectUnauthorized: config.rejectUnauthorized,
      ca: config.ca,
      from: config.from,
      pool: config.pool,
      maxConnections: config.maxConnections,
      timeoutMs: Math.round(config.timeout * 1000),
      ...(username ? { username, password } : {}),
    });
  }

  close(): void {
    this.mailer?.close();
  }
}
