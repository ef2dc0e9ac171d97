import { Type } from '@sinclair/typebox';
import type { Request, Response, Router } from 'express';
import { parseFrameId } from '../../core/archive/archive-layout';
import { MAX_PAGE, type FrameArchive } from '../../core/archive/frame-archive';
import type { CameraHandle, CameraRegistry } from '../../core/capture/registry';
import type { Frame } from '../../core/frames/frame';
import type { Logger } from '../../core/log/logger';
import { apiErrors, badRequest, HttpError, notFound } from './errors';
import { MjpegStreams } from './mjpeg';
import { parseListQuery, type ListQuery, type ListQueryOptions } from './query';
import { principalOf, routerOf, type Route, type RouteAuth } from './route';
import { CameraId, JpegResponse, KeepBody, Millis } from './schemas';
import { requireVisible, unknownCamera, visible } from './scope';

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

/** `before` is the `next` of the previous page: the archive pages by frame id, not by time. */
interface ArchiveListQuery extends ListQuery {
  limit: number;
  before?: string;
}
const ARCHIVE_QUERY: ListQueryOptions<ArchiveListQuery> = { parameters: ['limit', 'before'], copied: ['before'], base: { limit: 50 }, maxLimit: MAX_PAGE };

/** A snapshot older than this is not "the latest": a camera making no JPEGs (motion only) is asked for one. */
const SNAPSHOT_MAX_AGE_MS = 2000;

const CameraParams = Type.Object({ id: CameraId });
const FrameParams = Type.Object({
  id: CameraId,
  frameId: Type.String({ minLength: 1, maxLength: 64, description: 'An archived frame id, `<timestamp>-<sequence>`, from a listing.' }),
});
// A point is an array of two numbers rather than a Tuple: TypeBox writes tuples as draft-07 `items` lists, which
// JSON Schema 2020-12 (OpenAPI 3.1) reads differently.
const Point = Type.Array(Type.Number({ minimum: 0, maximum: 1 }), { minItems: 2, maxItems: 2, description: '[x, y]' });
const Polygon = Type.Array(Point, {
  minItems: 3,
  description: 'Points [x, y] as fractions of the picture from its left and top edges.',
});
const CameraSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    state: Type.String(),
    lastError: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    lastFrameAt: Type.Optional(Type.Union([Millis, Type.Null()])),
    zones: Type.Array(Type.Object({ name: Type.String(), points: Polygon }), {
      description: 'Named areas motion is reported in, from the motion nodes reading this camera.',
    }),
    masks: Type.Array(Polygon, { description: 'Areas motion ignores, from the motion nodes reading this camera.' }),
  },
  { additionalProperties: true, description: 'A deployed camera and its status.' },
);
const ArchivedFrame = Type.Object({ id: Type.String(), timestamp: Millis, url: Type.String() }, { additionalProperties: true });
const TAGS = ['cameras'];

/**
 * Cameras, live view and archive under /api. A caller limited to some cameras sees only those: any other answers
 * 404 exactly as an unknown camera (runtime/api/scope.ts).
 */
