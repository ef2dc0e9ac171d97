import { Type } from '@sinclair/typebox';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from '../../core/log/logger';
import { eventJson, type EventJson } from '../../core/store/event-json';
import type { EventJournal, EventQuery, StoredEvent } from '../../core/store/journal';
import { apiErrors, notFound, type HttpError } from './errors';
import { parseListQuery, queryJournal } from './query';
import { validateBody } from './validate';

/**
 * The event journal under /api, mounted after authentication.
 *
 * GET  /events?camera=&type=&zone=&from=&to=&limit=&cursor=
 *        from/to: ISO 8601 (a date, or a date-time with a zone) or milliseconds; from inclusive, to exclusive,
 *        both on the start time. limit 1-500, default 50. cursor: the `next` of the previous page.
 *      → 200 { events: Event[], next: string | null }          newest first
 * GET  /events/:id                → 200 { event: Event }            404 when there is no such event
 * GET  /events/:id/snapshot.jpg   → 200 image/jpeg                  404 when there is no event or no snapshot
 * POST /events/:id/keep { keep: boolean } → 200 { event: Event }    kept events are never deleted by retention
 *
 * Event = { id, camera, type, subtype, startTime (ISO), startTimeMs, endTime (ISO | null), endTimeMs, score,
 *           boxes: [{ x, y, width, height }] (fractions of the picture), zones: string[], hasSnapshot, kept,
 *           data: object, createdAt, createdAtMs, updatedAt, updatedAtMs, snapshotUrl: string | null }
 * Errors: 400/404 { error: 'invalid_request' | 'not_found', message } where the message names the parameter.
 */
export interface EventsRouterDeps {
  journal: EventJournal;
  log: Logger;
}

export type EventResponse = EventJson & { snapshotUrl: string | null };

const KeepBody = Type.Object({ keep: Type.Boolean() }, { additionalProperties: false });
/** Turns the query string into a journal query; the journal itself checks camera, type, zone and cursor. */
const LIST_QUERY = {
  parameters: ['camera', 'type', 'zone', 'from', 'to', 'limit', 'cursor'],
  copied: ['camera', 'type', 'zone', 'cursor'],
  base: { limit: 50 },
} as const;

export function eventsRouter(deps: EventsRouterDeps): Router {
  const { journal, log } = deps;
  const router = express.Router();
  const respond = (req: Request, event: StoredEvent): EventResponse => {
    const json = eventJson(event);
    return { ...json, snapshotUrl: json.hasSnapshot ? `${req.baseUrl}/events/${event.id}/snapshot.jpg` : null };
  };
  const stored = (id: string): StoredEvent => {
    const event = journal.get(id);
    if (!event) throw noEvent(id);
    return event;
  };

  router.get('/events', (req: Request, res: Response) => {
    const page = queryJournal(journal, parseListQuery<EventQuery>(req.query, { ...LIST_QUERY, base: { ...LIST_QUERY.base } }));
    res.json({ events: page.events.map((event) => respond(req, event)), next: page.next });
  });

  router.get('/events/:id', (req: Request, res: Response) => {
    res.json({ event: respond(req, stored(req.params.id)) });
  });

  router.get('/events/:id/snapshot.jpg', (req: Request, res: Response, next: NextFunction) => {
    const { id } = req.params;
    stored(id);
    const file = journal.snapshotPath(id);
    if (file === null) throw noSnapshot(id);
    // The containment check is the journal's; dot folders in the data path (e.g. ~/.glimpser) are fine.
    res.sendFile(
      file,
      { dotfiles: 'allow', headers: { 'Content-Type': 'image/jpeg', 'Cache-Control': 'private, no-cache' } },
      (err?: NodeJS.ErrnoException) => {
        if (!err) return;
        // Deleted by retention between the look-up and the read.
        next(err.code === 'ENOENT' ? noSnapshot(id) : err);
      },
    );
  });

  router.post('/events/:id/keep', express.json({ limit: '1kb' }), validateBody(KeepBody), (req: Request, res: Response) => {
    const event = journal.keep(req.params.id, (req.body as { keep: boolean }).keep);
    if (!event) throw noEvent(req.params.id);
    res.json({ event: respond(req, event) });
  });

  router.use(apiErrors(log, 'event request failed'));
  return router;
}

function noEvent(id: string): HttpError {
  return notFound(`no event "${id}"`);
}

function noSnapshot(id: string): HttpError {
  return notFound(`event "${id}" has no snapshot`);
}
