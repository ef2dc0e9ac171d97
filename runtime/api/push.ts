import path from 'node:path';
import { Type } from '@sinclair/typebox';
import express, { type Request, type Response, type Router } from 'express';
import { PushSubscriptionStore, type PushHandles, type PushSubscriptionRecord } from '../../core/alerts/push-subscriptions';
import type { VapidKeys } from '../../core/alerts/vapid';
import type { Logger } from '../../core/log/logger';
import { checkWebUrl } from '../../core/net/url-policy';
import { badRequest, notFound } from './errors';
import { validateBody } from './validate';

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

/**
 * Web push subscriptions, under /api after authentication (any signed-in user subscribes their own browser).
 *
 * GET    /push/vapid-public-key        → 200 { publicKey }   the applicationServerKey for PushManager.subscribe()
 * POST   /push/subscriptions  { endpoint, keys: { p256dh, auth }, tags? } → 201 { id, endpoint, tags, user, createdAt }
 * DELETE /push/subscriptions  { endpoint }  or  DELETE /push/subscriptions/:id   → 204; 404 when there is none
 * Errors: 400 naming the field, e.g. `body.keys.auth: expected a 16-byte authentication secret (base64url), got 8 bytes`.
 */
export function pushRouter(deps: { push: PushHandles; log: Logger }): Router {
  const router = express.Router();
  const { subscriptions } = deps.push;

  router.get('/push/vapid-public-key', (_req, res) => {
    res.json({ publicKey: deps.push.keys.publicKey });
  });

  router.post('/push/subscriptions', validateBody(SubscribeBody), (req: Request, res: Response) => {
    const body = req.body as { endpoint: string; keys: { p256dh: string; auth: string }; tags?: string[] };
    const endpoint = checkEndpoint(body.endpoint);
    checkKeys(body.keys);
    const record = subscriptions.add({
      endpoint,
      keys: { p256dh: body.keys.p256dh, auth: body.keys.auth },
      tags: body.tags ?? [],
      user: req.user?.username ?? null,
    });
    deps.log.info({ subscription: record.id, host: new URL(endpoint).host, user: record.user }, 'push subscription added');
    res.status(201).json(shown(record));
  });

  const remove = (idOrEndpoint: string, res: Response) => {
    if (!subscriptions.remove(idOrEndpoint)) throw notFound(`no push subscription ${JSON.stringify(idOrEndpoint)}`);
    deps.log.info({}, 'push subscription removed');
    res.status(204).end();
  };
  router.delete('/push/subscriptions', validateBody(UnsubscribeBody), (req: Request, res: Response) =>
    remove((req.body as { endpoint: string }).endpoint, res),
  );
  router.delete('/push/subscriptions/:id', (req: Request, res: Response) => remove(String(req.params.id), res));
  return router;
}
