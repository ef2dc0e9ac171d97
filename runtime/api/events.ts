import { Type } from '@sinclair/typebox';
import type { NextFunction, Request, Response, Router } from 'express';
import type { Logger } from '../../core/log/logger';
import { eventJson, type EventJson } from '../../core/store/event-json';
import { MAX_QUERY_LIMIT } from '../../core/store/journal-query';
import type { EventJournal, EventQuery, StoredEvent } from '../../core/store/journal';
import type { MediaLinks } from '../../core/alerts/media-links';
import { apiErrors, HttpError, notFound } from './errors';
import { parseListQuery, queryJournal } from './query';
import { routerOf, type Route, type RouteAuth } from './route';
import { EventSchema, JpegResponse, KeepBody, listQuery, NextCursor } from './schemas';
import { listCamera, visible } from './scope';

/**
 * The event journal under /api. Listings are newest first; from/to are on the start time. A caller limited to some
 * cameras sees only their events (runtime/api/scope.ts): another camera's event answers 404 as an unknown one.
 */
export interface EventsRouterDeps {
  journal: EventJournal;
  log: Logger;
  /** Checks the signed snapshot links alerts carry; without it those links are refused. */
  links?: MediaLinks;
}

export type EventResponse = EventJson & { snapshotUrl: string | null };

const SignedLinkQuery = Type.Object(
  {
    expires: Type.String({ pattern: '^[0-9]{1,12}$', description: 'When the link stops working, in seconds since the epoch.' }),
    sig: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'HMAC-SHA256 of the event id and expiry, base64url.' }),
  },
  { additionalProperties: false },
);

/** Turns the query string into a journal query; the journal itself checks camera, type, zone and cursor. */
const LIST_QUERY = {
  parameters: ['camera', 'type', 'zone', 'from', 'to', 'limit', 'cursor'],
  copied: ['camera', 'type', 'zone', 'cursor'],
  base: { limit: 50 },
} as const;

const EventListQuery = listQuery(MAX_QUERY_LIMIT, 50, {
  camera: Type.Optional(Type.String({ description: 'Only this camera (required for an account limited to several cameras).' })),
  type: Type.Optional(Type.String({ description: 'Only this event type, e.g. motion.' })),
  zone: Type.Optional(Type.String({ description: 'Only events touching this zone.' })),
});
const EventParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'The event id.' }) });
const EventAnswer = Type.Object({ event: EventSchema });
const TAGS = ['events'];

