import express, { type Request, type Response, type Router } from 'express';
import type { Delivery, DeliveryStatus, StoredAlert } from '../../core/alerts/index';
import { AlertQueryError, MAX_ALERT_PAGE, type AlertQuery, type AlertSummary } from '../../core/alerts/outbox';
import type { AlertServiceHandle } from '../../core/alerts/service';
import type { Logger } from '../../core/log/logger';
import { EVENT_ID_PATTERN } from '../../core/store/event-id';
import { apiErrors, badRequest, notFound, type HttpError } from './errors';
import { parseListQuery } from './query';

/**
 * Stored CAP alerts and their delivery ledger under /api, mounted after authentication.
 *
 * GET  /alerts?camera=&status=&from=&to=&limit=&cursor=
 *        status: pending | delivered | dead (alerts with at least one delivery in that state); from/to on the
 *        alert's sent time (ISO 8601 or ms; from inclusive, to exclusive); limit 1-500, default 50; cursor: the
 *        `next` of the previous page.
 *      → 200 { alerts: Alert[], next: string | null }          newest first
 * GET  /alerts/:id          → 200 { alert: Alert, deliveries: Delivery[], attempts: Attempt[] }
 * GET  /alerts/:id/cap.xml  → 200 application/cap+xml, the CAP 1.2 document as stored
 * POST /alerts/:id/retry    → 200 { retried: Delivery[] }     dead-lettered deliveries due again, with fresh attempts
 *
 * Alert = { id, identifier, msgType, references, eventId, camera, sent (ISO), sentMs, headline, description,
 *           severity, snapshot, snapshotMissing, capUrl, deliveries?: { pending, delivered, dead } (in lists) }
 * Delivery and Attempt are as the outbox stores them (times in ms since the epoch).
 * Errors: 400/404 { error: 'invalid_request' | 'not_found', message } where the message names the parameter.
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

const LIST_QUERY = {
  parameters: ['camera', 'status', 'from', 'to', 'limit', 'cursor'],
  copied: ['camera', 'status', 'cursor'],
  base: { limit: 50 },
  maxLimit: MAX_ALERT_PAGE,
} as const;

export function alertsRouter(deps: AlertsRouterDeps): Router {
  const { alerts, log } = deps;
  const router = express.Router();
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
  const stored = (id: string): StoredAlert => {
    checkId(id);
    const alert = alerts.getAlert(id);
    if (!alert) throw noAlert(id);
    return alert;
  };

  router.get('/alerts', (req: Request, res: Response) => {
    const query = parseListQuery<AlertQuery>(req.query, { ...LIST_QUERY, base: { ...LIST_QUERY.base } });
    let page;
    try {
      page = alerts.list(query);
    } catch (err) {
      if (err instanceof AlertQueryError) throw badRequest(err.message);
      throw err;
    }
    res.json({ alerts: page.alerts.map((summary) => respond(req, summary.alert, summary.deliveries)), next: page.next });
  });

  router.get('/alerts/:id', (req: Request, res: Response) => {
    checkId(req.params.id);
    const detail = alerts.detail(req.params.id);
    if (!detail) throw noAlert(req.params.id);
    res.json({ alert: respond(req, detail.alert), deliveries: detail.deliveries, attempts: detail.attempts });
  });

  router.get('/alerts/:id/cap.xml', (req: Request, res: Response) => {
    const alert = stored(req.params.id);
    res.type('application/cap+xml; charset=utf-8').send(alert.capXml);
  });

  router.post('/alerts/:id/retry', (req: Request, res: Response) => {
    checkId(req.params.id);
    const retried: Delivery[] | null = alerts.retryDead(req.params.id);
    if (retried === null) throw noAlert(req.params.id);
    log.info({ alert: req.params.id, deliveries: retried.length, user: req.user?.username }, 'alert deliveries retried through the API');
    res.json({ retried });
  });

  router.use(apiErrors(log, 'alert request failed'));
  return router;
}

function checkId(id: string): void {
  if (!EVENT_ID_PATTERN.test(id)) throw badRequest(`id: expected an alert id (a 26-character ULID), got ${JSON.stringify(id.slice(0, 64))}`);
}

function noAlert(id: string): HttpError {
  return notFound(`no alert "${id}"`);
}
