import { readFile } from 'node:fs/promises';
import { Type } from '@sinclair/typebox';
import type { Request, Response, Router } from 'express';
import { formatCapTime, serializeCap } from '../../core/alerts/cap';
import { DeliveryError, type Channel, type Delivery, type StoredAlert } from '../../core/alerts/index';
import type { AlertServiceHandle } from '../../core/alerts/service';
import type { Logger } from '../../core/log/logger';
import { eventId } from '../../core/store/event-id';
import { apiErrors, badRequest, notFound } from './errors';
import { routerOf, type Route, type RouteAuth } from './route';

/**
 * Notifier checks under /api.
 *
 * POST /notifiers/{id}/test sends one test alert (CAP status "Test", camera "test") through the channel the notify-*
 * node with this id registered, to `target` or else to the notifier's configured targets (Channel.testTargets), and
 * waits for the answer. The test is NOT written to the outbox or the delivery ledger: it is tried once, not retried,
 * and the node's status is not changed; a failing receiver is reported here and nowhere else.
 *
 * Admin only: test alerts reach real people and services.
 */
export interface NotifiersRouterDeps {
  alerts: AlertServiceHandle;
  log: Logger;
  /** How long one test send may take before it is abandoned (default 15 s). */
  timeoutMs?: number;
  /** Node-RED's deployed flows file (`<dataDir>/node-red/flows.json`): GET /notifiers lists its notify-* nodes. */
  flowsFile?: string;
}

/** A notify-* node of the deployed flows, as GET /notifiers shows it. */
export interface NotifierListing {
  id: string;
  type: string;
  name: string;
  disabled: boolean;
  configured: boolean;
  lastResult: { at: string; outcome: string; statusCode: number | null; error: string | null } | null;
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

const TestResult = Type.Object({
  notifier: Type.String(),
  channel: Type.String(),
  target: Type.String(),
  delivered: Type.Boolean({ description: 'false: why in `error`.' }),
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  permanent: Type.Union([Type.Boolean(), Type.Null()], { description: 'For a failed send: whether retrying would not help.' }),
});

const Listing = Type.Object({
  id: Type.String(),
  type: Type.String({ description: 'notify-webhook, notify-email, notify-sms, notify-push, ...' }),
  name: Type.String(),
  disabled: Type.Boolean({ description: 'The node or its flow is disabled in the editor.' }),
  configured: Type.Boolean({ description: 'The node registered its channel: it can send (and be tested).' }),
  lastResult: Type.Union(
    [
      Type.Object({
        at: Type.String({ format: 'date-time' }),
        outcome: Type.String({ description: 'delivered, retry or dead.' }),
        statusCode: Type.Union([Type.Integer(), Type.Null()]),
        error: Type.Union([Type.String(), Type.Null()]),
      }),
      Type.Null(),
    ],
    { description: 'The last delivery attempt since start (test sends are not counted).' },
  ),
});

interface FlowNode {
  id?: unknown;
  type?: unknown;
  name?: unknown;
  z?: unknown;
  d?: unknown;
}

/** The notify-* nodes of the flows file; an unreadable or missing file lists none (no flow deployed yet). */
async function notifierNodes(flowsFile: string | undefined): Promise<FlowNode[]> {
  if (!flowsFile) return [];
  let nodes: unknown;
  try {
    nodes = JSON.parse(await readFile(flowsFile, 'utf8'));
  } catch {
    return [];
  }
  if (!Array.isArray(nodes)) return [];
  const flowNodes = nodes as FlowNode[];
  const disabledTabs = new Set(flowNodes.filter((n) => n.type === 'tab' && n.d === true).map((n) => n.id));
  return flowNodes
    .filter((n) => typeof n.id === 'string' && typeof n.type === 'string' && n.type.startsWith('notify-'))
    .map((n) => ({ ...n, d: n.d === true || disabledTabs.has(n.z) }));
}

export function notifierRoutes(deps: NotifiersRouterDeps): Route[] {
  const lastResults = new Map<string, NotifierListing['lastResult']>();
  try {
    deps.alerts.onResult(({ delivery, outcome, statusCode, error, at }) => {
      lastResults.set(delivery.notifier, { at: new Date(at).toISOString(), outcome, statusCode, error });
    });
  } catch {
    // The alert service is off (the API's stand-in throws): no deliveries, so no results to show.
  }
  return [
    {
      method: 'get',
      path: '/notifiers',
      operationId: 'listNotifiers',
      summary: 'The notify-* nodes of the deployed flows',
      description: 'Each with whether it registered its channel (configured: it can send and be tested) and its last delivery attempt since start.',
      tags: ['notifiers'],
      access: 'admin',
      responses: { 200: { description: 'The notifiers.', schema: Type.Object({ notifiers: Type.Array(Listing) }) } },
      handler: async (_req: Request, res: Response) => {
        const notifiers: NotifierListing[] = (await notifierNodes(deps.flowsFile)).map((n) => {
          const id = n.id as string;
          let configured = false;
          try {
            configured = deps.alerts.channelOf(id) !== undefined;
          } catch {
            // No alert service: nothing is configured.
          }
          return {
            id,
            type: n.type as string,
            name: typeof n.name === 'string' && n.name ? n.name : (n.type as string),
            disabled: n.d === true,
            configured,
            lastResult: lastResults.get(id) ?? null,
          };
        });
        res.json({ notifiers });
      },
    },
    {
      method: 'post',
      path: '/notifiers/{id}/test',
      operationId: 'testNotifier',
      summary: 'Send a test alert through a notifier',
      tags: ['notifiers'],
      access: 'admin',
      params: Type.Object({ id: Type.String({ description: 'The notify-* node id.' }) }),
      body: { schema: TestBody, limitBytes: 16 * 1024, required: false },
      responses: {
        200: { description: 'What the receiver answered (delivered or not).', schema: TestResult },
        404: { description: 'No notifier with this id is deployed.' },
      },
      handler: async (req: Request, res: Response) => {
        const { id } = req.params;
        if (!NODE_ID_PATTERN.test(id))
          throw badRequest(`id: expected a notifier node id (letters, digits, ".", "_", "-"), got ${JSON.stringify(id.slice(0, 64))}`);
        const channel = deps.alerts.channelOf(id);
        if (!channel) throw notFound(`no notifier "${id}": no deployed notify-* node has this id`);
        const body = (req.body ?? {}) as { target?: string };
        const target = body.target ?? channel.testTargets?.()[0];
        if (!target) throw badRequest(`target: notifier "${id}" (${channel.kind}) has no configured target to test; give one in the body as { "target": "…" }`);
        const user = req.user?.username;
        const result = await sendTest(channel, id, target, user ?? 'unknown', deps.timeoutMs ?? 15_000);
        deps.log.info({ notifier: id, channel: channel.kind, delivered: result.delivered, statusCode: result.statusCode, user }, 'notifier tested');
        res.json(result);
      },
    },
  ];
}

/** The notifier routes on their own router, with their error answers (for tests and embedding). */
export function notifiersRouter(deps: NotifiersRouterDeps & { auth: RouteAuth }): Router {
  return routerOf(notifierRoutes(deps), deps.auth).use(apiErrors(deps.log, 'notifier request failed'));
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
