import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import express from 'express';
import { silentLogger } from '../../core/log/logger';
import { APP_CSP, webAppRouter } from '../../runtime/web/app-router';
import { expectProblem } from '../support/problem';

/**
 * Issue 14: how the web app's files are served (runtime/web/app-router.ts). A fake build in a temp folder makes each
 * case exact; one block checks the real build in dist/web. Behind the router sits a stand-in for the rest of Glimpser
 * (API, editor, metrics) that answers 418, so a path the app must leave alone is seen reaching it.
 */
const ROOT = path.resolve(__dirname, '../..');
const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-ABC123.js"></script></head><body></body></html>';
const APP_JS = 'console.log("the app");'.repeat(20);
const APP_CSS = 'body{margin:0}'.repeat(20);

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request with exactly these headers (fetch would add Accept-Encoding and decompress the answer). */
function get(base: string, pathname: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${pathname}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function serve(dir: string): Promise<{ base: string; server: Server }> {
  const app = express();
  app.use(webAppRouter({ dir, log: silentLogger }));
  app.use((req, res) => {
    res.status(418).json({ reachedTheRestOfGlimpser: req.path });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** Writes a file and, when asked, the .br and .gz the build writes beside it. */
function write(file: string, text: string, codings: readonly ('br' | 'gz')[] = ['br', 'gz']): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  if (codings.includes('br')) writeFileSync(`${file}.br`, brotliCompressSync(Buffer.from(text)));
  if (codings.includes('gz')) writeFileSync(`${file}.gz`, gzipSync(Buffer.from(text)));
}

/** The directives of a Content-Security-Policy header, by name. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name, values]),
  );
}

describe('the web app router on a fake build', () => {
  let top: string;
  let dir: string;
  let base: string;
  let server: Server;

  beforeAll(async () => {
    top = mkdtempSync(path.join(tmpdir(), 'glimpser-web-router-'));
    dir = path.join(top, 'web');
    write(path.join(dir, 'index.html'), INDEX);
    write(path.join(dir, 'assets', 'app-ABC123.js'), APP_JS);
    write(path.join(dir, 'assets', 'app-ABC123.css'), APP_CSS, ['gz']);
    write(path.join(dir, 'sw.js'), 'self.addEventListener("push", () => {});', []);
    write(path.join(dir, 'icon-192.png'), 'not really a png', []);
    write(path.join(dir, '.env'), 'SECRET=dotfile', []);
    write(path.join(dir, 'assets', '.hidden.js'), 'SECRET=hidden', []);
    writeFileSync(path.join(top, 'package.json'), '{"name":"SECRET-outside-the-build"}');
    ({ base, server } = await serve(dir));
  });

  afterAll(async () => {
    await stop(server);
    rmSync(top, { recursive: true, force: true });
  });

  it.each([
    '/',
    '/cameras',
    '/cameras/porch',
    '/events',
    '/events/01HZX0000000000000000000',
    '/alerts/abc',
    '/summaries',
    '/admin',
    '/admin/users',
    '/sources/new',
  ])('answers the app page %s with index.html under the strict policy (acceptance 6)', async (page) => {
    const res = await get(base, page);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body.toString()).toBe(INDEX);
    expect(res.headers['cache-control']).toBe('no-cache');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toBe(APP_CSP);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|\*/);
    const policy = directives(csp);
    expect(policy.get('script-src')).toEqual(["'self'"]);
    expect(policy.get('style-src')).toEqual(["'self'"]);
    expect(policy.get('default-src')).toEqual(["'self'"]);
    expect(policy.get('object-src')).toEqual(["'none'"]);
  });

  it('serves hashed assets for a year, immutable, with an ETag, and 304 on If-None-Match', async () => {
    const first = await get(base, '/assets/app-ABC123.js');
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe(APP_JS);
    expect(first.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(first.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(first.headers['content-security-policy']).toBeUndefined();
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[\w-]+"$/);
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await get(base, '/assets/app-ABC123.js', { 'if-none-match': header });
      expect({ header, status: again.status, bytes: again.body.length }).toEqual({ header, status: 304, bytes: 0 });
      expect(again.headers.etag).toBe(etag);
    }
    const changed = await get(base, '/assets/app-ABC123.js', { 'if-none-match': '"stale"' });
    expect(changed.status).toBe(200);
    const head = await get(base, '/assets/app-ABC123.js', {}, 'HEAD');
    expect({ status: head.status, length: head.headers['content-length'], bytes: head.body.length }).toEqual({
      status: 200,
      length: String(Buffer.byteLength(APP_JS)),
      bytes: 0,
    });
  });

  it('revalidates index.html and sw.js by ETag rather than caching them', async () => {
    const page = await get(base, '/');
    expect((await get(base, '/events', { 'if-none-match': String(page.headers.etag) })).status).toBe(304);
    const sw = await get(base, '/sw.js');
    expect(sw.status).toBe(200);
    expect(sw.headers['cache-control']).toBe('no-cache');
    expect(sw.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get(base, '/icon-192.png')).headers['content-type']).toBe('image/png');
  });

  it.each([
    ['br, gzip', 'br'],
    ['gzip, deflate, br', 'br'],
    ['gzip', 'gzip'],
    ['GZIP;q=0.5', 'gzip'],
    ['gzip, br;q=0', 'gzip'],
    ['*', 'br'],
    ['*, br;q=0', 'gzip'],
    ['br;q=0, gzip;q=0', 'identity'],
    ['br;q=0.000, gzip; q=0', 'identity'],
    ['identity', 'identity'],
    ['', 'identity'],
  ])('answers Accept-Encoding "%s" with %s', async (accept, expected) => {
    const res = await get(base, '/assets/app-ABC123.js', accept === '' ? {} : { 'accept-encoding': accept });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding'] ?? 'identity').toBe(expected);
    expect(res.headers.vary).toBe('Accept-Encoding');
    const file = path.join(dir, 'assets', 'app-ABC123.js');
    const stored = { br: `${file}.br`, gzip: `${file}.gz`, identity: file }[expected]!;
    expect(res.body.equals(readFileSync(stored))).toBe(true);
    expect(res.headers['content-length']).toBe(String(res.body.length));
  });

  it('gives each encoding its own ETag, and falls back to gzip where no brotli file was built', async () => {
    const tags = await Promise.all(
      ['br', 'gzip', 'identity'].map(async (e) => (await get(base, '/assets/app-ABC123.js', { 'accept-encoding': e })).headers.etag),
    );
    expect(new Set(tags).size).toBe(3);
    expect((await get(base, '/assets/app-ABC123.js', { 'accept-encoding': 'br', 'if-none-match': String(tags[1]) })).status).toBe(200);
    const css = await get(base, '/assets/app-ABC123.css', { 'accept-encoding': 'br, gzip' });
    expect(css.headers['content-encoding']).toBe('gzip');
  });

  it.each([
    '/assets/..%2f..%2fpackage.json',
    '/assets/..%2Fpackage.json',
    '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
    '/assets/.hidden.js',
    '/assets/a/b.js',
    '/assets/nothing-ABC.js',
  ])('answers %s with 404 and nothing from outside the assets', async (pathname) => {
    const res = await get(base, pathname);
    expectProblem({ status: res.status, headers: res.headers as Record<string, string>, body: res.body }, 404, { code: 'not_found' });
    expect(res.body.toString()).not.toContain('SECRET');
  });

  it.each(['/..%2fpackage.json', '/.env', '/%2e%2e/package.json', '/index.html.br'])('does not serve %s at the top of the build', async (pathname) => {
    const res = await get(base, pathname);
    expect(res.status).toBe(418);
    expect(res.body.toString()).not.toContain('SECRET');
  });

  it.each(['/editor', '/editor/', '/editor/red/main.min.js', '/api', '/api/live', '/api/events', '/metrics', '/healthz', '/readyz', '/docs', '/camerasX'])(
    'leaves %s to the rest of Glimpser',
    async (pathname) => {
      const res = await get(base, pathname);
      expect({ pathname, status: res.status }).toEqual({ pathname, status: 418 });
    },
  );
});

