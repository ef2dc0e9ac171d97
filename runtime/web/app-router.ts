import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../core/log/logger';
import { sendError } from '../api/errors';

/** Where `npm run build` puts the web app (scripts/build-web.mjs): dist/web beside dist/runtime. */
export const WEB_DIR = path.resolve(__dirname, '..', '..', 'web');

/** The app's pages: the server answers index.html for each, and the app's router picks the view (web/src/main.tsx). */
export const APP_PAGES = ['/', '/cameras', '/events', '/alerts', '/summaries', '/admin', '/sources'] as const;

/**
 * The app's pages get a strict policy: scripts, styles and connections from this origin only, no inline script or
 * style and no eval; pictures also as blob: (snapshots drawn locally). The rest of Glimpser (the editor) keeps the
 * looser policy of runtime/http.ts, which the Node-RED editor needs.
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "font-src 'self'",
  "frame-ancestors 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
};

interface Variant {
  bytes: Buffer;
  etag: string;
}

interface StaticFile {
  type: string;
  /** identity, br and gzip when the build wrote them. */
  variants: Map<'identity' | 'br' | 'gzip', Variant>;
}

export interface WebAppOptions {
  dir?: string;
  log: Logger;
}

/**
 * Serves the web app: hashed assets with a year of immutable caching, everything else revalidated by ETag; the
 * brotli or gzip file the build wrote when the browser accepts it (never compressed per request); index.html for
 * every app page. The files are public (the sign-in page is one of them); every piece of data comes from /api,
 * which needs a signed-in user. Read once and kept in memory: the whole app is a few hundred kB.
 */
export function webAppRouter(options: WebAppOptions): Router {
  const dir = options.dir ?? WEB_DIR;
  const router = express.Router();
  const built = existsSync(path.join(dir, 'index.html'));
  if (!built) options.log.warn({ dir }, 'the web app is not built (npm run build); its pages answer 503');
  const cache = new Map<string, StaticFile | null>();

  const load = (relative: string): StaticFile | null => {
    if (cache.has(relative)) return cache.get(relative)!;
    const file = path.join(dir, relative);
    let found: StaticFile | null = null;
    if (existsSync(file)) {
      const variants: StaticFile['variants'] = new Map();
      const add = (name: 'identity' | 'br' | 'gzip', suffix: string) => {
        if (!existsSync(file + suffix)) return;
        const bytes = readFileSync(file + suffix);
        const hash = createHash('sha256').update(bytes).digest('base64url').slice(0, 27);
        variants.set(name, { bytes, etag: `"${hash}${name === 'identity' ? '' : `-${name}`}"` });
      };
      add('identity', '');
      add('br', '.br');
      add('gzip', '.gz');
      found = { type: TYPES[path.extname(file)] ?? 'application/octet-stream', variants };
    }
    cache.set(relative, found);
    return found;
  };

  const send = (req: Request, res: Response, relative: string, immutable: boolean): void => {
    const file = load(relative);
    if (!file) {
      sendError(res, 404, 'not_found', `no such file: ${req.path}`);
      return;
    }
    const accepted = String(req.headers['accept-encoding'] ?? '');
    const encoding = accepts(accepted, 'br') && file.variants.has('br') ? 'br' : accepts(accepted, 'gzip') && file.variants.has('gzip') ? 'gzip' : 'identity';
    const variant = file.variants.get(encoding)!;
    res.setHeader('Content-Type', file.type);
    res.setHeader('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    res.setHeader('ETag', variant.etag);
    if (file.variants.size > 1) res.vary('Accept-Encoding');
    if (encoding !== 'identity') res.setHeader('Content-Encoding', encoding);
    if (file.type.startsWith('text/html')) res.setHeader('Content-Security-Policy', APP_CSP);
    const match = req.headers['if-none-match'];
    if (match && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === variant.etag)) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Length', variant.bytes.length);
    res.status(200).end(req.method === 'HEAD' ? undefined : variant.bytes);
  };

  const page = (req: Request, res: Response) => {
    if (!built) {
      sendError(res, 503, 'not_configured', 'the web app is not built: run npm run build (npm start does it)');
      return;
    }
    send(req, res, 'index.html', false);
  };

  router.get('/assets/:name', (req, res) => {
    // Hashed names only: letters, digits, dot, dash, underscore; nothing that could leave the folder.
    if (!/^[\w.-]+$/.test(req.params.name) || req.params.name.startsWith('.')) return sendError(res, 404, 'not_found', `no such file: ${req.path}`);
    send(req, res, path.join('assets', req.params.name), true);
  });
  for (const name of ['sw.js', 'manifest.webmanifest', 'icon.svg']) router.get(`/${name}`, (req, res) => send(req, res, name, false));
  router.get('/', page);
  for (const prefix of APP_PAGES.slice(1)) router.get([prefix, `${prefix}/*`], page);
  return router;
}

/** Whether an Accept-Encoding header accepts a coding (q=0 refuses it; RFC 9110 §12.5.3). */
function accepts(header: string, coding: string): boolean {
  for (const part of header.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (name.trim() !== coding && name.trim() !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  }
  return false;
}
