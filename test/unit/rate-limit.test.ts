import type { Server } from 'node:http';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Type } from '@sinclair/typebox';
import express, { type Request, type RequestHandler } from 'express';
import { silentLogger } from '../../core/log/logger';
import { apiErrors } from '../../runtime/api/errors';
import { requestLimiter } from '../../runtime/api/rate-limit';
import { mountRoutes, type Route } from '../../runtime/api/route';
import type { Principal } from '../../runtime/auth/roles';
import { expectProblem } from '../support/problem';

/**
 * Issue 12: per-key and per-address request limits with the standard RateLimit headers. A real Express app with one
 * declared route; requests come from chosen loopback addresses (127.0.0.x) and, for keys, carry the key id the
 * sign-in stand-in reads from `x-test-key` (the real Authenticator sets the same Principal for a `glk_` key).
 */
const LIMITS = { perKeyPerMinute: 3, perAddressPerMinute: 4 };

const ping: Route = {
  method: 'get',
  path: '/ping',
  operationId: 'ping',
  summary: 'ping',
  tags: ['test'],
  access: 'viewer',
  responses: { 200: { description: 'pong', schema: Type.Object({ pong: Type.Boolean() }) } },
  handler: (_req, res) => res.json({ pong: true }),
};

const auth = {
  requireUser: (): RequestHandler => (req: Request, _res, next) => {
    const keyId = req.headers['x-test-key'];
    const principal: Principal =
      typeof keyId === 'string'
        ? { username: 'ada', role: 'viewer', cameras: null, via: 'key', keyId }
        : { username: 'vera', role: 'viewer', cameras: null, via: 'token' };
    req.user = principal;
    next();
  },
};

let server: Server;
let port: number;

beforeAll(async () => {
  const app = express();
  app.use('/api', mountRoutes(express.Router(), [ping], auth, { limit: requestLimiter(LIMITS, silentLogger) }), apiErrors(silentLogger, 'test failed'));
  server = app.listen(0, '0.0.0.0');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** GET /api/ping from `from` (a loopback address), with extra headers; the answer's status, headers and body. */
function get(from: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/ping', localAddress: from, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.once('error', reject);
  });
}

function answer(res: { status: number; headers: http.IncomingHttpHeaders; body: string }) {
  return { status: res.status, headers: res.headers as Record<string, string>, body: res.body };
}

describe('API request limits', () => {
  it('counts per address, says what is left in RateLimit headers, and answers 429 with Retry-After past the limit', async () => {
    const first = await get('127.0.0.11');
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-policy']).toMatch(/^"per-address"; q=4; w=60(;|$)/);
    expect(first.headers.ratelimit).toMatch(/^"per-address"; r=3; t=\d+$/);
    for (let i = 0; i < 3; i++) expect((await get('127.0.0.11')).status).toBe(200);
    const over = await get('127.0.0.11');
    expectProblem(answer(over), 429, { code: 'too_many_requests', detail: 'more than 4 requests per minute from this address' });
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another address has its own budget.
    expect((await get('127.0.0.12')).status).toBe(200);
  });

  it('ignores X-Forwarded-For while trustProxy is off: a spoofed header buys no new budget', async () => {
    for (let i = 0; i < 4; i++) expect((await get('127.0.0.13', { 'x-forwarded-for': `203.0.113.${i}` })).status).toBe(200);
    expectProblem(answer(await get('127.0.0.13', { 'x-forwarded-for': '203.0.113.99' })), 429);
  });

  it('counts an API key on its own budget wherever its requests come from', async () => {
    const key = { 'x-test-key': 'k1' };
    expect((await get('127.0.0.14', key)).headers['ratelimit-policy']).toMatch(/^"per-key"; q=3; w=60(;|$)/);
    expect((await get('127.0.0.15', key)).status).toBe(200);
    expect((await get('127.0.0.16', key)).status).toBe(200);
    expectProblem(answer(await get('127.0.0.17', key)), 429, { detail: 'more than 3 requests per minute with this API key' });
    // The key's budget is not the address's: the same address without the key still gets through.
    expect((await get('127.0.0.17')).status).toBe(200);
  });
});
