import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { RequestHandler } from 'express';
import RED from 'node-red';
import WebSocket from 'ws';
import { CameraRegistry } from '../../core/capture/registry';
import { silentLogger, type Logger } from '../../core/log/logger';
import { HttpError } from '../../runtime/api/errors';
import { MjpegStreams } from '../../runtime/api/mjpeg';
import { apiRouter } from '../../runtime/api/router';
import { Authenticator } from '../../runtime/auth/middleware';
import { TokenSigner } from '../../runtime/auth/tokens';
import { clientAddress as upgradeClientAddress, closeRoutes, createHttp, listen } from '../../runtime/http';
import { Readiness } from '../../runtime/readiness';
import { loadSecrets } from '../../runtime/stores/secrets';
import { UserStore } from '../../runtime/stores/users';
import { expectProblem } from '../support/problem';

/**
 * Issue 12, "HTTP hygiene" and finding 9, attacked over loopback: the real HTTP app (createHttp), the real API
 * router, and the real Node-RED editor and /hooks, mounted the way the runtime mounts them.
 */

const LISTED_ORIGIN = 'https://app.example.com';
const PASSWORD = 'hygiene-password';

let dir: string;
let server: Server;
let base: string;
let token: string;
const logged: { fields: Record<string, unknown>; message: string }[] = [];

/** A logger that keeps error lines, to check that a 500 is logged with structure. */
const recordingLog: Logger = {
  ...silentLogger,
  error: (fields: unknown, message?: string) => {
    logged.push({ fields: typeof fields === 'object' && fields !== null ? (fields as Record<string, unknown>) : {}, message: message ?? String(fields) });
  },
  child: () => recordingLog,
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'glimpser-hygiene-'));
  const secrets = await loadSecrets(dir);
  const users = new UserStore(dir);
  await users.open();
  await users.ensureAdmin(PASSWORD);
  const tokens = new TokenSigner(secrets.tokenSecret, 3600);
  const auth = new Authenticator(users, tokens);
  const http = createHttp({ readiness: new Readiness(), auth, metricsAuth: true, corsOrigins: [LISTED_ORIGIN] });
  const streams = new MjpegStreams({ maxClientsPerCamera: 1, log: silentLogger });
  http.app.use('/api', apiRouter({ users, auth, cameras: new CameraRegistry(), streams, maxStreamClientsPerCamera: 1, log: silentLogger }));
  // Stand-ins for failures the app's last handlers answer: a crash, a 429 and a 405 raised as HttpErrors.
  http.app.get('/crash', () => {
    throw new Error(`database at ${dir}/glimpser.db is locked`);
  });
  http.app.get('/limited', () => {
    throw new HttpError(429, 'too_many_attempts', 'too many failed sign-ins; try again in 30 s', { 'Retry-After': '30' });
  });
  http.app.get('/only-post', () => {
    throw new HttpError(405, 'method_not_allowed', 'GET is not allowed on /only-post; allowed: POST', { Allow: 'POST' });
  });
  RED.init(http.server, {
    userDir: path.join(dir, 'node-red'),
    httpAdminRoot: '/editor',
    httpNodeRoot: '/hooks',
    logging: { console: { level: 'off', metrics: false, audit: false } },
    editorTheme: { tours: false },
  } as unknown as Parameters<typeof RED.init>[1]);
  http.app.use('/editor', RED.httpAdmin);
  http.app.use('/hooks', auth.requireUser(), RED.httpNode);
  await RED.start();
  closeRoutes(http.app, recordingLog);
  server = http.server;
  base = `http://127.0.0.1:${await listen(server, '127.0.0.1', 0)}`;
  token = tokens.issue('admin').token;
}, 60000);

