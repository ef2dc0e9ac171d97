import path from 'node:path';
import { Type } from '@sinclair/typebox';
import type { Request, Response, Router } from 'express';
import { PushSubscriptionStore, type PushHandles, type PushSubscriptionRecord } from '../../core/alerts/push-subscriptions';
import type { VapidKeys } from '../../core/alerts/vapid';
import type { Logger } from '../../core/log/logger';
import { checkWebUrl } from '../../core/net/url-policy';
import { badRequest, notFound } from './errors';
import { routerOf, type Route, type RouteAuth } from './route';

export type { PushHandles };

/** Opens `<dataDir>/push-subscriptions.json` with the VAPID keys kept in secrets.json. */
export function openPushHandles(dataDir: string, keys: VapidKeys): PushHandles {
  return { keys, subscriptions: new PushSubscriptionStore(path.join(dataDir, 'push-subscriptions.json')) };
}

const BASE64URL = '^[A-Za-z0-9_-]+={0,2}$';

/** The body of POST /push/subscriptions: the browser's PushSubscription.toJSON(), plus optional tags. */
const SubscribeBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 1, maxLength: 2048 }),
    expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    keys: Type.Object(
      { p256dh: Type.String({ maxLength: 128, pattern: BASE64URL }), auth: Type.String({ maxLength: 64, pattern: BASE64URL }) },
      { additionalProperties: false },
    ),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }), { maxItems: 16 })),
  },
  { additionalProperties: false },
);

const UnsubscribeBody = Type.Object({ endpoint: Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false });

/** A subscription as the API shows it: never its keys (the auth secret lets anyone push to that browser). */
function shown(record: PushSubscriptionRecord) {
  return { id: record.id, endpoint: record.endpoint, tags: record.tags, user: record.user, createdAt: new Date(record.createdAt).toISOString() };
}

/** Checks the keys RFC 8291 needs: p256dh an uncompressed P-256 point (65 bytes), auth a 16-byte secret. */
function checkKeys(keys: { p256dh: string; auth: string }): void {
  const point = Buffer.from(keys.p256dh, 'base64url');
  if (point.length !== 65 || point[0] !== 4)
    throw badRequest(`body.keys.p256dh: expected an uncompressed P-256 public key (65 bytes, base64url), got ${point.length} bytes`);
  const auth = Buffer.from(keys.auth, 'base64url');
  if (auth.length !== 16) throw badRequest(`body.keys.auth: expected a 16-byte authentication secret (base64url), got ${auth.length} bytes`);
}

function checkEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = checkWebUrl(endpoint, {}, 'body.endpoint');
  } catch (err) {
    throw badRequest((err as Error).message);
  }
  if (url.protocol !== 'https:') throw badRequest(`body.endpoint: expected an https: push service URL (RFC 8030), got ${url.protocol}`);
  return url.href;
}

const Subscription = Type.Object({
  id: Type.String(),
  endpoint: Type.String(),
  tags: Type.Array(Type.String()),
  user: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
const TAGS = ['push'];
const NONE = { description: 'No such subscription.' };

/**
 * Web push subscriptions under /api: any signed-in user (a viewer too) subscribes their own browser. A subscription
 * as shown never carries its keys (the auth secret lets anyone push to that browser).
 */
export function pushRoutes(deps: { push: PushHandles; log: Logger }): Route[] {
  const remove = (idOrEndpoint: string, res: Response) => {
    if (!deps.push.subscriptions.remove(idOrEndpoint)) throw notFound(`no push subscription ${JSON.stringify(idOrEndpoint)}`);
    deps.log.info({}, 'push subscription removed');
    res.status(204).end();
  };
  return [
    {
      method: 'get',
      path: '/push/vapid-public-key',
      operationId: 'getVapidPublicKey',
      summary: 'The applicationServerKey for PushManager.subscribe()',
      tags: TAGS,
      access: 'viewer',
      responses: { 200: { description: 'The VAPID public key (base64url).', schema: Type.Object({ publicKey: Type.String() }) } },
      handler: (_req: Request, res: Response) => {
        res.json({ publicKey: deps.push.keys.publicKey });
      },
    },
    {
      method: 'post',
      path: '/push/subscriptions',
      operationId: 'addPushSubscription',
      summary: 'Subscribe this browser to alerts (its PushSubscription.toJSON(), plus optional tags)',
      tags: TAGS,
      access: 'viewer',
      body: { schema: SubscribeBody, limitBytes: 16 * 1024 },
      responses: { 201: { description: 'The subscription.', schema: Subscription } },
      handler: (req: Request, res: Response) => {
        const body = req.body as { endpoint: string; keys: { p256dh: string; auth: string }; tags?: string[] };
        const endpoint = checkEndpoint(body.endpoint);
        checkKeys(body.keys);
        const record = deps.push.subscriptions.add({
          endpoint,
          keys: { p256dh: body.keys.p256dh, auth: body.keys.auth },
          tags: body.tags ?? [],
          user: req.user?.username ?? null,
        });
        deps.log.info({ subscription: record.id, host: new URL(endpoint).host, user: record.user }, 'push subscription added');
        res.status(201).json(shown(record));
      },
    },
    {
      method: 'delete',
      path: '/push/subscriptions',
      operationId: 'removePushSubscriptionByEndpoint',
      summary: 'Unsubscribe a browser by its endpoint',
      tags: TAGS,
      access: 'viewer',
      body: { schema: UnsubscribeBody, limitBytes: 4 * 1024 },
      responses: { 204: { description: 'Removed.' }, 404: NONE },
      handler: (req: Request, res: Response) => remove((req.body as { endpoint: string }).endpoint, res),
    },
    {
      method: 'delete',
      path: '/push/subscriptions/{id}',
      operationId: 'removePushSubscription',
      summary: 'Unsubscribe a browser by subscription id',
      tags: TAGS,
      access: 'viewer',
      params: Type.Object({ id: Type.String({ maxLength: 2048 }) }),
      responses: { 204: { description: 'Removed.' }, 404: NONE },
      handler: (req: Request, res: Response) => remove(String(req.params.id), res),
    },
  ];
}

/** The push routes on their own router (errors answered by the router it is mounted in). */
export function pushRouter(deps: { push: PushHandles; log: Logger; auth: RouteAuth }): Router {
  return routerOf(pushRoutes(deps), deps.auth);
}
