import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
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

type Coding = 'identity' | 'br' | 'gzip';

interface Variant {
  bytes: Buffer;
  etag: string;
}

interface StaticFile {
  type: string;
  /** identity, br and gzip when the build wrote them. */
  variants: Map<Coding, Variant>;
  /** The identity file as read: a rebuild while Glimpser runs changes it, and it is read again. */
  mtimeMs: number;
  size: number;
}

export interface WebAppOptions {
  dir?: string;
  log: Logger;
}

/** Files at the top of the build that the browser asks for by a fixed name: the service worker, the manifest, icons. */
const TOP_LEVEL_FILE = /^[\w-]+\.(js|webmanifest|svg|png)$/;
/** Hashed names only: letters, digits, dot, dash, underscore, not starting with a dot; nothing that could leave the folder. */
const ASSET_NAME = /^\w[\w.-]*$/;

/**
 * Serves the web app: hashed assets with a year of immutable caching, everything else revalidated by ETag; the
 * brotli or gzip file the build wrote when the browser accepts it (never compressed per request); index.html for
 * every app page. The files are public (the sign-in page is one of them); every piece of data comes from /api,
 * which needs a signed-in user. Files are kept in memory once read (the whole app is a few hundred kB) and read again
 * when a rebuild changes them; a missing file is not remembered, so unknown names cannot grow the cache.
 */
export function webAppRouter(options: WebAppOptions): Router {
  const dir = options.dir ?? WEB_DIR;
  const router = express.Router();
  const index = path.join(dir, 'index.html');
  if (!existsSync(index)) options.log.warn({ dir }, 'the web app is not built (npm run build); its pages answer 503');
  const cache = new Map<string, StaticFile>();

  const load = (relative: string): StaticFile | null => {
    const file = path.join(dir, relative);
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile()) {
      cache.delete(relative);
      return null;
    }
    const cached = cache.get(relative);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached;
    const variants: StaticFile['variants'] = new Map();
    const add = (coding: Coding, suffix: string) => {
      const bytes = suffix === '' ? readFileSync(file) : existsSync(file + suffix) ? readFileSync(file + suffix) : null;
      if (!bytes) return;
      const hash = createHash('sha256').update(bytes).digest('base64url').slice(0, 27);
      variants.set(coding, { bytes, etag: `"${hash}${coding === 'identity' ? '' : `-${coding}`}"` });
    };
    add('identity', '');
    add('br', '.br');
    add('gzip', '.gz');
    const found: StaticFile = { type: TYPES[path.extname(file)] ?? 'application/octet-stream', variants, mtimeMs: stat.mtimeMs, size: stat.size };
    cache.set(relative, found);
    return found;
  };

  const notFound = (req: Request, res: Response) => sendError(res, 404, 'not_found', `no such file: ${req.path}`);

  const send = (req: Request, res: Response, relative: string, immutable: boolean): void => {
    const file = load(relative);
    if (!file) return notFound(req, res);
    const encoding = chooseEncoding(String(req.headers['accept-encoding'] ?? ''), file.variants);
    const variant = file.variants.get(encoding)!;
    res.setHeader('Content-Type', file.type);
    res.setHeader('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    res.setHeader('ETag', variant.etag);
    if (file.variants.size > 1) res.vary('Accept-Encoding');
    if (encoding !== 'identity') res.setHeader('Content-Encoding', encoding);
    if (file.type.startsWith('text/html')) res.setHeader('Content-Security-Policy', APP_CSP);
    if (matches(req.headers['if-none-match'], variant.etag)) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Length', variant.bytes.length);
    res.status(200).end(req.method === 'HEAD' ? undefined : variant.bytes);
  };

  const page = (req: Request, res: Response) => {
    if (!existsSync(index)) {
      sendError(res, 503, 'not_configured', 'the web app is not built: run npm run build (npm start does it)');
      return;
    }
    send(req, res, 'index.html', false);
  };

  router.get('/assets/:name', (req, res) => {
    if (!ASSET_NAME.test(req.params.name)) return notFound(req, res);
    send(req, res, path.join('assets', req.params.name), true);
  });
  // Nothing else under /assets is the app's, and nothing there is left to the routers after this one.
  router.get('/assets/*', notFound);
  router.get('/:name', (req, res, next) => {
    if (!TOP_LEVEL_FILE.test(req.params.name)) return next();
    if (!load(req.params.name)) return next();
    send(req, res, req.params.name, false);
  });
  router.get('/', page);
  for (const prefix of APP_PAGES.slice(1)) router.get([prefix, `${prefix}/*`], page);
  return router;
}

/** br before gzip when both are accepted and built, identity otherwise. */
function chooseEncoding(header: string, variants: ReadonlyMap<Coding, Variant>): Coding {
  for (const coding of ['br', 'gzip'] as const) if (variants.has(coding) && accepts(header, coding)) return coding;
  return 'identity';
}

/** If-None-Match: `*` or one of the listed tags, compared weakly (RFC 9110 §13.1.2). */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

/**
 * Whether an Accept-Encoding header accepts a coding: named with a q above 0, or not named and `*` accepted
 * (RFC 9110 §12.5.3: the coding's own entry wins over `*`; q=0 refuses).
 */
function accepts(header: string, coding: string): boolean {
  let wildcard: boolean | undefined;
  for (const part of header.toLowerCase().split(',')) {
    const [name, ...params] = part.split(';').map((p) => p.trim());
    const q = params.find((p) => /^q\s*=/.test(p));
    const ok = q === undefined || Number(q.replace(/^q\s*=\s*/, '')) > 0;
    if (name === coding) return ok;
    if (name === '*') wildcard = ok;
  }
  return wildcard ?? false;
}