afterAll(async () => {
  await RED.stop();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** A raw request, so headers fetch would rewrite or refuse (Content-Encoding, odd charsets) go out as written. */
function raw(
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: Buffer | string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${url}`,
      { method, headers: body === undefined ? headers : { 'Content-Length': String(Buffer.byteLength(body)), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const LOGIN = JSON.stringify({ username: 'admin', password: PASSWORD });

describe('wrong media types and encodings (RFC 9110 §15.5.16)', () => {
  it('answers JSON sent as text/plain with 415, not a misleading 400', async () => {
    const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: LOGIN });
    await expectProblem(res, 415, { detail: /^Content-Type: expected application\/json.*"text\/plain"/, code: 'unsupported_media_type' });
  });

  it.each(['gzip', 'br', 'x-unknown'])('answers a %s Content-Encoding with 415 before sign-in, never 500', async (encoding) => {
    const body = encoding === 'gzip' ? gzipSync(LOGIN) : LOGIN;
    for (const url of ['/api/auth/login', '/api/cameras']) {
      const answer = await raw('POST', url, { 'Content-Type': 'application/json', 'Content-Encoding': encoding }, body);
      expectProblem(answer, 415, { detail: new RegExp(`^Content-Encoding: expected identity .*got "${encoding}"`) });
      expect(answer.headers['accept-encoding']).toBe('identity');
    }
  });

  it('answers an unknown charset with 415 in the API and in the editor', async () => {
    const headers = { 'Content-Type': 'application/json; charset=x-klingon' };
    expectProblem(await raw('POST', '/api/auth/login', headers, LOGIN), 415, { detail: 'Content-Type: expected charset utf-8, got "x-klingon"' });
    expectProblem(await raw('POST', '/editor/auth/token', headers, '{}'), 415, { detail: /charset/ });
  });

  it('answers an oversized body with 413 naming the limit', async () => {
    const huge = JSON.stringify({ username: 'admin', password: 'x'.repeat(2 * 1024 * 1024) });
    await expectProblem(await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: huge }), 413, {
      detail: /limit/,
      code: 'too_large',
    });
  });

  it('answers broken JSON in the editor with problem details, not a page with the stack and install paths', async () => {
    const answer = await raw('POST', '/editor/auth/token', { 'Content-Type': 'application/json' }, '{"grant_type": ');
    expectProblem(answer, 400, { detail: /^body: not valid JSON/ });
  });
});

describe('problem details for every error', () => {
  it('names the wrong field of a 400 in errors[]', async () => {
    const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"username":"admin"}' });
    await expectProblem(res, 400, { detail: 'body: missing property "password"', field: 'body' });
    const typed = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"username":5,"password":"x"}',
    });
    await expectProblem(typed, 400, { detail: /^body\.username: /, field: 'body.username' });
  });

  it('answers 401 as problem details with the challenge', async () => {
    const res = await fetch(`${base}/api/cameras`);
    await expectProblem(res, 401, { code: 'unauthorized' });
  });

  it('answers an unknown path with 404, inside and outside the API', async () => {
    const inside = await fetch(`${base}/api/no-such-thing`, { headers: { Authorization: `Bearer ${token}` } });
    await expectProblem(inside, 404, { code: 'not_found' });
    const outside = await expectProblem(await fetch(`${base}/no-such-thing?token=secret`), 404, { detail: 'path: nothing at GET /no-such-thing' });
    expect(outside).toMatchObject({ type: 'about:blank', title: 'Not Found', instance: '/no-such-thing' });
  });

  it('answers a crash with 500 and a generic detail; the error goes to the log with structure', async () => {
    const problem = await expectProblem(await fetch(`${base}/crash`), 500, { detail: 'internal error; see the server log', code: 'internal' });
    expect(JSON.stringify(problem)).not.toContain(dir);
    expect(logged).toContainEqual({
      fields: expect.objectContaining({ err: expect.stringContaining('is locked'), stack: expect.stringContaining('Error'), method: 'GET', path: '/crash' }),
      message: 'http request failed',
    });
  });

  it('keeps the headers an HttpError carries: Retry-After on 429, Allow on 405', async () => {
    const limited = await fetch(`${base}/limited`);
    expect(limited.headers.get('retry-after')).toBe('30');
    await expectProblem(limited, 429, { code: 'too_many_attempts' });
    const wrongMethod = await fetch(`${base}/only-post`);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await expectProblem(wrongMethod, 405, { code: 'method_not_allowed' });
  });
});

describe('security headers', () => {
  it.each(['/api/cameras', '/editor/', '/hooks/anything', '/healthz'])('are on %s', async (url) => {
    const res = await fetch(`${base}${url}`, { headers: { Authorization: `Bearer ${token}` } });
    expect({
      nosniff: res.headers.get('x-content-type-options'),
      frameOptions: res.headers.get('x-frame-options'),
      csp: res.headers.get('content-security-policy'),
      referrer: res.headers.get('referrer-policy'),
    }).toEqual({
      nosniff: 'nosniff',
      frameOptions: 'SAMEORIGIN',
      csp: expect.stringContaining("frame-ancestors 'self'"),
      referrer: 'no-referrer',
    });
  });

  it('keep the editor page working: it is served, and its scripts are not restricted by the CSP', async () => {
    const res = await fetch(`${base}/editor/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<script');
    expect(res.headers.get('content-security-policy')).not.toMatch(/script-src|default-src/);
  });

  it('forbid storing API answers, the sign-in token above all', async () => {
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: LOGIN });
    expect([login.status, login.headers.get('cache-control')]).toEqual([200, 'no-store']);
    const refused = await fetch(`${base}/api/cameras`);
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });
});

