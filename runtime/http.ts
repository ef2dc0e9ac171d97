import { createServer, type Server } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { register } from 'prom-client';
import { metrics } from '../core/metrics';
import { HTTP_HIGH_WATER_MARK } from './api/mjpeg';
import type { Authenticator } from './auth/middleware';
import type { Readiness } from './readiness';

/** Route groups for metrics labels: bounded, so a scan of random URLs cannot explode the series count. */
function routeGroup(path: string): string {
  const first = path.split('/')[1] ?? '';
  return ['healthz', 'readyz', 'metrics', 'api', 'editor', 'hooks', 'mqtt'].includes(first) ? first : 'other';
}

export interface HttpDeps {
  readiness: Readiness;
  auth: Authenticator;
  metricsAuth: boolean;
}

/**
 * The Express 4 host (Node-RED's httpAdmin/httpNode need Express 4's router). Health checks are the only routes
 * open without credentials.
 */
export function createHttp(deps: HttpDeps): { app: Express; server: Server } {
  const app = express();
  app.disable('x-powered-by');
  app.use((req: Request, res: Response, next: NextFunction) => {
    const end = metrics.httpRequestSeconds.startTimer({ route: routeGroup(req.path) });
    res.on('finish', () => {
      // A live stream lasts as long as its viewer: its duration is not request latency.
      if (!String(res.getHeader('Content-Type') ?? '').startsWith('multipart/x-mixed-replace')) end();
      metrics.httpRequestsTotal.inc({ method: req.method, route: routeGroup(req.path), status: `${Math.floor(res.statusCode / 100)}xx` });
    });
    next();
  });

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

  app.get('/', (_req, res) => res.redirect('/editor/'));
  return { app, server: createServer({ highWaterMark: HTTP_HIGH_WATER_MARK }, app) };
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