export function cameraRoutes(deps: CamerasRouterDeps): Route[] {
  const { cameras, archive, log } = deps;
  const streams = deps.streams ?? new MjpegStreams({ maxClientsPerCamera: deps.maxClientsPerCamera, log });
  const freshTimeoutMs = deps.freshTimeoutMs ?? 10000;
  const configured = (req: Request, id: string): CameraHandle => {
    const camera = cameras.get(id);
    if (!camera || !visible(req, id)) throw unknownCamera(id);
    return camera;
  };
  /** Archived frames outlive a camera's node, so a removed camera with frames still answers. */
  const archiveOf = (req: Request, id: string): FrameArchive => {
    if (!archive) throw notFound('the frame archive is not enabled');
    const missing = notFound(`camera "${id}" is not configured and has no archived frames`);
    requireVisible(req, id, missing);
    if (!cameras.get(id) && !archive.has(id)) throw missing;
    return archive;
  };
  const frameIdOf = (req: Request): string => {
    const { frameId } = req.params;
    const problem = problemOf(() => parseFrameId(frameId));
    if (problem) throw problem;
    return frameId;
  };

  return [
    {
      method: 'get',
      path: '/cameras',
      operationId: 'listCameras',
      summary: 'The cameras this account may see, with their status',
      tags: TAGS,
      access: 'viewer',
      responses: { 200: { description: 'The cameras.', schema: Type.Object({ cameras: Type.Array(CameraSchema) }) } },
      handler: (req: Request, res: Response) => {
        const principal = principalOf(req);
        const listed = cameras.list().filter((c) => principal.cameras === null || principal.cameras.includes(c.id));
        res.json({ cameras: listed.map((c) => ({ id: c.id, name: c.name, ...c.status(), ...cameras.regionsOf(c.id) })) });
      },
    },
    {
      method: 'get',
      path: '/cameras/{id}/snapshot.jpg',
      operationId: 'getCameraSnapshot',
      summary: "A camera's latest picture",
      description: 'With `fresh=1`, waits for the next frame (starting an idle camera).',
      tags: TAGS,
      access: 'viewer',
      params: CameraParams,
      query: Type.Object(
        { fresh: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0'), Type.Literal('true'), Type.Literal('false'), Type.Literal('')])) },
        { additionalProperties: true },
      ),
      queryCheckedBy: 'handler',
      responses: {
        200: JpegResponse,
        404: { description: 'No such camera.' },
        503: { description: 'No frame yet: ask with fresh=1.', headers: { 'Retry-After': { description: 'Seconds.', schema: Type.Integer() } } },
        504: { description: 'fresh=1 and no frame came in time.' },
      },
      handler: async (req: Request, res: Response) => {
        const camera = configured(req, req.params.id);
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
      },
    },
    {
      method: 'get',
      path: '/cameras/{id}/stream.mjpg',
      operationId: 'streamCamera',
      summary: 'Live view as MJPEG (multipart/x-mixed-replace)',
      tags: TAGS,
      access: 'viewer',
      params: CameraParams,
      responses: {
        200: { description: 'An endless multipart stream of JPEG frames.', contentType: 'multipart/x-mixed-replace' },
        404: { description: 'No such camera.' },
        429: { description: 'The camera has as many live-view clients as allowed.' },
      },
      handler: (req: Request, res: Response) => {
        streams.serve(configured(req, req.params.id), req, res);
      },
    },
    {
      method: 'get',
      path: '/cameras/{id}/archive',
      operationId: 'listArchivedFrames',
      summary: "A camera's archived frames, newest first",
      tags: TAGS,
      access: 'viewer',
      params: CameraParams,
      query: Type.Object(
        {
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 50 })),
          before: Type.Optional(Type.String({ description: 'The `next` of the previous page (a frame id).' })),
        },
        { additionalProperties: false },
      ),
      queryCheckedBy: 'handler',
      responses: {
        200: {
          description: 'A page of frames.',
          schema: Type.Object({ camera: Type.String(), frames: Type.Array(ArchivedFrame), next: Type.Union([Type.String(), Type.Null()]) }),
        },
        404: { description: 'No archive, or no such camera.' },
      },
      handler: (req: Request, res: Response) => {
        const { id } = req.params;
        const store = archiveOf(req, id);
        const query = parseListQuery<ArchiveListQuery>(req.query, ARCHIVE_QUERY);
        const { before } = query;
        if (before !== undefined && problemOf(() => parseFrameId(before)) !== undefined) {
          throw badRequest(`before: expected a frame id from the "next" of the previous page, got ${JSON.stringify(before)}`);
        }
        const page = store.list(id, query);
        res.json({
          camera: id,
          frames: page.frames.map((frame) => ({ ...frame, url: `${req.baseUrl}/cameras/${id}/archive/${frame.id}.jpg` })),
          next: page.next,
        });
      },
    },
    {
      method: 'get',
      path: '/cameras/{id}/archive/{frameId}.jpg',
      operationId: 'getArchivedFrame',
      summary: 'One archived frame',
      tags: TAGS,
      access: 'viewer',
      params: FrameParams,
      responses: { 200: JpegResponse, 404: { description: 'No such frame.' } },
      handler: async (req: Request, res: Response) => {
        const { id } = req.params;
        const frameId = frameIdOf(req);
        const found = await archiveOf(req, id).get(id, frameId);
        if (!found) throw noFrame(id, frameId);
        // An archived frame never changes under its id; the private cache keeps it out of shared proxies.
        sendJpeg(res, found.jpeg, found.frame.timestamp, 'private, max-age=86400', found.frame.sequence);
      },
    },
    {
      method: 'post',
      path: '/cameras/{id}/archive/{frameId}/keep',
      operationId: 'keepArchivedFrame',
      summary: 'Keep an archived frame from retention, or release it',
      tags: TAGS,
      access: 'operator',
      params: FrameParams,
      body: { schema: KeepBody, limitBytes: 1024 },
      responses: { 200: { description: 'The frame as it is now.', schema: Type.Object({ frame: ArchivedFrame }) }, 404: { description: 'No such frame.' } },
      handler: async (req: Request, res: Response) => {
        const { id } = req.params;
        const frameId = frameIdOf(req);
        const frame = await archiveOf(req, id).keep(id, frameId, (req.body as { keep: boolean }).keep);
        if (!frame) throw noFrame(id, frameId);
        res.json({ frame });
      },
    },
  ];
}

/** The camera routes on their own router, with their error answers (for tests and embedding). */
export function camerasRouter(deps: CamerasRouterDeps & { auth: RouteAuth }): Router {
  return routerOf(cameraRoutes(deps), deps.auth).use(apiErrors(deps.log, 'camera request failed'));
}

function noFrame(camera: string, frameId: string): HttpError {
  return notFound(`camera "${camera}" has no archived frame "${frameId}"`);
}

/** A check as a 400, or undefined when the value is fine. */
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
