import { once } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request the receiver accepted: its signature verified by the standardwebhooks package, not by Glimpser's code. */
export interface ReceivedWebhook {
  id: string;
  timestamp: number;
  contentType: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** How the receiver answers: 2xx, an error status (with Retry-After for 429), or not at all (down). */
export type ReceiverMode = { status: 200 } | { status: 500 | 410 } | { status: 429; retryAfter?: string };

/**
 * A webhook receiver on loopback, as a careful integrator writes one (Standard Webhooks, "Verifying webhooks"): it
 * verifies each request with the official `standardwebhooks` package, answers 401 to a bad signature, and drops a
 * `webhook-id` it has already accepted (answering 200 so the sender stops). It can be told to fail or go down.
 */
export class WebhookReceiver {
  /** Accepted deliveries, each webhook-id once. */
  readonly received: ReceivedWebhook[] = [];
  /** Requests that failed verification, with the verifier's reason. */
  readonly rejected: string[] = [];
  /** Every request that reached the handler, answered or not. */
  requests = 0;
  duplicates = 0;
  private mode: ReceiverMode = { status: 200 };
  private readonly seen = new Set<string>();
  private readonly waiters: Array<(hook: ReceivedWebhook) => void> = [];
  private readonly verifier: Webhook;
  private readonly server: http.Server;
  private port = 0;

  private constructor(secret: string) {
    this.verifier = new Webhook(secret);
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.handle(req.headers, Buffer.concat(chunks), res));
    });
  }

  static async start(secret: string): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secret);
    await receiver.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/glimpser`;
  }

  answer(mode: ReceiverMode): void {
    this.mode = mode;
  }

  /** The next delivery accepted from now on. */
  next(): Promise<ReceivedWebhook> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops listening and drops open connections: senders get ECONNREFUSED until up(). */
  async down(): Promise<void> {
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }

  /** Listens again, on the same port once it had one. */
  async up(): Promise<void> {
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.down();
  }

  private handle(headers: IncomingHttpHeaders, body: Buffer, res: http.ServerResponse): void {
    this.requests++;
    const flat = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]));
    try {
      this.verifier.verify(body, flat, { jsonParse: false });
    } catch (err) {
      this.rejected.push((err as Error).message);
      res.writeHead(401).end('bad signature');
      return;
    }
    if (this.mode.status !== 200) {
      const extra = this.mode.status === 429 && this.mode.retryAfter ? { 'retry-after': this.mode.retryAfter } : {};
      res.writeHead(this.mode.status, { 'content-type': 'text/plain', ...extra }).end(`receiver says ${this.mode.status}`);
      return;
    }
    const id = flat['webhook-id'];
    if (this.seen.has(id)) this.duplicates++;
    else {
      this.seen.add(id);
      const hook = { id, timestamp: Number(flat['webhook-timestamp']), contentType: flat['content-type'], headers, body };
      this.received.push(hook);
      this.waiters.shift()?.(hook);
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  }
}
