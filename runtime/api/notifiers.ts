import { Type } from '@sinclair/typebox';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { formatCapTime, serializeCap } from '../../core/alerts/cap';
import { DeliveryError, type Channel, type Delivery, type StoredAlert } from '../../core/alerts/index';
import type { AlertServiceHandle } from '../../core/alerts/service';
import type { Logger } from '../../core/log/logger';
import { eventId } from '../../core/store/event-id';
import { apiErrors, badRequest, HttpError, notFound } from './errors';
import { validateBody } from './validate';

/**
 * Notifier checks under /api, mounted after authentication.
 *
 * POST /notifiers/:id/test   admin only; body (optional JSON): { target?: string }
 *        Sends one test alert (CAP status "Test", camera "test") through the channel the notify-* node with this id
 *        registered, to `target` or else to the notifier's configured targets (Channel.testTargets), and waits for
 *        the answer. The test is NOT written to the outbox or the delivery ledger: it is tried once, not retried,
 *        and the node's status is not changed; a failing receiver is reported here and nowhere else.
 *      → 200 { notifier, channel, target, delivered, statusCode, error, permanent }   (delivered false: why in error)
 *      → 400 bad id or body, or no target; 403 not an admin; 404 no notifier with this id is deployed
 *
 * Admin only: test alerts reach real people and services. Roles come from the user store (runtime/stores/users.ts).
 */
export interface NotifiersRouterDeps {
  alerts: AlertServiceHandle;
  log: Logger;
  /** How long one test send may take before it is abandoned (default 15 s). */
  timeoutMs?: number;
}

export interface NotifierTestResult {
  notifier: string;
  channel: Channel['kind'];
  target: string;
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
  /** For a failed send: whether retrying would not help (the channel's classification). */
  permanent: boolean | null;
}

/** Node-RED node ids: hex with an optional dot (older flows), or what an imported flow chose; never a path. */
const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

const TestBody = Type.Object({ target: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })) }, { additionalProperties: false });

export function notifiersRouter(deps: NotifiersRouterDeps): Router {
  const router = express.Router();
  const adminOnly = (req: Request, _res: Response, next: NextFunction) => {
    if (req.user?.role === 'admin') return next();
    next(
      new HttpError(
        403,
        'forbidden',
        `testing a notifier needs an admin; ${req.user ? `user "${req.user.username}" is a ${req.user.role}` : 'nobody is signed in'}`,
      ),
    );
  };

  router.post('/notifiers/:id/test', adminOnly, express.json({ limit: '16kb' }), validateBody(TestBody), (req: Request, res: Response, next: NextFunction) => {
    const { id } = req.params;
    if (!NODE_ID_PATTERN.test(id)) throw badRequest(`id: expected a notifier node id (letters, digits, ".", "_", "-"), got ${JSON.stringify(id.slice(0, 64))}`);
    const channel = deps.alerts.channelOf(id);
    if (!channel) throw notFound(`no notifier "${id}": no deployed notify-* node has this id`);
    const body = (req.body ?? {}) as { target?: string };
    const target = body.target ?? channel.testTargets?.()[0];
    if (!target) throw badRequest(`target: notifier "${id}" (${channel.kind}) has no configured target to test; give one in the body as { "target": "…" }`);
    sendTest(channel, id, target, req.user?.username ?? 'unknown', deps.timeoutMs ?? 15_000)
      .then((result) => {
        deps.log.info(
          { notifier: id, channel: channel.kind, delivered: result.delivered, statusCode: result.statusCode, user: req.user?.username },
          'notifier tested',
        );
        res.json(result);
      })
      .catch(next);
  });

  router.use(apiErrors(deps.log, 'notifier request failed'));
  return router;
}

/** A stored-alert-shaped test alert, with a valid CAP 1.2 document (status Test) for channels that send the XML. */
export function testAlert(now: number, notifier: string, user: string): StoredAlert {
  const id = eventId(now);
  const headline = 'Glimpser test alert';
  const description = `A test of notifier ${notifier}, sent by ${user} from the Glimpser API. No camera raised it; nothing needs doing.`;
  const capXml = serializeCap({
    identifier: `glimpser-test-${id}`,
    sender: 'glimpser',
    sent: formatCapTime(new Date(now)),
    status: 'Test',
    msgType: 'Alert',
    scope: 'Public',
    note: 'Test alert: no event raised it.',
    info: [
      { category: ['Security'], event: 'Test', urgency: 'Unknown', severity: 'Unknown', certainty: 'Unknown', senderName: 'Glimpser', headline, description },
    ],
  });
  return {
    id,
    identifier: `glimpser-test-${id}`,
    msgType: 'Alert',
    references: null,
    eventId: null,
    camera: 'test',
    sent: now,
    headline,
    description,
    severity: 'Unknown',
    capXml,
    snapshot: null,
    snapshotMissing: null,
  };
}

/** One send through the channel, outside the outbox: the delivery exists only for this call. */
async function sendTest(channel: Channel, notifier: string, target: string, user: string, timeoutMs: number): Promise<NotifierTestResult> {
  const now = Date.now();
  const alert = testAlert(now, notifier, user);
  const delivery: Delivery = {
    id: `test-${alert.id}`,
    alertId: alert.id,
    channel: channel.kind,
    notifier,
    target,
    idempotencyKey: `test-${alert.id}`,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    leaseUntil: null,
    lastError: null,
    createdAt: now,
    deliveredAt: null,
  };
  const base = { notifier, channel: channel.kind, target };
  try {
    const { statusCode } = await channel.send({ alert, delivery, snapshot: null, signal: AbortSignal.timeout(timeoutMs) });
    return { ...base, delivered: true, statusCode: statusCode ?? null, error: null, permanent: null };
  } catch (err) {
    if (err instanceof DeliveryError) return { ...base, delivered: false, statusCode: err.statusCode, error: err.message, permanent: err.permanent };
    return { ...base, delivered: false, statusCode: null, error: err instanceof Error ? err.message : String(err), permanent: null };
  }
}
