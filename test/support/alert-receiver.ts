/**
 * A loopback HTTP receiver for alert deliveries and the small Channel that POSTs to it: the worker's tests use
 * them to drive real network failures (refused connections, 5xx, 4xx, 429 Retry-After, hung requests) through
 * the real worker. The channel is a test channel of its own, not a stand-in for any notifier's SDK.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpDeliveryError } from '../../core/alerts/backoff';
import type { Channel } from '../../core/alerts/index';

export interface ReceivedDelivery {
  /** The `webhook-id` header: the delivery's idempotency key. */
  key: string;
  body: { alert: string; headline: string };
}

/** What the receiver answers a request with; `hang` leaves it unanswered until the receiver closes. */
export type ReceiverReply = { status: number; headers?: Record<string, string> } | 'hang';

export interface AlertReceiver {
  url: string;
  port: number;
  /** Every request answered with 2xx, in order of arrival. */
  received: ReceivedDelivery[];
  /** Decides each answer (default 200); may be changed at any time. */
  reply: (request: ReceivedDelivery, n: number) => ReceiverReply;
  /** Resolves once `count` deliveries in all have been answered with 2xx. */
  waitFor(count: number): Promise<ReceivedDelivery[]>;
  close(): Promise<void>;
}

export async function startAlertReceiver(port = 0): Promise<AlertReceiver> {
  const waiters: Array<{ count: number; resolve: (r: ReceivedDelivery[]) => void }> = [];
  let requests = 0;
  const receiver: AlertReceiver = {
    url: '',
    port: 0,
    received: [],
    reply: () => ({ status: 200 }),
    waitFor(count) {
      if (receiver.received.length >= count) return Promise.resolve(receiver.received);
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedDelivery = {
        key: String(req.headers['webhook-id']),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedDelivery['body'],
      };
      const reply = receiver.reply(request, ++requests);
      if (reply === 'hang') return;
      res.writeHead(reply.status, reply.headers).end();
      if (reply.status < 200 || reply.status >= 300) return;
      receiver.received.push(request);
      for (const waiter of [...waiters]) {
        if (receiver.received.length < waiter.count) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(receiver.received);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hook`;
  return receiver;
}

/** A port nothing listens on (yet): a receiver that is down refuses connections. */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** POSTs the alert as JSON with its idempotency key, and classifies the answer like an HTTP notifier would. */
export function postChannel(): Channel {
  return {
    kind: 'webhook',
    hostOf: (delivery) => new URL(delivery.target).host,
    async send({ alert, delivery, signal }) {
      const res = await fetch(delivery.target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': delivery.idempotencyKey },
        body: JSON.stringify({ alert: alert.id, headline: alert.headline }),
        signal,
      });
      await res.arrayBuffer();
      if (!res.ok) throw httpDeliveryError(res.status, res.headers.get('retry-after'), Date.now());
      return { statusCode: res.status };
    },
  };
}
