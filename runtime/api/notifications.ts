import express, { type Request, type Response, type Router } from 'express';
import { CAMERA_ID_EXPECTED, CAMERA_ID_PATTERN } from '../../core/ids';
import type { Logger } from '../../core/log/logger';
import { checkMinutes, suspensionState, type SuspensionStore } from '../../core/alerts/suspensions';
import { apiErrors, badRequest } from './errors';

function cameraOf(req: Request): string {
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

/**
 * Suspending a camera's notifications, under /api after authentication (as Frigate's notifications/suspend): while
 * suspended, its alerts are still stored and listed, but notifiers enqueue no deliveries for them.
 *
 * GET    /cameras/:id/notifications/suspend             → 200 { camera, suspended, until (ISO) | null, untilMs | null }
 * POST   /cameras/:id/notifications/suspend { minutes } → 200 the same; minutes 1..1440, 0 resumes
 * DELETE /cameras/:id/notifications/suspend             → 200 the same, suspended: false
 * GET    /notifications/suspensions                     → 200 { suspensions: [state…] } every camera suspended now
 * Errors: 400 naming the field, e.g. `body.minutes: expected a whole number of minutes from 1 to 1440, …, got 5000`.
 */
export function notificationsRouter(deps: { suspensions: SuspensionStore; log: Logger }): Router {
  const router = express.Router();
  const { suspensions, log } = deps;
  const path = '/cameras/:id/notifications/suspend';

  router.get('/notifications/suspensions', (_req: Request, res: Response) => {
    res.json({ suspensions: suspensions.list().map((suspension) => suspensionState(suspension.camera, suspension)) });
  });

  router.get(path, (req: Request, res: Response) => {
    const camera = cameraOf(req);
    res.json(suspensionState(camera, suspensions.get(camera)));
  });

  router.post(path, express.json({ limit: '4kb' }), (req: Request, res: Response) => {
    const camera = cameraOf(req);
    const minutes = minutesOf(req.body);
    const user = req.user?.username ?? null;
    const suspension = suspensions.suspend(camera, minutes, user);
    if (suspension) log.info({ camera, minutes, until: new Date(suspension.until).toISOString(), user }, 'camera notifications suspended through the API');
    else log.info({ camera, user }, 'camera notifications resumed through the API');
    res.json(suspensionState(camera, suspension));
  });

  router.delete(path, (req: Request, res: Response) => {
    const camera = cameraOf(req);
    if (suspensions.resume(camera)) log.info({ camera, user: req.user?.username ?? null }, 'camera notifications resumed through the API');
    res.json(suspensionState(camera, null));
  });

  router.use(apiErrors(log, 'notification request failed'));
  return router;
}
