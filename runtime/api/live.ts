import { Type } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import type { LiveMessage } from '../../core/live';
import type { LiveFeed } from '../../core/live-feed';
import type { Logger } from '../../core/log/logger';
import { metrics } from '../../core/metrics';
import { mayUseCamera } from '../auth/roles';
import { HttpError } from './errors';
import { principalOf, type Route } from './route';

export interface LiveLimits {
  /** Open streams one user (or one API key) may hold: a few browser tabs. */
  maxClientsPerUser: number;
  /** Open streams in all. */
  maxClients: number;
  /** A comment line this often keeps proxies from closing a quiet stream. */
  heartbeatMs: number;
  /** The `retry:` hint: how long EventSource waits before it reconnects. */
  retryMs: number;
  /**
   * A stream ends after this long and the browser reconnects, signing in again (credentials are also checked at every
   * heartbeat; this bounds what that cannot check, such as HTTP Basic).
   */
  maxStreamMs: number;
  /** A client that has this many bytes unsent (it reads nothing) is disconnected rather than buffered for. */
  maxBufferedBytes: number;
}

export const LIVE_LIMITS: LiveLimits = {
  maxClientsPerUser: 8,
  maxClients: 200,
  heartbeatMs: 15_000,
  retryMs: 3_000,
  maxStreamMs: 30 * 60_000,
  maxBufferedBytes: 1024 * 1024,
};

export interface LiveRouteOptions {
  /** Where the messages come from (core/live-feed.ts). */
  feed: Pick<LiveFeed, 'subscribe'>;
  /**
   * Whether the request's credentials still hold (Authenticator.stillSignedIn), asked at every heartbeat: a stream
   * ends within one heartbeat of a sign-out, a password or role change or a revoked key. Null: not checkable.
   */
  stillSignedIn?: (req: Request) => boolean | null;
  log: Logger;
  limits?: Partial<LiveLimits>;
}

/** One line of SSE: the event name is the message kind, the data one line of JSON (JSON never holds a raw newline). */
function sseFrame(message: LiveMessage): string {
  return `event: ${message.kind}\ndata: ${JSON.stringify(message)}\n\n`;
}

/**
 * GET /api/live: the web app's live updates as server-sent events (core/live.ts), each for a camera the caller may
 * see. Streams are counted per user and in all; beyond either limit the answer is 429, as for live view.
 */
export function liveRoutes(options: LiveRouteOptions): Route[] {
  const limits = { ...LIVE_LIMITS, ...options.limits };
  const log = options.log;
  const perUser = new Map<string, number>();
  let total = 0;
  let nextId = 1;

  const handler = (req: Request, res: Response) => {
    const principal = principalOf(req);
    const who = principal.via === 'key' ? `key:${principal.keyId}` : `user:${principal.username}`;
    const mine = perUser.get(who) ?? 0;
    if (mine >= limits.maxClientsPerUser) {
      throw new HttpError(
        429,
        'too_many_clients',
        `${principal.via === 'key' ? 'this API key' : `user "${principal.username}"`} already has ${mine} live streams open, the most allowed; close a tab and retry`,
        { 'Retry-After': String(Math.ceil(limits.retryMs / 1000)) },
      );
    }
    if (total >= limits.maxClients) {
      throw new HttpError(429, 'too_many_clients', `Glimpser already serves ${total} live streams, the most allowed; retry later`, { 'Retry-After': '30' });
    }
    const id = nextId++;
    perUser.set(who, mine + 1);
    total++;
    metrics.liveClients.set(total);
    const opened = Date.now();
    let sent = 0;

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // A buffering proxy (nginx) would hold the messages back.
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: ${limits.retryMs}\n: open\n\n`);
    req.socket.setNoDelay(true);

    let closed = false;
    const close = (why: string) => {
      if (closed) return;
      closed = true;
      unsubscribe();
      clearInterval(heartbeat);
      clearTimeout(expiry);
      const left = (perUser.get(who) ?? 1) - 1;
      if (left > 0) perUser.set(who, left);
      else perUser.delete(who);
      total--;
      metrics.liveClients.set(total);
      log.info({ client: id, user: principal.username, why, sent, seconds: Math.round((Date.now() - opened) / 1000) }, 'live stream closed');
      if (!res.writableEnded) res.end();
    };
    const write = (text: string): void => {
      if (closed) return;
      if (res.writableLength > limits.maxBufferedBytes) return close('client not reading');
      res.write(text);
    };
    const unsubscribe = options.feed.subscribe((message) => {
      if (!mayUseCamera(principal, message.camera)) return;
      write(sseFrame(message));
      sent++;
      metrics.liveMessagesTotal.inc({ kind: message.kind });
    });
    const heartbeat = setInterval(() => {
      if (options.stillSignedIn?.(req) === false) return close('signed out');
      write(': heartbeat\n\n');
    }, limits.heartbeatMs);
    const expiry = setTimeout(() => close('stream age limit'), limits.maxStreamMs);
    res.once('close', () => close('client left'));
    log.info({ client: id, user: principal.username, cameras: principal.cameras ?? 'all', remote: req.socket.remoteAddress }, 'live stream opened');
  };

  return [
    {
      method: 'get',
      path: '/live',
      operationId: 'getLive',
      summary: "Live updates for the web app (server-sent events) about the caller's cameras",
      description:
        'A text/event-stream that stays open: each message has the SSE event name `event`, `alert`, `delivery` or `camera` and one `data:` line of ' +
        'JSON (core/live.ts), and names a camera the caller may see. A comment line comes every 15 s; the stream ends within one of them once its credentials are signed out, changed or revoked, and after 30 minutes; ' +
        'EventSource reconnects (signing in again). 429 when this user, or Glimpser in all, has too many streams open.',
      tags: ['system'],
      access: 'viewer',
      responses: {
        200: { description: 'The stream of live messages.', schema: Type.String({ description: 'Server-sent events' }), contentType: 'text/event-stream' },
        429: {
          description: 'Too many live streams open for this user or in all.',
          headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: Type.Integer() } },
        },
      },
      handler,
    },
  ];
}
