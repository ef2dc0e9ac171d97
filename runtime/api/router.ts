import path from 'node:path';
import { Type } from '@sinclair/typebox';
import express, { type Request, type Response, type Router } from 'express';
import type { FrameArchive } from '../../core/archive/frame-archive';
import type { AlertServiceHandle } from '../../core/alerts/service';
import { CameraRegistry } from '../../core/capture/registry';
import type { AiProviderRegistry } from '../../core/describe/registry';
import { silentLogger, type Logger } from '../../core/log/logger';
import type { Scheduler } from '../../core/jobs/scheduler';
import type { JobStore } from '../../core/jobs/store';
import type { EventJournal } from '../../core/store/journal';
import type { LiveFeed } from '../../core/live-feed';
import type { MediaLinks } from '../../core/alerts/media-links';
import type { Authenticator } from '../auth/middleware';
import { SESSION_COOKIE } from '../auth/middleware';
import type { Config } from '../config';
import type { ApiKeyStore } from '../stores/api-keys';
import type { UserStore } from '../stores/users';
import { versions } from '../version';
import { accessRoutes } from './access';
import { alertRoutes } from './alerts';
import { cameraRoutes } from './cameras';
import { capRoutes } from './cap';
import { apiErrors, notFound } from './errors';
import { eventRoutes } from './events';
import { jobRoutes } from './jobs';
import { liveRoutes, type LiveLimits } from './live';
import { MjpegStreams } from './mjpeg';
import { notificationRoutes } from './notifications';
import { notifierRoutes } from './notifiers';
import { openApiDocument, type OpenApiDocument } from './openapi';
import { pushRoutes, type PushHandles } from './push';
import { requestLimiter } from './rate-limit';
import { mountRoutes, type Route } from './route';
import { ruleRoutes } from './rules';
import { sourceRoutes, type SourcesDeps } from './sources';
import { summaryRoutes } from './summaries';
import { systemRoutes } from './system';

export interface ApiDeps {
  users: UserStore;
  auth: Authenticator;
  /** API keys; without them the key routes answer 404. */
  keys?: ApiKeyStore;
  cameras: CameraRegistry;
  archive?: FrameArchive;
  journal?: EventJournal;
  /** Signs and checks the snapshot links alerts carry (GET /media/events/{id}/snapshot.jpg). */
  mediaLinks?: MediaLinks;
  push?: PushHandles;
  /** Sources from templates (Node-RED's flows and what a test capture needs); without them those routes answer 404. */
  sources?: Omit<SourcesDeps, 'log'>;
  alerts?: AlertServiceHandle;
  /** The job scheduler and its store (run history). */
  jobs?: { scheduler: Scheduler; store: JobStore };
  config?: Config;
  ai?: AiProviderRegistry;
  streams: MjpegStreams;
  maxStreamClientsPerCamera: number;
  /** What GET /api/live sends; without it the stream carries heartbeats only. */
  live?: Pick<LiveFeed, 'subscribe'>;
  liveLimits?: Partial<LiveLimits>;
  log: Logger;
}

/** Where the API is mounted; the document's paths start with it. */
export const API_BASE = '/api';

/**
 * Stands in for a part the configuration turned off (no journal, no alert service, ...): its routes stay declared,
 * so the API and its document are the same on every install, and any use answers 404 naming the missing part.
 */
export function disabled<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: () => {
      throw notFound(`${what} is not enabled on this Glimpser`);
    },
  });
}