describe('the web app router before and after a build', () => {
  let dir: string;
  let base: string;
  let server: Server;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'glimpser-web-unbuilt-'));
    ({ base, server } = await serve(dir));
  });

  afterAll(async () => {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the app pages 503 with a problem while the app is not built, and the files 404', async () => {
    for (const page of ['/', '/events']) {
      const res = await get(base, page);
      const problem = expectProblem({ status: res.status, headers: res.headers as Record<string, string>, body: res.body }, 503, { code: 'not_configured' });
      expect(problem.detail).toMatch(/not built: run npm run build/);
    }
    expect((await get(base, '/assets/app-ABC123.js')).status).toBe(404);
  });

  it('serves a build made while it runs, and the next build without a restart', async () => {
    write(path.join(dir, 'index.html'), INDEX);
    const first = await get(base, '/');
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe(INDEX);
    const rebuilt = INDEX.replace('ABC123', 'DEF456');
    write(path.join(dir, 'index.html'), rebuilt);
    const second = await get(base, '/', { 'if-none-match': String(first.headers.etag) });
    expect(second.status).toBe(200);
    expect(second.body.toString()).toBe(rebuilt);
    expect(second.headers.etag).not.toBe(first.headers.etag);
  });

  it('serves an asset that appears after a request for it was answered 404', async () => {
    expect((await get(base, '/assets/late-XYZ.js')).status).toBe(404);
    write(path.join(dir, 'assets', 'late-XYZ.js'), APP_JS, []);
    expect((await get(base, '/assets/late-XYZ.js')).status).toBe(200);
  });
});

const BUILT = path.join(ROOT, 'dist', 'web');
const describeBuilt = existsSync(path.join(BUILT, 'assets.json')) ? describe : describe.skip;

describeBuilt('the web app router on the real build (dist/web)', () => {
  let base: string;
  let server: Server;
  const listing = () => JSON.parse(readFileSync(path.join(BUILT, 'assets.json'), 'utf8')) as { entry: string; files: Record<string, unknown> };

  beforeAll(async () => {
    ({ base, server } = await serve(BUILT));
  });

  afterAll(async () => stop(server));

  it('serves index.html naming the built entry, with no inline script or style, and every file it and the manifest name', async () => {
    const page = await get(base, '/alerts', { 'accept-encoding': 'br' });
    expect(page.status).toBe(200);
    expect(page.headers['content-encoding']).toBe('br');
    const index = readFileSync(path.join(BUILT, 'index.html'), 'utf8');
    expect(index).toContain(`src="${listing().entry}"`);
    // Under script-src 'self' an inline script or style would be refused: the shell has none.
    expect(index).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
    const named = [...index.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]);
    const manifest = JSON.parse(readFileSync(path.join(BUILT, 'manifest.webmanifest'), 'utf8')) as { icons: { src: string }[] };
    for (const url of [...named, ...manifest.icons.map((i) => i.src), '/sw.js']) {
      const res = await get(base, url, { 'accept-encoding': 'gzip' });
      expect({ url, status: res.status }).toEqual({ url, status: 200 });
      expect(res.headers['cache-control']).toBe(url.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    }
  });
});
