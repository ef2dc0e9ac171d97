import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server answers to one request; unscripted requests are accepted (201, status "queued"). */
export type TwilioReply =
  | { kind: 'accept' }
  /** Twilio's error JSON {code, message, more_info, status} with this HTTP status. */
  | { kind: 'error'; status: number; code: number; message: string; headers?: Record<string, string> }
  /** Closes the connection without an answer, as a dropped network does. */
  | { kind: 'hang-up' };

export const INVALID_NUMBER: TwilioReply = { kind: 'error', status: 400, code: 21211, message: "The 'To' number +15005550001 is not a valid phone number." };
export const UNSUBSCRIBED: TwilioReply = { kind: 'error', status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' };
export const NOT_MOBILE: TwilioReply = { kind: 'error', status: 400, code: 21614, message: "'To' number is not a valid mobile number" };
export const REGION_DISABLED: TwilioReply = {
  kind: 'error',
  status: 400,
  code: 21408,
  message: 'Permission to send an SMS has not been enabled for the region',
};
export const TOO_MANY: (retryAfter: string) => TwilioReply = (retryAfter) => ({
  kind: 'error',
  status: 429,
  code: 20429,
  message: 'Too Many Requests',
  headers: { 'retry-after': retryAfter },
});
export const SERVER_ERROR: TwilioReply = { kind: 'error', status: 503, code: 20500, message: 'Service Unavailable' };

export interface ReceivedMessage {
  accountSid: string;
  /** The Basic auth user and password as sent. */
  username: string;
  password: string;
  contentType: string | undefined;
  userAgent: string | undefined;
  /** The form fields, repeated ones (MediaUrl) as arrays. */
  form: Record<string, string | string[]>;
  To: string;
  From: string | undefined;
  MessagingServiceSid: string | undefined;
  Body: string;
  MediaUrl: string[];
}

export interface TwilioAccountKeys {
  accountSid: string;
  authToken: string;
  /** API keys of the account: sid → secret. */
  apiKeys?: Record<string, string>;
}

/**
 * A loopback stand-in for Twilio's REST API, speaking its wire format for POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json: HTTP Basic auth (account SID and token, or an API key of the
 * account), a form-encoded body (To, From or MessagingServiceSid, Body, repeated MediaUrl), a 201 JSON message
 * resource, and errors as {code, message, more_info, status}. The real `twilio` SDK talks to it unmodified.
 */
export class TwilioServer {
  readonly received: ReceivedMessage[] = [];
  private readonly queue: TwilioReply[] = [];
  private readonly waiters: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    private readonly keys: TwilioAccountKeys,
  ) {}

  static async start(keys: TwilioAccountKeys): Promise<TwilioServer> {
    let instance: TwilioServer | null = null;
    const server = createServer((req, res) => void instance!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    instance = new TwilioServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, keys);
    return instance;
  }

  /** Queues replies for the next message requests, in order. */
  script(...replies: TwilioReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** Resolves once `count` message requests have arrived (answered or not). */
  async receivedCount(count: number): Promise<ReceivedMessage[]> {
    while (this.received.length < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.received;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const route = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Messages\.json$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !route) return this.error(res, 404, 20404, `The requested resource ${req.url} was not found`);
    const [username, password] = this.credentialsOf(req);
    const keyOk = this.keys.apiKeys?.[username] !== undefined && this.keys.apiKeys[username] === password;
    const tokenOk = username === this.keys.accountSid && password === this.keys.authToken;
    if (route[1] !== this.keys.accountSid || !(keyOk || tokenOk)) return this.error(res, 401, 20003, 'Authenticate');
    const form = formOf(Buffer.concat(chunks).toString('utf8'));
    const single = (name: string): string | undefined => (Array.isArray(form[name]) ? form[name][0] : form[name]);
    const media = form.MediaUrl === undefined ? [] : ([] as string[]).concat(form.MediaUrl);
    const message: ReceivedMessage = {
      accountSid: route[1],
      username,
      password,
      contentType: req.headers['content-type'],
      userAgent: req.headers['user-agent'],
      form,
      To: single('To') ?? '',
      From: single('From'),
      MessagingServiceSid: single('MessagingServiceSid'),
      Body: single('Body') ?? '',
      MediaUrl: media,
    };
    this.received.push(message);
    this.waiters.splice(0).forEach((wake) => wake());
    const reply = this.queue.shift() ?? { kind: 'accept' };
    if (reply.kind === 'hang-up') return void req.socket.destroy();
    if (reply.kind === 'error') return this.error(res, reply.status, reply.code, reply.message, reply.headers);
    if (!message.To) return this.error(res, 400, 21604, "A 'To' phone number is required.");
    if (!message.From && !message.MessagingServiceSid) return this.error(res, 400, 21603, "A 'From' phone number is required.");
    this.json(res, 201, this.resourceOf(message));
  }

  /** The Message resource as Twilio returns it on create. */
  private resourceOf(message: ReceivedMessage): Record<string, unknown> {
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const now = new Date().toUTCString();
    return {
      sid,
      account_sid: message.accountSid,
      api_version: '2010-04-01',
      body: message.Body,
      date_created: now,
      date_updated: now,
      date_sent: null,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: message.From ?? null,
      messaging_service_sid: message.MessagingServiceSid ?? null,
      num_media: String(message.MediaUrl.length),
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      status: 'queued',
      to: message.To,
      uri: `/2010-04-01/Accounts/${message.accountSid}/Messages/${sid}.json`,
      subresource_uris: { media: `/2010-04-01/Accounts/${message.accountSid}/Messages/${sid}/Media.json` },
    };
  }

  private credentialsOf(req: IncomingMessage): [string, string] {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return ['', ''];
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? [decoded, ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
  }

  private error(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
    this.json(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers);
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }
}

/** A form-encoded body; a repeated field becomes an array, in order. */
function formOf(text: string): Record<string, string | string[]> {
  const form: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const seen = form[name];
    form[name] = seen === undefined ? value : ([] as string[]).concat(seen, value);
  }
  return form;
}
