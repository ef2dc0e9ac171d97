import { Type } from '@sinclair/typebox';
import type { Request, Response, Router } from 'express';
import type { Delivery, DeliveryStatus, StoredAlert } from '../../core/alerts/index';
import { AlertQueryError, MAX_ALERT_PAGE, type AlertQuery, type AlertSummary } from '../../core/alerts/outbox';
import type { AlertServiceHandle } from '../../core/alerts/service';
import type { Logger } from '../../core/log/logger';
import { EVENT_ID_PATTERN } from '../../core/store/event-id';
import { apiErrors, badRequest, notFound, type HttpError } from './errors';
import { parseListQuery } from './query';
import { routerOf, type Route, type RouteAuth } from './route';
import { AlertSchema, DeliverySchema, listQuery, NextCursor } from './schemas';
import { listCamera, visible } from './scope';

/**
 * Stored CAP alerts and their delivery ledger under /api. Listings are newest first, from/to on the sent time;
 * `status` keeps alerts with at least one delivery in that state. A caller limited to some cameras sees only their
 * alerts: another camera's alert answers 404 as an unknown one.
 */
export interface AlertsRouterDeps {
  alerts: AlertServiceHandle;
  log: Logger;
}

export type AlertResponse = Omit<StoredAlert, 'capXml' | 'sent'> & {
  sent: string;
  sentMs: number;
  capUrl: string;
  deliveries?: Record<DeliveryStatus, number>;
};

/** `event` lists that event's alerts (an event has a few: Alert, its Updates, its Cancel) in one page. */
type AlertListQuery = AlertQuery & { event?: string };

const LIST_QUERY = {
  parameters: ['camera', 'status', 'event', 'from', 'to', 'limit', 'cursor'],
  copied: ['camera', 'status', 'event', 'cursor'],
  base: { limit: 50 },
  maxLimit: MAX_ALERT_PAGE,
} as const;

const AlertListQuery = listQuery(MAX_ALERT_PAGE, 50, {
  camera: Type.Optional(Type.String({ description: 'Only this camera (required for an account limited to several cameras).' })),
  status: Type.Optional(
    Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')], { description: 'Alerts with a delivery in this state.' }),
  ),
  event: Type.Optional(Type.String({ description: "Only this journal event's alerts, all in one page (no cursor)." })),
});
const AlertParams = Type.Object({ id: Type.String({ description: 'The alert id (a 26-character ULID).' }) });
const Attempt = Type.Object({}, { additionalProperties: true, description: 'One delivery attempt, as the outbox stores it.' });
const NO_ALERT = { description: 'No such alert.' };
const TAGS = ['alerts'];

