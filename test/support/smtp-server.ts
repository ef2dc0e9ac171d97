import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

/**
 * A real SMTP server on loopback (the `smtp-server` package, in process) for the email tests: STARTTLS on a
 * self-signed certificate made for this run, PLAIN/LOGIN authentication, and every accepted mail parsed with
 * `mailparser` — what a receiving server would see. Recipients steer the replies: `unknown@…` gets 550 (no such
 * user), `busy@…` gets 451 (try later).
 */

export interface TestCertificate {
  key: string;
  cert: string;
}

/**
 * A P-256 key from node:crypto and a self-signed certificate for 127.0.0.1 and localhost from the system's
 * `openssl` (node:crypto cannot issue certificates), valid for a day.
 */
export function selfSignedCertificate(): TestCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-smtp-cert-'));
  try {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(path.join(dir, 'key.pem'), key, { mode: 0o600 });
    const args = ['req', '-x509', '-key', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'];
    const made = spawnSync('openssl', [...args, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { encoding: 'utf8' });
    if (made.error || made.status !== 0) throw new Error(`openssl could not make the test certificate: ${made.error?.message ?? made.stderr}`);
    return { key, cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ReceivedMail {
  from: string;
  to: string[];
  /** Whether the session had switched to TLS (STARTTLS) when the mail came. */
  secure: boolean;
  user: string | undefined;
  parsed: ParsedMail;
}

export const SMTP_USER = 'glimpser';
export const SMTP_PASSWORD = 'smtp-password';

export class TestSmtpServer {
  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
    readonly certificate: TestCertificate,
    /** Every mail accepted, in order; `events` emits each as `mail`, and `connect`/`close` with the session id of each client connection. */
    readonly mails: ReceivedMail[],
    readonly events: EventEmitter,
  ) {}

  static async start(certificate = selfSignedCertificate()): Promise<TestSmtpServer> {
    const mails: ReceivedMail[] = [];
    const events = new EventEmitter();
    const server = new SMTPServer({
      secure: false,
      key: certificate.key,
      cert: certificate.cert,
      authMethods: ['PLAIN', 'LOGIN'],
      // Authentication only over TLS, as real submission servers do: a client that skips STARTTLS cannot log in.
      allowInsecureAuth: false,
      disabledCommands: [],
      logger: false,
      onConnect(session, callback) {
        events.emit('connect', session.id);
        callback();
      },
      onClose(session) {
        events.emit('close', session.id);
      },
      onAuth(auth, _session, callback) {
        if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) callback(null, { user: auth.username });
        else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onRcptTo(address: SMTPServerAddress, _session, callback) {
        if (address.address.startsWith('unknown@')) callback(Object.assign(new Error(`No such user here: ${address.address}`), { responseCode: 550 }));
        else if (address.address.startsWith('busy@')) callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 }));
        else callback();
      },
      onData(stream, session, callback) {
        simpleParser(stream).then(
          (parsed) => {
            const mail: ReceivedMail = {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              secure: session.secure,
              user: typeof session.user === 'string' ? session.user : undefined,
              parsed,
            };
            mails.push(mail);
            events.emit('mail', mail);
            callback();
          },
          (err: Error) => callback(err),
        );
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    server.on('error', () => undefined);
    return new TestSmtpServer(server, (server.server.address() as AddressInfo).port, certificate, mails, events);
  }

  /**
   * The first mail, already received or still to come, that goes to `to` (an address) or that `to` accepts. Mails
   * are kept for the server's life: tests that reuse an address match on more than the recipient.
   */
  nextMail(to: string | ((mail: ReceivedMail) => boolean), timeoutMs = 15000): Promise<ReceivedMail> {
    const matches = typeof to === 'string' ? (mail: ReceivedMail) => mail.to.includes(to) : to;
    const seen = this.mails.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('mail', onMail);
        reject(new Error(`no ${typeof to === 'string' ? `mail to ${to}` : 'matching mail'} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMail = (mail: ReceivedMail) => {
        if (!matches(mail)) return;
        clearTimeout(timer);
        this.events.off('mail', onMail);
        resolve(mail);
      };
      this.events.on('mail', onMail);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
