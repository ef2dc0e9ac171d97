import { Type } from '@sinclair/typebox';
import type { NextFunction, Request, Response, Router } from 'express';
import { activeAlerts, atomFeed } from '../../core/alerts/atom';
import {
  CAP_MAX_BYTES,
  CAP_PROFILES,
  CapError,
  checkCapProfile,
  parseCap,
  validateCapXml,
  type CapProblem,
  type CapProfileResult,
} from '../../core/alerts/cap';
import type { AlertServiceHandle } from '../../core/alerts/service';
import type { Logger } from '../../core/log/logger';
import type { AlertQuery } from '../../core/alerts/outbox';
import { apiErrors, badRequest, HttpError, notFound } from './errors';
import { routerOf, type Route, type RouteAuth } from './route';
import { visible } from './scope';

/**
 * CAP 1.2 tools under /api.
 *
 * POST /cap/validate checks a document against the OASIS XSD and the chosen profiles. `valid` is the XSD's verdict
 * (profile findings are reported beside it); a profile is null when the document breaks the XSD, since profiles read
 * the parsed alert. A document refused before validation (DOCTYPE or ENTITY, not well-formed, CAP 1.0/1.1, not an
 * alert) is a 400; one over 1 MiB a 413 on its Content-Length before any of it is read. It changes nothing, so a
 * viewer may use it.
 *
 * GET /cap/alerts.atom is the active alerts (core/alerts/atom.ts), newest first, at most 100, each entry linking to
 * /api/alerts/<id>/cap.xml; a caller limited to some cameras gets only their alerts.
 */
export interface CapRouterDeps {
  /** Without one, the feed answers 404. */
  alerts?: AlertServiceHandle;
  log: Logger;
  now?: () => number;
}

const CAP_MEDIA_TYPES = ['application/xml', 'application/cap+xml', 'text/xml'];

export interface CapVerdict {
  valid: boolean;
  version: '1.2';
  xsd: CapProblem[];
  profiles: Record<string, CapProfileResult | null>;
}

const Problem = Type.Object({ xpath: Type.Optional(Type.String()), line: Type.Optional(Type.Integer()), message: Type.String() });
const Verdict = Type.Object({
  valid: Type.Boolean(),
  version: Type.Literal('1.2'),
  xsd: Type.Array(Problem),
  profiles: Type.Record(Type.String(), Type.Union([Type.Object({ errors: Type.Array(Problem), recommendations: Type.Array(Problem) }), Type.Null()])),
});
const TAGS = ['cap'];

