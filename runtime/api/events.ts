import { Type } from '@sinclair/typebox';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from '../../core/log/logger';
import { EventValidationError } from '../../core/store/event';
import { eventJson, type EventJson } from '../../core/store/event-json';
import type { EventJournal, EventQuery, StoredEvent } from '../../core/store/journal';
import { MAX_QUERY_LIMIT } from '../../core/store/journal-query';
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
const QUERY_PARAMETERS = ['camera', 'type', 'zone', 'from', 'to', 'limit', 'cursor'];
const DEFAULT_LIMIT = 50;
const TIME_EXPECTED = 'expected an ISO 8601 time or milliseconds';
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

class BadRequest extends Error {}

export function eventsRouter(deps: EventsRouterDeps): Router {
  const { journal, log } = deps;
  const router = express.Router();
  const respond = (req: Request, event: StoredEvent): EventResponse => {
    const json = eventJson(event);
    return { ...json, snapshotUrl: json.hasSnapshot ? `${req.baseUrl}/events/${event.id}/snapshot.jpg` : null };
  };

  router.get('/events', (req: Request, res: Response) => {
    try {
      const page = journal.query(parseQuery(req.query));
      res.json({ events: page.events.map((event) => respond(req, event)), next: page.next });
    } catch (err) {
      if (!(err instanceof BadRequest || err instanceof EventValidationError)) throw err;
      res.status(400).json({ error: 'invalid_request', message: err.message });
    }
  });

  router.get('/events/:id', (req: Request, res: Response) => {
    const event = journal.get(req.params.id);
    if (!event) return notFound(res, req.params.id);
    res.json({ event: respond(req, event) });
  });

  router.get('/events/:id/snapshot.jpg', (req: Request, res: Response, next: NextFunction) => {
    const { id } = req.params;
    if (!journal.get(id)) return notFound(res, id);
    const file = journal.snapshotPath(id);
    const noSnapshot = () => res.status(404).json({ error: 'not_found', message: `event "${id}" has no snapshot` });
    if (file === null) return noSnapshot();
    // The containment check is the journal's; dot folders in the data path (e.g. ~/.glimpser) are fine.
    res.sendFile(file, { dotfiles: 'allow', headers: { 'Content-Type': 'image/jpeg', 'Cache-Control': 'private, no-cache' } }, (err?: NodeJS.ErrnoException) => {
      if (!err) return;
      // Deleted by retention between the look-up and the read.
      if (err.code === 'ENOENT' && !res.headersSent) noSnapshot();
      else next(err);
    });
  });

  router.post('/events/:id/keep', express.json({ limit: '1kb' }), validateBody(KeepBody), (req: Request, res: Response) => {
    const event = journal.keep(req.params.id, (req.body as { keep: boolean }).keep);
    if (!event) return notFound(res, req.params.id);
    res.json({ event: respond(req, event) });
  });

  // Only reached when this router runs on its own; under apiRouter errors are answered there first.
  router.use((err: Error & { type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'invalid_request', message: `body: not valid JSON (${err.message})` });
      return;
    }
    log.error({ err: err.message }, 'event request failed');
    res.status(500).json({ error: 'internal', message: 'internal error; see the server log' });
  });
  return router;
}

function notFound(res: Response, id: string): void {
  res.status(404).json({ error: 'not_found', message: `no event "${id}"` });
}

/** Turns the query string into a journal query; the journal itself checks camera, type, zone and cursor. */
function parseQuery(query: Request['query']): EventQuery {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    if (!QUERY_PARAMETERS.includes(name)) throw new BadRequest(`${name}: unknown query parameter; expected one of ${QUERY_PARAMETERS.join(', ')}`);
    if (Array.isArray(value)) throw new BadRequest(`${name}: expected one value, got ${value.length}`);
    if (typeof value !== 'string') throw new BadRequest(`${name}: expected a plain value, got a nested one`);
    values[name] = value;
  }
  const parsed: EventQuery = { limit: DEFAULT_LIMIT };
  if (values.limit !== undefined) {
    if (!/^\d{1,3}$/.test(values.limit) || Number(values.limit) < 1 || Number(values.limit) > MAX_QUERY_LIMIT) {
      throw new BadRequest(`limit: expected a whole number from 1 to ${MAX_QUERY_LIMIT}, got ${JSON.stringify(values.limit)}`);
    }
    parsed.limit = Number(values.limit);
  }
  for (const name of ['camera', 'type', 'zone', 'cursor'] as const) if (values[name] !== undefined) parsed[name] = values[name];
  if (values.from !== undefined) parsed.from = parseTime('from', values.from);
  if (values.to !== undefined) parsed.to = parseTime('to', values.to);
  if (parsed.from !== undefined && parsed.to !== undefined && parsed.from >= parsed.to) {
    throw new BadRequest(`from must be before to (got from ${JSON.stringify(values.from)} and to ${JSON.stringify(values.to)})`);
  }
  return parsed;
}

/** Milliseconds, or ISO 8601: a date (midnight UTC) or a date-time with its zone, since a zone-less one is ambiguous. */
function parseTime(name: string, text: string): number {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const match = ISO_TIME.exec(text);
  const ms = match ? Date.parse(text) : Number.NaN;
  const [year, month, day] = [Number(match?.[1]), Number(match?.[2]), Number(match?.[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  // Date.parse rolls 2024-02-30 over to 1 March instead of refusing it.
  if (!match || Number.isNaN(ms) || ms < 0 || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) {
    throw new BadRequest(`${name}: ${TIME_EXPECTED}, got ${JSON.stringify(text)}`);
  }
  if (match[4] !== undefined && match[7] === undefined) throw new BadRequest(`${name}: ${TIME_EXPECTED}, got ${JSON.stringify(text)} (a date-time needs a zone: Z or +02:00)`);
  return ms;
}