describe('CORS', () => {
  it('gives an unlisted origin no Access-Control-Allow-Origin, on a call or a preflight', async () => {
    const call = await fetch(`${base}/api/cameras`, { headers: { Origin: 'https://evil.example', Authorization: `Bearer ${token}` } });
    expect(call.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${base}/api/cameras`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-headers')).toBeNull();
  });

  it('answers a listed origin, and its preflight before sign-in', async () => {
    const preflight = await fetch(`${base}/api/cameras`, {
      method: 'OPTIONS',
      headers: { Origin: LISTED_ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(LISTED_ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const call = await fetch(`${base}/api/cameras`, { headers: { Origin: LISTED_ORIGIN, Authorization: `Bearer ${token}` } });
    expect([call.status, call.headers.get('access-control-allow-origin'), call.headers.get('vary')]).toEqual([200, LISTED_ORIGIN, 'Origin']);
  });

  it('does not open the editor to a listed origin: the allow-list is for /api', async () => {
    const res = await fetch(`${base}/editor/`, { headers: { Origin: LISTED_ORIGIN } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('trustProxy', () => {
  async function clientAddress(trustProxy: string[] | undefined): Promise<string> {
    const { app, server: probe } = createHttp({
      readiness: new Readiness(),
      auth: { requireUser: (): RequestHandler => (_req, _res, next) => next() } as unknown as Authenticator,
      metricsAuth: false,
      trustProxy,
    });
    app.get('/client', (req, res) => res.json({ ip: req.ip }));
    const port = await listen(probe, '127.0.0.1', 0);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/client`, { headers: { 'X-Forwarded-For': '203.0.113.7' } });
      return ((await res.json()) as { ip: string }).ip;
    } finally {
      probe.closeAllConnections();
      await new Promise((resolve) => probe.close(resolve));
    }
  }

  it('off by default: a spoofed X-Forwarded-For changes nothing', async () => {
    expect(await clientAddress(undefined)).toMatch(/127\.0\.0\.1$/);
    expect(await clientAddress([])).toMatch(/127\.0\.0\.1$/);
  });

  it('believes X-Forwarded-For from a listed proxy only', async () => {
    expect(await clientAddress(['loopback'])).toBe('203.0.113.7');
    expect(await clientAddress(['10.0.0.0/8'])).toMatch(/127\.0\.0\.1$/);
  });

  /** The address a websocket upgrade (MQTT over WebSocket, not routed by Express) is limited by. */
  async function upgradeAddress(trustProxy: string[] | undefined): Promise<string> {
    const { app, server: probe } = createHttp({
      readiness: new Readiness(),
      auth: { requireUser: (): RequestHandler => (_req, _res, next) => next() } as unknown as Authenticator,
      metricsAuth: false,
      trustProxy,
    });
    const seen = new Promise<string>((resolve) =>
      probe.once('upgrade', (request: IncomingMessage, socket: Duplex) => {
        resolve(upgradeClientAddress(app, request));
        socket.destroy();
      }),
    );
    const port = await listen(probe, '127.0.0.1', 0);
    try {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, { headers: { 'X-Forwarded-For': '203.0.113.7' } });
      socket.on('error', () => undefined);
      return await seen;
    } finally {
      probe.closeAllConnections();
      await new Promise((resolve) => probe.close(resolve));
    }
  }

  it('applies the same rule to websocket upgrades (MQTT over WebSocket limits per client address)', async () => {
    expect(await upgradeAddress(['loopback'])).toBe('203.0.113.7');
    expect(await upgradeAddress(undefined)).toMatch(/127\.0\.0\.1$/);
    expect(await upgradeAddress(['10.0.0.0/8'])).toMatch(/127\.0\.0\.1$/);
  });
});
