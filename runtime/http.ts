import { createServer, type IncomingMessage, type Server } from 'node:http';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { register } from 'prom-client';
import type { Logger } from '../core/log/logger';
import { metrics } from '../core/metrics';
import { lastHandlers, sendError } from './api/errors';
import { HTTP_HIGH_WATER_MARK } from './api/mjpeg';
import type { Authenticator } from './auth/middleware';
import type { Readiness } from './readiness';

/** Route groups for metrics labels: bounded, so a scan of random URLs cannot explode the series count. */
function routeGroup(path: string): string {
  const first = path.split('/')[1] ?? '';
  return ['healthz', 'readyz', 'metrics', 'api', 'editor', 'hooks', 'mqtt', 'assets'].includes(first) ? first : 'other';
}

export interface HttpDeps {
  readiness: Readiness;
  auth: Authenticator;
  metricsAuth: boolean;
  /** Express `trust proxy`: proxies whose X-Forwarded-For is believed. Empty or absent: none, the socket is the client. */
  trustProxy?: readonly string[];
  /** Origins allowed to call /api from a browser; empty or absent: none. */
  corsOrigins?: readonly string[];
}

/**
 * Headers on every answer, the editor's and /hooks' included. The CSP only forbids framing by other sites, <base>
 * and plugins, with no default-src: the Node-RED editor needs inline and eval'd scripts, so a script-src or
 * default-src policy would break it. No HSTS: TLS, when there is any, belongs to the reverse proxy in front.
 */
function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': helmet.contentSecurityPolicy.dangerouslyDisableDefaultSrc,
        'frame-ancestors': ["'self'"],
        'base-uri': ["'self'"],
        'object-src': ["'none'"],
      },
    },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'sameorigin' },
    referrerPolicy: { policy: 'no-referrer' },
    // Same site, not same origin: a dashboard on another port of the same host (Grafana, Home Assistant) may show frames.
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
}

/** CORS for /api: closed unless the origin is listed; a listed origin's preflight is answered here, before sign-in. */
function cors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  return (req: Request, res: Response, next: NextFunction) => {
    if (allowed.size === 0) return next();
    res.vary('Origin');
    const origin = req.headers.origin;
    if (origin === undefined || !allowed.has(origin.toLowerCase())) return next();
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', 'Allow, Retry-After, RateLimit, RateLimit-Policy, WWW-Authenticate');
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return next();
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, PUT, PATCH, DELETE');
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}

/**
 * API answers are per user and often secret (tokens): never stored by a browser or proxy unless a route says
 * otherwise (frames set their own Cache-Control). The API reads only uncompressed bodies, so any other
 * Content-Encoding is a 415 here, before sign-in, instead of reaching a body parser.
 */
function apiHygiene(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding === 'identity' || !hasBody(req)) return next();
    res.setHeader('Accept-Encoding', 'identity');
    sendError(res, 415, 'unsupported_media_type', `Content-Encoding: expected identity (an uncompressed body), got ${JSON.stringify(encoding.slice(0, 64))}`);
  };
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/**
 * The Express 4 host (Node-RED's httpAdmin/httpNode need Express 4's router). Health checks are the only routes
 * open without credentials.
 */
export function createHttp(deps: HttpDeps): { app: Express; server: Server } {
  const app = express();
  app.disable('x-powered-by');
  // Express picks its error page from NODE_ENV when the app is made; production never shows a stack.
  app.set('env', 'production');
  app.set('trust proxy', deps.trustProxy && deps.trustProxy.length > 0 ? [...deps.trustProxy] : false);
  app.use(securityHeaders());
  app.use((req: Request, res: Response, next: NextFunction) => {
    const end = metrics.httpRequestSeconds.startTimer({ route: routeGroup(req.path) });
    res.on('finish', () => {
      // A live stream (MJPEG, or the web app's server-sent events) lasts as long as its viewer: not request latency.
      const type = String(res.getHeader('Content-Type') ?? '');
      if (!type.startsWith('multipart/x-mixed-replace') && !type.startsWith('text/event-stream')) end();
      metrics.httpRequestsTotal.inc({ method: req.method, route: routeGroup(req.path), status: `${Math.floor(res.statusCode / 100)}xx` });
    });
    next();
  });

  app.use('/api', cors(deps.corsOrigins ?? []), apiHygiene());

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', (_req, res) => {
    const report = deps.readiness.report();
    res.status(report.ready ? 200 : 503).json(report.ready ? report : { ...report, message: `not ready: ${report.failing.join(', ')}` });
  });

  const metricsHandlers = deps.metricsAuth ? [deps.auth.requireUser()] : [];
  app.get('/metrics', ...metricsHandlers, async (_req, res, next) => {
    try {
      res.setHeader('Content-Type', register.contentType);
      res.send(await register.metrics());
    } catch (err) {
      next(err);
    }
  });

  return { app, server: createServer({ highWaterMark: HTTP_HIGH_WATER_MARK }, app) };
}

/**
 * Ends the app: call once after the last mount (the API, the editor, /hooks). Unknown paths and errors nothing
 * else answered become problem details instead of Express' default pages.
 */
export function closeRoutes(app: Express, log: Logger): void {
  app.use(...lastHandlers(log));
}

/**
 * The client address of a request Express does not route (a websocket upgrade: MQTT over WebSocket), by the app's
 * own `trust proxy` setting: X-Forwarded-For counts only from the proxies in `trustProxy`, as for `req.ip`. Express
 * computes it on its request prototype (`app.request`), so the rule is the same one, not a second parser.
 */
export function clientAddress(app: Express, request: IncomingMessage): string {
  const probe = Object.create(app.request, {
    headers: { value: request.headers },
    socket: { value: request.socket },
    connection: { value: request.socket },
  }) as Request;
  return probe.ip ?? request.socket.remoteAddress ?? 'unknown';
}

export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
