import { Type } from '@sinclair/typebox';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { parseFrameId } from '../../core/archive/archive-layout';
import { MAX_PAGE, type FrameArchive } from '../../core/archive/frame-archive';
import type { CameraHandle, CameraRegistry } from '../../core/capture/registry';
import { assertCameraId, type Frame } from '../../core/frames/frame';
import type { Logger } from '../../core/log/logger';
import { MjpegStreams } from './mjpeg';
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
const DEFAULT_PAGE = 50;
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

  router.param('id', (_req, res, next, id: string) => {
    try {
      assertCameraId(id);
      next();
    } catch (err) {
      res.status(400).json({ error: 'invalid_request', message: (err as Error).message });
    }
  });
  router.param('frameId', (_req, res, next, id: string) => {
    try {
      parseFrameId(id);
      next();
    } catch (err) {
      res.status(400).json({ error: 'invalid_request', message: (err as Error).message });
    }
  });

  router.get('/cameras/:id/snapshot.jpg', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const camera = configured(cameras, req.params.id, res);
      if (!camera) return;
      const fresh = flag(req.query.fresh);
      if (fresh === null) {
        res.status(400).json({ error: 'invalid_request', message: `query fresh ${JSON.stringify(req.query.fresh)} is invalid: expected 1 or 0` });
        return;
      }
      if (fresh) {
        let frame: Frame;
        try {
          frame = await camera.requestFrame(freshTimeoutMs);
        } catch (err) {
          res.status(504).json({ error: 'timeout', message: (err as Error).message });
          return;
        }
        sendJpeg(res, frame.jpeg, frame.meta.timestamp, 'no-store', frame.meta.sequence);
        return;
      }
      const frame = await camera.recentFrame(SNAPSHOT_MAX_AGE_MS, freshTimeoutMs);
      if (!frame) {
        const { state, lastError } = camera.status();
        res.status(503).set('Retry-After', '1').json({
          error: 'no_frame',
          message: `camera "${camera.id}" has no frame yet (${lastError ?? state}): ask with ?fresh=1 to start it and wait for one`,
        });
        return;
      }
      sendJpeg(res, frame.jpeg, frame.meta.timestamp, 'no-store', frame.meta.sequence);
    } catch (err) {
      next(err);
    }
  });

  router.get('/cameras/:id/stream.mjpg', (req: Request, res: Response) => {
    const camera = configured(cameras, req.params.id, res);
    if (!camera) return;
    streams.serve(camera, req, res);
  });

  router.get('/cameras/:id/archive', (req: Request, res: Response) => {
    const { id } = req.params;
    if (!archiveHolds(archive, cameras, id, res)) return;
    const limit = req.query.limit === undefined ? DEFAULT_PAGE : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      res.status(400).json({ error: 'invalid_request', message: `query limit ${JSON.stringify(req.query.limit)} is invalid: expected a whole number from 1 to ${MAX_PAGE}` });
      return;
    }
    const { before } = req.query;
    if (before !== undefined && typeof before !== 'string') {
      res.status(400).json({ error: 'invalid_request', message: 'query before is invalid: expected one frame id from the "next" of the previous page' });
      return;
    }
    if (before !== undefined && !isFrameId(before)) {
      res.status(400).json({ error: 'invalid_request', message: `query before ${JSON.stringify(before)} is invalid: expected a frame id from the "next" of the previous page` });
      return;
    }
    const page = archive.list(id, { before, limit });
    const frames = page.frames.map((frame) => ({ ...frame, url: `${req.baseUrl}/cameras/${id}/archive/${frame.id}.jpg` }));
    res.json({ camera: id, frames, next: page.next });
  });

  router.get('/cameras/:id/archive/:frameId.jpg', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const { id, frameId } = req.params;
      if (!archiveHolds(archive, cameras, id, res)) return;
      const found = await archive.get(id, frameId);
      if (!found) {
        res.status(404).json({ error: 'not_found', message: `camera "${id}" has no archived frame "${frameId}"` });
        return;
      }
      // An archived frame never changes under its id; the private cache keeps it out of shared proxies.
      sendJpeg(res, found.jpeg, found.frame.timestamp, 'private, max-age=86400', found.frame.sequence);
    } catch (err) {
      next(err);
    }
  });

  router.post('/cameras/:id/archive/:frameId/keep', express.json({ limit: '1kb' }), validateBody(KeepBody), async (req: Request, res: Response, next: NextFunction) => {
    try {
      const { id, frameId } = req.params;
      if (!archiveHolds(archive, cameras, id, res)) return;
      const frame = await archive.keep(id, frameId, (req.body as { keep: boolean }).keep);
      if (!frame) {
        res.status(404).json({ error: 'not_found', message: `camera "${id}" has no archived frame "${frameId}"` });
        return;
      }
      res.json({ frame });
    } catch (err) {
      next(err);
    }
  });

  // Only reached when this router runs on its own; under apiRouter a body error is answered there first.
  router.use((err: Error & { type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'invalid_request', message: `body: not valid JSON (${err.message})` });
      return;
    }
    log.error({ err: err.message }, 'camera request failed');
    res.status(500).json({ error: 'internal', message: 'internal error; see the server log' });
  });
  return router;
}

function configured(cameras: CameraRegistry, id: string, res: Response): CameraHandle | undefined {
  const camera = cameras.get(id);
  if (!camera) res.status(404).json({ error: 'not_found', message: `camera "${id}" is not configured: no deployed glimpser-camera node has that id` });
  return camera;
}

/** Archived frames outlive a camera's node, so a removed camera with frames still answers. */
function archiveHolds(archive: FrameArchive | undefined, cameras: CameraRegistry, id: string, res: Response): archive is FrameArchive {
  if (!archive) {
    res.status(404).json({ error: 'not_found', message: 'the frame archive is not enabled' });
    return false;
  }
  if (!cameras.get(id) && !archive.has(id)) {
    res.status(404).json({ error: 'not_found', message: `camera "${id}" is not configured and has no archived frames` });
    return false;
  }
  return true;
}

function isFrameId(value: string): boolean {
  try {
    parseFrameId(value);
    return true;
  } catch {
    return false;
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