/** Every route of the API, declared once: what `apiRouter` mounts and what the OpenAPI document describes. */
export function apiRoutes(deps: ApiDeps): Route[] {
  const { log } = deps;
  const alerts = deps.alerts ?? disabled<AlertServiceHandle>('the alert service');
  const journal = deps.journal ?? disabled<EventJournal>('the event journal');
  // Built on first request, from this very list (which includes the route serving it).
  let document: OpenApiDocument | undefined;
  const routes: Route[] = [
    ...accessRoutes({ users: deps.users, keys: deps.keys ?? disabled<ApiKeyStore>('the API key store'), auth: deps.auth, log }),
    {
      method: 'get',
      path: '/version',
      operationId: 'getVersion',
      summary: 'The versions of Glimpser, Node.js and Node-RED',
      tags: ['system'],
      access: 'viewer',
      responses: { 200: { description: 'The versions.', schema: Type.Object({ glimpser: Type.String(), node: Type.String(), nodeRed: Type.String() }) } },
      handler: (_req: Request, res: Response) => {
        res.json(versions());
      },
    },
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'getOpenApiDocument',
      summary: 'This API as an OpenAPI 3.1 document',
      description: 'The same document as docs/openapi.json in the source; the interactive page at /docs reads it.',
      tags: ['system'],
      access: 'viewer',
      responses: { 200: { description: 'The OpenAPI 3.1 document.', schema: Type.Object({ openapi: Type.Literal('3.1.0') }, { additionalProperties: true }) } },
      handler: (_req: Request, res: Response) => {
        document ??= apiDocument(routes);
        res.json(document);
      },
    },
    ...systemRoutes({ cameras: deps.cameras, config: deps.config ?? disabled<Config>('the configuration'), ai: deps.ai, log }),
    ...cameraRoutes({ cameras: deps.cameras, archive: deps.archive, log, maxClientsPerCamera: deps.maxStreamClientsPerCamera, streams: deps.streams }),
    ...eventRoutes({ journal, log, links: deps.mediaLinks }),
    ...summaryRoutes({ journal, log }),
    ...alertRoutes({ alerts, log }),
    ...capRoutes({ alerts: deps.alerts, log }),
    ...notifierRoutes({ alerts, log, flowsFile: deps.config && path.join(deps.config.dataDir, 'node-red', 'flows.json') }),
    ...notificationRoutes({ suspensions: deps.alerts?.suspensions ?? disabled('the alert service'), log }),
    ...ruleRoutes(),
    ...jobRoutes({ ...(deps.jobs ?? { scheduler: disabled<Scheduler>('the job scheduler'), store: disabled<JobStore>('the job store') }), log }),
    ...pushRoutes({ push: deps.push ?? disabled<PushHandles>('web push'), log }),
    ...sourceRoutes({
      ...(deps.sources ?? {
        flows: () => null,
        handles: () => {
          throw notFound('source tests are not enabled on this Glimpser');
        },
      }),
      log,
    }),
    ...liveRoutes({
      feed: deps.live ?? { subscribe: () => () => undefined },
      log,
      limits: deps.liveLimits,
      stillSignedIn: (req) => deps.auth.stillSignedIn(req),
    }),
  ];
  return routes;
}

/** The OpenAPI document of these routes as mounted under /api. */
export function apiDocument(routes: readonly Route[]): OpenApiDocument {
  return openApiDocument(routes, {
    title: 'Glimpser API',
    version: versions().glimpser,
    description:
      'Cameras, events, alerts and summaries of a Glimpser install. Every operation but sign-in needs a signed-in user with the role it names ' +
      '(`x-glimpser-role`); errors are RFC 9457 problem details.',
    basePath: API_BASE,
    sessionCookie: SESSION_COOKIE,
  });
}

/** The routes as the document describes them, built without a running Glimpser (no handler is ever called). */
export function documentedRoutes(): Route[] {
  return apiRoutes({
    users: disabled<UserStore>('the user store'),
    auth: disabled<Authenticator>('sign-in'),
    cameras: new CameraRegistry(),
    streams: new MjpegStreams({ maxClientsPerCamera: 1, log: silentLogger }),
    maxStreamClientsPerCamera: 1,
    log: silentLogger,
  });
}

/** Glimpser's own endpoints under /api: each route checks its own role (runtime/api/route.ts). */
export function apiRouter(deps: ApiDeps): Router {
  const limit = deps.config
    ? requestLimiter({ perKeyPerMinute: deps.config.apiKeyRequestsPerMinute, perAddressPerMinute: deps.config.apiRequestsPerMinute }, deps.log)
    : undefined;
  const router = mountRoutes(express.Router(), apiRoutes(deps), deps.auth, { limit });
  router.use((req, _res, next) => {
    next(notFound(`no API endpoint ${req.method} ${req.baseUrl}${req.path}; the operations are listed at ${API_BASE}/openapi.json`));
  });
  router.use(apiErrors(deps.log, 'api request failed'));
  return router;
}