export function capRoutes(deps: CapRouterDeps): Route[] {
  const now = deps.now ?? Date.now;
  return [
    {
      method: 'post',
      path: '/cap/validate',
      operationId: 'validateCap',
      summary: 'Validate a CAP 1.2 document',
      tags: TAGS,
      access: 'viewer',
      query: Type.Object(
        { profile: Type.Optional(Type.String({ description: `Profiles to check, comma-separated: ${Object.keys(CAP_PROFILES).join(', ')} (default: all).` })) },
        { additionalProperties: false },
      ),
      queryCheckedBy: 'handler',
      body: { schema: Type.String({ description: 'A CAP 1.2 alert.' }), contentType: CAP_MEDIA_TYPES, limitBytes: CAP_MAX_BYTES, parsedBy: 'handler' },
      responses: { 200: { description: 'The verdict.', schema: Verdict } },
      handler: (req: Request, res: Response, next: NextFunction) => {
        // Everything that can be refused without the body is refused before any of it is read.
        const profiles = selectedProfiles(req.query);
        checkContentType(req.headers['content-type']);
        readCapped(req, CAP_MAX_BYTES)
          .then((body) => verdict(body, profiles))
          .then((result) => res.json(result), next);
      },
    },
    {
      method: 'get',
      path: '/cap/alerts.atom',
      operationId: 'capAlertFeed',
      summary: 'The active alerts as an Atom feed',
      tags: TAGS,
      access: 'viewer',
      query: Type.Object({}, { additionalProperties: false }),
      queryCheckedBy: 'handler',
      responses: {
        200: { description: 'An Atom feed.', contentType: 'application/atom+xml', schema: Type.String() },
        404: { description: 'No alert service.' },
      },
      handler: async (req: Request, res: Response) => {
        const unknown = Object.keys(req.query)[0];
        if (unknown !== undefined) throw badRequest(`${unknown}: unknown query parameter; this feed takes none`);
        const alerts = deps.alerts;
        if (!alerts) throw notFound('the alert service is not running');
        const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}`;
        const at = now();
        const listVisible = (query: AlertQuery) => {
          const page = alerts.list(query);
          return { ...page, alerts: page.alerts.filter((summary) => visible(req, summary.alert.camera)) };
        };
        const active = await activeAlerts(listVisible, at);
        const feed = atomFeed(active, { selfUrl: `${origin}/cap/alerts.atom`, capUrl: (alert) => `${origin}/alerts/${alert.id}/cap.xml`, now: at });
        res.type('application/atom+xml; charset=utf-8').send(feed);
      },
    },
  ];
}

/** The CAP routes on their own router, with their error answers (for tests and embedding). */
export function capRouter(deps: CapRouterDeps & { auth: RouteAuth }): Router {
  return routerOf(capRoutes(deps), deps.auth).use(apiErrors(deps.log, 'CAP request failed'));
}

function selectedProfiles(query: Request['query']): string[] {
  const ids = Object.keys(CAP_PROFILES);
  for (const name of Object.keys(query)) if (name !== 'profile') throw badRequest(`${name}: unknown query parameter; expected profile`);
  const value = query.profile;
  if (value === undefined) return ids;
  if (typeof value !== 'string') throw badRequest('profile: expected one comma-separated list of profile ids');
  const chosen = value.split(',').map((id) => id.trim());
  const wrong = chosen.find((id) => !ids.includes(id));
  if (wrong !== undefined) throw badRequest(`profile: expected one or more of ${ids.join(', ')} (comma-separated), got ${JSON.stringify(wrong)}`);
  return [...new Set(chosen)];
}

function checkContentType(header: string | undefined): void {
  const type = header?.split(';')[0].trim().toLowerCase();
  if (type && CAP_MEDIA_TYPES.includes(type)) return;
  const got = type ? JSON.stringify(type) : 'none';
  throw new HttpError(415, 'unsupported_media_type', `Content-Type: expected ${CAP_MEDIA_TYPES.join(', ')} (a CAP 1.2 document), got ${got}`);
}

function tooLarge(bytes: string): HttpError {
  // The connection is closed after the answer, so the rest of the upload is never read.
  return new HttpError(413, 'too_large', `body: ${bytes} bytes; the limit for a CAP document is ${CAP_MAX_BYTES} bytes (1 MiB)`, { Connection: 'close' });
}

/** The request body, refused with 413 on its Content-Length when that is too large, else as soon as it grows past `limit`. */
function readCapped(req: Request, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(declared));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      reject(tooLarge(`more than ${limit}`));
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** 400 for a document refused before validation (its message says why: DOCTYPE, CAP 1.1, …), 413 for size. */
function refusal(error: CapError): HttpError {
  if (error.refusal === 'too-large') return tooLarge(`more than ${CAP_MAX_BYTES}`);
  return badRequest(`body: ${error.message}`);
}

async function verdict(body: Buffer, profileIds: string[]): Promise<CapVerdict> {
  if (body.length === 0) throw badRequest('body: expected a CAP 1.2 document, got an empty body');
  let xsd: CapProblem[];
  try {
    xsd = await validateCapXml(body);
  } catch (error) {
    throw error instanceof CapError ? refusal(error) : error;
  }
  const profiles: Record<string, CapProfileResult | null> = Object.fromEntries(profileIds.map((id) => [id, null]));
  if (xsd.length === 0) {
    try {
      const alert = await parseCap(body);
      for (const id of profileIds) profiles[id] = checkCapProfile(alert, id);
    } catch (error) {
      // The XSD passed but the model did not (checkCapModel): reported with the schema's findings.
      if (!(error instanceof CapError)) throw error;
      xsd = error.problems.length > 0 ? error.problems : [{ message: error.message }];
    }
  }
  return { valid: xsd.length === 0, version: '1.2', xsd, profiles };
}
