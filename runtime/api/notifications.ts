import { Type } from '@sinclair/typebox';
import type { Request, Response, Router } from 'express';
import { CAMERA_ID_EXPECTED, CAMERA_ID_PATTERN } from '../../core/ids';
import type { Logger } from '../../core/log/logger';
import { checkMinutes, suspensionState, type SuspensionStore } from '../../core/alerts/suspensions';
import { apiErrors, badRequest } from './errors';
import { routerOf, type Route, type RouteAuth } from './route';
import { requireVisible, visible } from './scope';

function checkedCamera(req: Request): string {
  const camera = String(req.params.id);
  if (!CAMERA_ID_PATTERN.test(camera)) throw badRequest(`camera: expected ${CAMERA_ID_EXPECTED}, got ${JSON.stringify(camera.slice(0, 64))}`);
  return camera;
}

/** The body of a suspend request: exactly `{ minutes }`, with the field named in every refusal. */
function minutesOf(body: unknown): number {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body: expected a JSON object {"minutes": n}');
  const unknown = Object.keys(body).find((key) => key !== 'minutes');
  if (unknown !== undefined) throw badRequest(`body.${unknown}: unknown property (expected only "minutes")`);
  if (!('minutes' in body)) throw badRequest('body.minutes: missing property (a whole number of minutes from 1 to 1440, or 0 to resume)');
  try {
    return checkMinutes((body as { minutes: unknown }).minutes, 'body.minutes');
  } catch (err) {
    throw badRequest((err as Error).message);
  }
}

const SuspensionState = Type.Object({
  camera: Type.String(),
  suspended: Type.Boolean(),
  until: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  untilMs: Type.Union([Type.Integer(), Type.Null()]),
});
const SuspendBody = Type.Object(
  { minutes: Type.Union([Type.Integer({ minimum: 0, maximum: 1440 }), Type.Literal('off')], { description: 'How long, 1 to 1440; 0 or "off" resumes.' }) },
  { additionalProperties: false },
);
const CameraParams = Type.Object({ id: Type.String({ description: 'The camera id.' }) });
const TAGS = ['notifications'];
const PATH = '/cameras/{id}/notifications/suspend';

/**
 * Suspending a camera's notifications, under /api (as Frigate's notifications/suspend): while suspended, its alerts
 * are still stored and listed, but notifiers enqueue no deliveries for them. Reading is for viewers, suspending and
 * resuming for operators; a camera outside the caller's list answers 404 as an unknown camera.
 */
export function notificationRoutes(deps: { suspensions: SuspensionStore; log: Logger }): Route[] {
  const { log } = deps;
  const cameraOf = (req: Request): string => {
    const camera = checkedCamera(req);
    requireVisible(req, camera);
    return camera;
  };
  return [
    {
      method: 'get',
      path: '/notifications/suspensions',
      operationId: 'listSuspensions',
      summary: 'Every camera whose notifications are suspended now',
      tags: TAGS,
      access: 'viewer',
      responses: { 200: { description: 'The suspensions.', schema: Type.Object({ suspensions: Type.Array(SuspensionState) }) } },
      handler: (req: Request, res: Response) => {
        const shown = deps.suspensions.list().filter((suspension) => visible(req, suspension.camera));
        res.json({ suspensions: shown.map((suspension) => suspensionState(suspension.camera, suspension)) });
      },
    },
    {
      method: 'get',
      path: PATH,
      operationId: 'getSuspension',
      summary: "Whether a camera's notifications are suspended",
      tags: TAGS,
      access: 'viewer',
      params: CameraParams,
      responses: { 200: { description: 'The state.', schema: SuspensionState } },
      handler: (req: Request, res: Response) => {
        const camera = cameraOf(req);
        res.json(suspensionState(camera, deps.suspensions.get(camera)));
      },
    },
    {
      method: 'post',
      path: PATH,
      operationId: 'suspendNotifications',
      summary: "Suspend a camera's notifications for some minutes (0 resumes)",
      tags: TAGS,
      access: 'operator',
      params: CameraParams,
      // Checked by minutesOf, whose refusals name the allowed range; the schema documents it.
      body: { schema: SuspendBody, limitBytes: 4 * 1024, checkedBy: 'handler' },
      responses: { 200: { description: 'The state now.', schema: SuspensionState } },
      handler: (req: Request, res: Response) => {
        const camera = cameraOf(req);
        const minutes = minutesOf(req.body);
        const user = req.user?.username ?? null;
        const suspension = deps.suspensions.suspend(camera, minutes, user);
        if (suspension) log.info({ camera, minutes, until: new Date(suspension.until).toISOString(), user }, 'camera notifications suspended through the API');
        else log.info({ camera, user }, 'camera notifications resumed through the API');
        res.json(suspensionState(camera, suspension));
      },
    },
    {
      method: 'delete',
      path: PATH,
      operationId: 'resumeNotifications',
      summary: "Resume a camera's notifications",
      tags: TAGS,
      access: 'operator',
      params: CameraParams,
      responses: { 200: { description: 'The state now (not suspended).', schema: SuspensionState } },
      handler: (req: Request, res: Response) => {
        const camera = cameraOf(req);
        if (deps.suspensions.resume(camera)) log.info({ camera, user: req.user?.username ?? null }, 'camera notifications resumed through the API');
        res.json(suspensionState(camera, null));
      },
    },
  ];
}

/** The notification routes on their own router, with their error answers (for tests and embedding). */
export function notificationsRouter(deps: { suspensions: SuspensionStore; log: Logger; auth: RouteAuth }): Router {
  return routerOf(notificationRoutes(deps), deps.auth).use(apiErrors(deps.log, 'notification request failed'));
}