export function alertRoutes(deps: AlertsRouterDeps): Route[] {
  const respond = (req: Request, alert: StoredAlert, deliveries?: AlertSummary['deliveries']): AlertResponse => {
    const { id, identifier, msgType, references, eventId, camera, sent, headline, description, severity, snapshot, snapshotMissing } = alert;
    // Listed field by field so the CAP document (served at capUrl) stays out of listings.
    const capUrl = `${req.baseUrl}/alerts/${id}/cap.xml`;
    const json: AlertResponse = {
      id,
      identifier,
      msgType,
      references,
      eventId,
      camera,
      sent: new Date(sent).toISOString(),
      sentMs: sent,
      headline,
      description,
      severity,
      snapshot,
      snapshotMissing,
      capUrl,
    };
    if (deliveries) json.deliveries = deliveries;
    return json;
  };
  /** The alert, if the caller may see its camera: another camera's alert is as unknown as a missing one. */
  const stored = (req: Request, id: string): StoredAlert => {
    checkId(id);
    const alert = deps.alerts.getAlert(id);
    if (!alert || !visible(req, alert.camera)) throw noAlert(id);
    return alert;
  };
  /** An event's alerts the caller may see, newest first, with the listing's other filters applied. */
  const eventAlerts = (req: Request, event: string, query: AlertQuery): AlertResponse[] => {
    if (!EVENT_ID_PATTERN.test(event)) throw badRequest(`event: expected an event id (a 26-character ULID), got ${JSON.stringify(event.slice(0, 64))}`);
    if (query.cursor !== undefined) throw badRequest("cursor: not used with event (an event's alerts come in one page)");
    if (query.status !== undefined && !Object.hasOwn(countOf([]), query.status))
      throw badRequest(`status: expected one of pending, delivered, dead, got ${JSON.stringify(query.status.slice(0, 64))}`);
    const chosen = deps.alerts
      .alertsOfEvent(event)
      .filter((alert) => visible(req, alert.camera) && (query.camera === undefined || alert.camera === query.camera))
      .filter((alert) => (query.from === undefined || alert.sent >= query.from) && (query.to === undefined || alert.sent < query.to))
      .reverse()
      .map((alert) => ({ alert, deliveries: countOf(deps.alerts.detail(alert.id)?.deliveries ?? []) }))
      .filter(({ deliveries }) => query.status === undefined || deliveries[query.status as DeliveryStatus] > 0);
    return chosen.slice(0, query.limit).map(({ alert, deliveries }) => respond(req, alert, deliveries));
  };

  return [
    {
      method: 'get',
      path: '/alerts',
      operationId: 'listAlerts',
      summary: 'List alerts, newest first',
      tags: TAGS,
      access: 'viewer',
      query: AlertListQuery,
      queryCheckedBy: 'handler',
      responses: { 200: { description: 'A page of alerts.', schema: Type.Object({ alerts: Type.Array(AlertSchema), next: NextCursor }) } },
      handler: (req: Request, res: Response) => {
        const { event, ...query } = parseListQuery<AlertListQuery>(req.query, { ...LIST_QUERY, base: { ...LIST_QUERY.base } });
        const scope = listCamera(req, query.camera);
        if (scope === 'hidden') return void res.json({ alerts: [], next: null });
        if (event !== undefined) return void res.json({ alerts: eventAlerts(req, event, { ...query, camera: scope.camera }), next: null });
        let page;
        try {
          page = deps.alerts.list({ ...query, camera: scope.camera });
        } catch (err) {
          if (err instanceof AlertQueryError) throw badRequest(err.message);
          throw err;
        }
        res.json({ alerts: page.alerts.map((summary) => respond(req, summary.alert, summary.deliveries)), next: page.next });
      },
    },
    {
      method: 'get',
      path: '/alerts/{id}',
      operationId: 'getAlert',
      summary: 'One alert with its deliveries and attempts',
      tags: TAGS,
      access: 'viewer',
      params: AlertParams,
      responses: {
        200: {
          description: 'The alert.',
          schema: Type.Object({ alert: AlertSchema, deliveries: Type.Array(DeliverySchema), attempts: Type.Array(Attempt) }),
        },
        404: NO_ALERT,
      },
      handler: (req: Request, res: Response) => {
        stored(req, req.params.id);
        const detail = deps.alerts.detail(req.params.id);
        if (!detail) throw noAlert(req.params.id);
        res.json({ alert: respond(req, detail.alert), deliveries: detail.deliveries, attempts: detail.attempts });
      },
    },
    {
      method: 'get',
      path: '/alerts/{id}/cap.xml',
      operationId: 'getAlertCap',
      summary: "An alert's CAP 1.2 document as stored",
      tags: TAGS,
      access: 'viewer',
      params: AlertParams,
      responses: { 200: { description: 'The CAP 1.2 document.', contentType: 'application/cap+xml', schema: Type.String() }, 404: NO_ALERT },
      handler: (req: Request, res: Response) => {
        res.type('application/cap+xml; charset=utf-8').send(stored(req, req.params.id).capXml);
      },
    },
    {
      method: 'post',
      path: '/alerts/{id}/retry',
      operationId: 'retryAlert',
      summary: "Retry an alert's dead-lettered deliveries",
      description: 'Each dead delivery is due again, with fresh attempts.',
      tags: TAGS,
      access: 'operator',
      params: AlertParams,
      responses: { 200: { description: 'The deliveries retried.', schema: Type.Object({ retried: Type.Array(DeliverySchema) }) }, 404: NO_ALERT },
      handler: (req: Request, res: Response) => {
        stored(req, req.params.id);
        const retried: Delivery[] | null = deps.alerts.retryDead(req.params.id);
        if (retried === null) throw noAlert(req.params.id);
        deps.log.info({ alert: req.params.id, deliveries: retried.length, user: req.user?.username }, 'alert deliveries retried through the API');
        res.json({ retried });
      },
    },
  ];
}

/** The alert routes on their own router, with their error answers (for tests and embedding). */
export function alertsRouter(deps: AlertsRouterDeps & { auth: RouteAuth }): Router {
  return routerOf(alertRoutes(deps), deps.auth).use(apiErrors(deps.log, 'alert request failed'));
}

function countOf(deliveries: Delivery[]): Record<DeliveryStatus, number> {
  const counts: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, dead: 0 };
  for (const delivery of deliveries) counts[delivery.status] += 1;
  return counts;
}

function checkId(id: string): void {
  if (!EVENT_ID_PATTERN.test(id)) throw badRequest(`id: expected an alert id (a 26-character ULID), got ${JSON.stringify(id.slice(0, 64))}`);
}

function noAlert(id: string): HttpError {
  return notFound(`no alert "${id}"`);
}
