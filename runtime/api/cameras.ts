import { Type } from '@sinclair/typebox';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { parseFrameId } from '../../core/archive/archive-layout';
import { MAX_PAGE, type FrameArchive } from '../../core/archive/frame-archive';
import type { CameraHandle, CameraRegistry } from '../../core/capture/registry';
import type { Frame } from '../../core/frames/frame';
import { assertCameraId } from '../../core/ids';
import type { Logger } from '../../core/log/logger';
import { apiErrors, badRequest, HttpError, notFound } from './errors';
import { MjpegStreams } from './mjpeg';
import { parseListQuery, type ListQuery, type ListQueryOptions } from './query';
import { validateBody } from './validate';

export interface CamerasRouterDeps {
  cameras: CameraRegistry;
  /** Without one, the archive endpoints answer 404. */
  archive?: FrameArchive;
  log: Logger;
  maxClientsPerCamera: number;
  /** How long `?fresh=1` waits for the camera's next frame. */
  freshTimeoutMs?: number;
  /** Passed in by a caller that wants to read live-view stats; made here otherwise. */
  streams?: MjpegStreams;
}

const KeepBody = Type.Object({ keep: Type.Boolean() }, { additionalProperties: false });

/** `before` is the `next` of the previous page: the archive pages by frame id, not by time. */
interface ArchiveListQuery extends ListQuery {
  limit: number;
  before?: string;
}
const ARCHIVE_QUERY: ListQueryOptions<ArchiveListQuery> = { parameters: ['limit', 'before'], copied: ['before'], base: { limit: 50 }, maxLimit: MAX_PAGE };

/** A snapshot older than this is not "the latest": a camera making no JPEGs (motion only) is asked for one. */
const SNAPSHOT_MAX_AGE_MS = 2000;

/**
 * Live view and archive endpoints under /api/cameras/:id. Mounted after authentication: nothing here checks
 * who asks, only what is asked for.
 */
export function camerasRouter(deps: CamerasRouterDeps): Router {
  const { cameras, archive, log } = deps;
  const streams = deps.streams ?? new MjpegStreams({ maxClientsPerCamera: deps.maxClientsPerCamera, log });
  const freshTimeoutMs = deps.freshTimeoutMs ?? 10000;
  const router = express.Router();

  router.param('id', (_req, _res, next, id: string) => {
    next(problemOf(() => assertCameraId(id)));
  });
  router.param('frameId', (_req, _res, next, id: string) => {
    next(problemOf(() => parseFrameId(id)));
  });

  router.get('/cameras/:id/snapshot.jpg', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const camera = configured(cameras, req.params.id);
      const fresh = flag(req.query.fresh);
      if (fresh === null) throw badRequest(`query fresh ${JSON.stringify(req.query.fresh)} is invalid: expected 1 or 0`);
      if (fresh) {
        let frame: Frame;
        try {
          frame = await camera.requestFrame(freshTimeoutMs);
        } catch (err) {
          throw new HttpError(504, 'timeout', (err as Error).message);
        }
        sendJpeg(res, frame.jpeg, frame.meta.timestamp, 'no-store', frame.meta.sequence);
        return;
      }
      const frame = await camera.recentFrame(SNAPSHOT_MAX_AGE_MS, freshTimeoutMs);
      if (!frame) {
        const { state, lastError } = camera.status();
        const message = `camera "${camera.id}" has no frame yet (${lastError ?? state}): ask with ?fresh=1 to start it and wait for one`;
        throw new HttpError(503, 'no_frame', message, { 'Retry-After': '1' });
      }
      sendJpeg(res, frame.jpeg, frame.meta.timestamp, 'no-store', frame.meta.sequence);
    } catch (err) {
      next(err);
    }
  });

  router.get('/cameras/:id/stream.mjpg', (req: Request, res: Response) => {
    streams.serve(configured(cameras, req.params.id), req, res);
  });

  router.get('/cameras/:id/archive', (req: Request, res: Response) => {
    const { id } = req.params;
    const store = archiveOf(archive, cameras, id);
    const query = parseListQuery<ArchiveListQuery>(req.query, ARCHIVE_QUERY);
    const { before } = query;
    if (before !== undefined && problemOf(() => parseFrameId(before)) !== undefined) {
      throw badRequest(`before: expected a frame id from the "next" of the previous page, got ${JSON.stringify(before)}`);
    }
    const page = store.list(id, query);
    res.json({ camera: id, frames: page.frames.map((frame) => ({ ...frame, url: `${req.baseUrl}/cameras/${id}/archive/${frame.id}.jpg` })), next: page.next });
  });

  router.get('/cameras/:id/archive/:frameId.jpg', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const { id, frameId } = req.params;
      const found = await archiveOf(archive, cameras, id).get(id, frameId);
      if (!found) throw noFrame(id, frameId);
      // An archived frame never changes under its id; the private cache keeps it out of shared proxies.
      sendJpeg(res, found.jpeg, found.frame.timestamp, 'private, max-age=86400', found.frame.sequence);
    } catch (err) {
      next(err);
    }
  });

  router.post(
    '/cameras/:id/archive/:frameId/keep',
    express.json({ limit: '1kb' }),
    validateBody(KeepBody),
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        const { id, frameId } = req.params;
        const frame = await archiveOf(archive, cameras, id).keep(id, frameId, (req.body as { keep: boolean }).keep);
        if (!frame) throw noFrame(id, frameId);
        res.json({ frame });
      } catch (err) {
        next(err);
      }
    },
  );

  router.use(apiErrors(log, 'camera request failed'));
  return router;
}

function configured(cameras: CameraRegistry, id: string): CameraHandle {
  const camera = cameras.get(id);
  if (!camera) throw notFound(`camera "${id}" is not configured: no deployed glimpser-camera node has that id`);
  return camera;
}

/** Archived frames outlive a camera's node, so a removed camera with frames still answers. */
function archiveOf(archive: FrameArchive | undefined, cameras: CameraRegistry, id: string): FrameArchive {
  if (!archive) throw notFound('the frame archive is not enabled');
  if (!cameras.get(id) && !archive.has(id)) throw notFound(`camera "${id}" is not configured and has no archived frames`);
  return archive;
}

function noFrame(camera: string, frameId: string): HttpError {
  return notFound(`camera "${camera}" has no archived frame "${frameId}"`);
}

/** A path parameter's check as a 400 to pass to `next`, or undefined when the value is fine. */
function problemOf(check: () => unknown): HttpError | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    return badRequest((err as Error).message);
  }
}

/** `?fresh=1` and friends: true, false when absent, null when it is not a flag. */
function flag(value: unknown): boolean | null {
  if (value === undefined || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true' || value === '') return true;
  return null;
}

function sendJpeg(res: Response, jpeg: Buffer, timestamp: number, cacheControl: string, sequence: number): void {
  // end() rather than send(): send() would hash the whole JPEG for an ETag no cache may use.
  res.status(200).set({
    'Content-Type': 'image/jpeg',
    'Content-Length': String(jpeg.length),
    'Cache-Control': cacheControl,
    'X-Frame-Timestamp': String(timestamp),
    'X-Frame-Sequence': String(sequence),
  });
  res.end(jpeg);
}
