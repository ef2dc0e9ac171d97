import express, { type NextFunction, type Request, type Response, type Router } from 'express';
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
import { apiErrors, badRequest, HttpError } from './errors';

/**
 * CAP 1.2 tools under /api, mounted after authentication.
 *
 * POST /cap/validate?profile=oasis-strict,ipaws-1.0
 *        body: a CAP document, Content-Type application/xml, application/cap+xml or text/xml, at most 1 MiB
 *        profile: which profiles to check, comma-separated (default: all)
 *      → 200 { valid, version: '1.2', xsd: Problem[], profiles: { <id>: { errors: Problem[], recommendations: Problem[] } | null } }
 *        valid: a CAP 1.2 alert that the OASIS XSD accepts (profile findings are reported beside it, they do not
 *        change it); a profile is null when the document breaks the XSD, since profiles read the parsed alert.
 *        Problem = { xpath?, line?, message }
 *      → 400 a document refused before validation (a DOCTYPE or ENTITY, not well-formed, CAP 1.0/1.1, not an alert),
 *        413 larger than 1 MiB (refused on its Content-Length before any of it is read), 415 another content type
 * GET  /cap/alerts.atom   → 200 application/atom+xml: the active alerts (see core/alerts/atom.ts), newest first, at
 *        most 100, each entry linking to /api/alerts/<id>/cap.xml as application/cap+xml. Only with an alert service.
 */
export interface CapRouterDeps {
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

export function capRouter(deps: CapRouterDeps): Router {
  const router = express.Router();
  const now = deps.now ?? Date.now;

  router.post('/cap/validate', (req: Request, res: Response, next: NextFunction) => {
    // Everything that can be refused without the body is refused before any of it is read.
    const profiles = selectedProfiles(req.query);
    checkContentType(req.headers['content-type']);
    readCapped(req, CAP_MAX_BYTES)
      .then((body) => verdict(body, profiles))
      .then((result) => res.json(result), next);
  });

  const alerts = deps.alerts;
  if (alerts) {
    router.get('/cap/alerts.atom', (req: Request, res: Response, next: NextFunction) => {
      const unknown = Object.keys(req.query)[0];
      if (unknown !== undefined) throw badRequest(`${unknown}: unknown query parameter; this feed takes none`);
      const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}`;
      const at = now();
      activeAlerts((query) => alerts.list(query), at)
        .then((active) => {
          const feed = atomFeed(active, { selfUrl: `${origin}/cap/alerts.atom`, capUrl: (alert) => `${origin}/alerts/${alert.id}/cap.xml`, now: at });
          res.type('application/atom+xml; charset=utf-8').send(feed);
        })
        .catch(next);
    });
  }

  router.use(apiErrors(deps.log, 'CAP request failed'));
  return router;
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