export function eventRoutes(deps: EventsRouterDeps): Route[] {
  const sendSnapshot = (id: string, res: Response, next: NextFunction): void => {
    const file = deps.journal.snapshotPath(id);
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
  };
  const respond = (req: Request, event: StoredEvent): EventResponse => {
    const json = eventJson(event);
    return { ...json, snapshotUrl: json.hasSnapshot ? `${req.baseUrl}/events/${event.id}/snapshot.jpg` : null };
  };
  // Events as JSON text by (id, updatedAt, base path): dashboards ask for the newest page again and again, and
  // formatting the same events was most of GET /events' time (bench/api). An event that changes gets a new updatedAt,
  // so a stale text is never served.
  const texts = new Lru<string>(5000);
  // Whole answers of the listing by query, camera scope and the journal's version: any change a reader could see (a
  // new or changed event, a retention pass) moves the version, so a stale page is never served; answers over 1 MiB
  // are not kept.
  const pages = new Lru<string>(256);
  /** The event, if the caller may see its camera: another camera's event is as unknown as a missing one. */
  const stored = (req: Request, id: string): StoredEvent => {
    const event = deps.journal.get(id);
    if (!event || !visible(req, event.camera)) throw noEvent(id);
    return event;
  };

  return [
    {
      method: 'get',
      path: '/events',
      operationId: 'listEvents',
      summary: 'List events, newest first',
      tags: TAGS,
      access: 'viewer',
      query: EventListQuery,
      queryCheckedBy: 'handler',
      responses: { 200: { description: 'A page of events.', schema: Type.Object({ events: Type.Array(EventSchema), next: NextCursor }) } },
      handler: (req: Request, res: Response) => {
        const query = parseListQuery<EventQuery>(req.query, { ...LIST_QUERY, base: { ...LIST_QUERY.base } });
        const scope = listCamera(req, query.camera);
        if (scope === 'hidden') return void res.json({ events: [], next: null });
        const key = JSON.stringify([deps.journal.version, req.baseUrl, query, scope.camera ?? null]);
        let body = pages.get(key);
        if (body === undefined) {
          const page = queryJournal(deps.journal, { ...query, camera: scope.camera });
          // The same JSON as res.json({events, next}), with each event's text reused while the event is unchanged.
          const events = page.events.map((event) => {
            const textKey = `${event.id}\0${event.updatedAt}\0${req.baseUrl}`;
            return texts.get(textKey) ?? texts.set(textKey, JSON.stringify(respond(req, event)));
          });
          body = `{"events":[${events.join(',')}],"next":${JSON.stringify(page.next)}}`;
          if (body.length <= 1024 * 1024) pages.set(key, body);
        }
        res.type('json').send(body);
      },
    },
    {
      method: 'get',
      path: '/events/{id}',
      operationId: 'getEvent',
      summary: 'One event',
      tags: TAGS,
      access: 'viewer',
      params: EventParams,
      responses: { 200: { description: 'The event.', schema: EventAnswer }, 404: { description: 'No such event.' } },
      handler: (req: Request, res: Response) => {
        res.json({ event: respond(req, stored(req, req.params.id)) });
      },
    },
    {
      method: 'get',
      path: '/events/{id}/snapshot.jpg',
      operationId: 'getEventSnapshot',
      summary: "An event's snapshot",
      tags: TAGS,
      access: 'viewer',
      params: EventParams,
      responses: { 200: JpegResponse, 404: { description: 'No such event, or it has no snapshot.' } },
      handler: (req: Request, res: Response, next: NextFunction) => {
        stored(req, req.params.id);
        sendSnapshot(req.params.id, res, next);
      },
    },
    {
      method: 'get',
      path: '/media/events/{id}/snapshot.jpg',
      operationId: 'getSignedEventSnapshot',
      summary: "An event's snapshot through a signed, expiring link",
      description:
        'The link MMS, webhooks and mail carry (core/alerts/media-links.ts), for those who fetch the picture without signing in, such as Twilio. It opens this one snapshot until `expires`; a changed event id, expiry or signature is refused.',
      tags: TAGS,
      access: 'public',
      params: EventParams,
      query: SignedLinkQuery,
      responses: {
        200: JpegResponse,
        403: { description: 'The signature does not match, or the link has expired.' },
        404: { description: 'The event or its snapshot is gone.' },
      },
      handler: (req: Request, res: Response, next: NextFunction) => {
        const { id } = req.params;
        const { expires, sig } = req.query as { expires: string; sig: string };
        const verdict = deps.links ? deps.links.check(id, Number(expires), sig) : 'invalid';
        if (verdict !== 'ok')
          throw new HttpError(
            403,
            'forbidden',
            verdict === 'expired' ? 'this snapshot link has expired' : 'sig: this link was not signed here for this event and expiry',
          );
        if (!deps.journal.get(id)) throw noEvent(id);
        sendSnapshot(id, res, next);
      },
    },
    {
      method: 'post',
      path: '/events/{id}/keep',
      operationId: 'keepEvent',
      summary: 'Keep an event from retention, or release it',
      description: 'Kept events are never deleted by retention.',
      tags: TAGS,
      access: 'operator',
      params: EventParams,
      body: { schema: KeepBody, limitBytes: 1024 },
      responses: { 200: { description: 'The event as it is now.', schema: EventAnswer }, 404: { description: 'No such event.' } },
      handler: (req: Request, res: Response) => {
        stored(req, req.params.id);
        const event = deps.journal.keep(req.params.id, (req.body as { keep: boolean }).keep);
        if (!event) throw noEvent(req.params.id);
        deps.log.info({ event: event.id, kept: event.kept, user: req.user?.username }, 'event keep changed through the API');
        res.json({ event: respond(req, event) });
      },
    },
  ];
}

/** The event routes on their own router, with their error answers (for tests and embedding). */
export function eventsRouter(deps: EventsRouterDeps & { auth: RouteAuth }): Router {
  return routerOf(eventRoutes(deps), deps.auth).use(apiErrors(deps.log, 'event request failed'));
}

/** A map of at most `max` entries, least recently used first out. */
class Lru<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: V): V {
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}

function noEvent(id: string): HttpError {
  return notFound(`no event "${id}"`);
}

function noSnapshot(id: string): HttpError {
  return notFound(`event "${id}" has no snapshot`);
}
