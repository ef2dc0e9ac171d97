import { Type } from '@sinclair/typebox';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { CameraRegistry } from '../../core/capture/registry';
import type { Logger } from '../../core/log/logger';
import type { FrameArchive } from '../../core/archive/frame-archive';
import type { EventJournal } from '../../core/store/journal';
import type { Authenticator } from '../auth/middleware';
import type { TokenSigner } from '../auth/tokens';
import type { UserStore } from '../stores/users';
import type { AlertServiceHandle } from '../../core/alerts/service';
import { alertsRouter } from './alerts';
import { capRouter } from './cap';
import { notifiersRouter } from './notifiers';
import { notificationsRouter } from './notifications';
import { camerasRouter } from './cameras';
import { pushRouter, type PushHandles } from './push';
import { eventsRouter } from './events';
import { rulesRouter } from './rules';
import { summariesRouter } from './summaries';
import type { MjpegStreams } from './mjpeg';
import { versions } from '../version';
import { apiErrors, HttpError, notFound } from './errors';
import { validateBody } from './validate';

export interface ApiDeps {
  users: UserStore;
  tokens: TokenSigner;
  auth: Authenticator;
  cameras: CameraRegistry;
  archive?: FrameArchive;
  journal?: EventJournal;
  push?: PushHandles;
  alerts?: AlertServiceHandle;
  streams: MjpegStreams;
  maxStreamClientsPerCamera: number;
  log: Logger;
}

const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 128 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

/** Glimpser's own endpoints under /api: everything but sign-in needs a signed-in user. */
export function apiRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.use(express.json({ limit: '256kb' }));

  router.post('/auth/login', validateBody(LoginBody), async (req: Request, res: Response, next: NextFunction) => {
    try {
      const client = req.socket.remoteAddress ?? 'unknown';
      if (deps.auth.isLockedOut(client))
        throw new HttpError(429, 'too_many_attempts', 'too many failed sign-ins from this address; try again in a few minutes');
      const { username, password } = req.body as { username: string; password: string };
      const user = await deps.users.verify(username, password);
      if (!user) {
        deps.auth.recordFailure(client, 'login');
        deps.log.info({ username, client }, 'sign-in refused');
        throw new HttpError(401, 'unauthorized', 'wrong username or password');
      }
      const { token, expiresAt } = deps.tokens.issue(user.username);
      deps.log.info({ username: user.username }, 'signed in');
      res.json({ token, tokenType: 'Bearer', expiresAt: new Date(expiresAt).toISOString(), user });
    } catch (err) {
      next(err);
    }
  });

  router.use(deps.auth.requireUser());

  router.get('/me', (req, res) => {
    res.json({ user: req.user });
  });

  router.get('/version', (_req, res) => {
    res.json(versions());
  });

  router.get('/cameras', (_req, res) => {
    res.json({ cameras: deps.cameras.list().map((c) => ({ id: c.id, name: c.name, ...c.status() })) });
  });

  router.use(rulesRouter({ log: deps.log }));
  if (deps.push) router.use(pushRouter({ push: deps.push, log: deps.log }));
  if (deps.alerts) router.use(alertsRouter({ alerts: deps.alerts, log: deps.log }));
  router.use(capRouter({ alerts: deps.alerts, log: deps.log }));
  if (deps.alerts) router.use(notifiersRouter({ alerts: deps.alerts, log: deps.log }));
  if (deps.alerts) router.use(notificationsRouter({ suspensions: deps.alerts.suspensions, log: deps.log }));
  if (deps.journal) router.use(eventsRouter({ journal: deps.journal, log: deps.log }));
  if (deps.journal) router.use(summariesRouter({ journal: deps.journal, log: deps.log }));
  router.use(
    camerasRouter({ cameras: deps.cameras, archive: deps.archive, log: deps.log, maxClientsPerCamera: deps.maxStreamClientsPerCamera, streams: deps.streams }),
  );

  router.use((_req, _res, next) => {
    next(notFound('no such API endpoint'));
  });
  router.use(apiErrors(deps.log, 'api request failed'));
  return router;
}
