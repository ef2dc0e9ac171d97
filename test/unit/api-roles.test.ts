import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { CameraRegistry, type CameraHandle } from '../../core/capture/registry';
import type { CameraStatus } from '../../core/capture/source';
import { silentLogger } from '../../core/log/logger';
import { MjpegStreams } from '../../runtime/api/mjpeg';
import { contentTypes, type Route } from '../../runtime/api/route';
import { apiRouter, documentedRoutes } from '../../runtime/api/router';
import { Authenticator } from '../../runtime/auth/middleware';
import { ROLES, roleAtLeast, type Role } from '../../runtime/auth/roles';
import { TokenSigner } from '../../runtime/auth/tokens';
import { ApiKeyStore } from '../../runtime/stores/api-keys';
import { UserStore } from '../../runtime/stores/users';
import { expectProblem } from '../support/problem';

/**
 * Issue 12, acceptance 1 (HTTP): every declared API route × {anonymous, viewer, operator, admin, API key of each
 * role}. Anonymous → 401 (public routes excepted), below the route's role → 403, at or above it → neither (the
 * handler may then answer 400 or 404 for the dummy input). The table is built from the declarations, so a new route
 * is covered without touching this file. Users and keys are made through the real stores; requests carry real
 * tokens and keys through the real Authenticator.
 */
const routes = documentedRoutes();
const PASSWORD = 'correct horse battery staple';

type Caller = { name: string; role: Role | null; credential: () => string | null };
let dir: string;
let server: Server;
let base: string;
let auth: Authenticator;
const keySecrets = new Map<Role, string>();

function camera(id: string): CameraHandle {
  const status: CameraStatus = { camera: id, state: 'stopped', fps: 0, lastFrameAt: null, lastError: null, restarts: 0 };
  return {
    id,
    name: id,
    status: () => status,
    latestFrame: () => null,
    recentFrame: async () => null,
    attach: () => async () => undefined,
    requestFrame: () => Promise.reject(new Error(`camera "${id}" makes no frames in this test`)),
    publishesOwnFrames: false,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'glimpser-api-roles-'));
  const users = new UserStore(dir);
  await users.open();
  for (const role of ROLES) await users.create({ username: role, password: PASSWORD, role });
  await users.create({ username: 'porch-only', password: PASSWORD, role: 'viewer', cameras: ['porch'] });
  const keys = new ApiKeyStore(dir, { creators: (username) => users.get(username) });
  await keys.open();
  // API keys of each role, made by the admin (the lead's table of issue 12 names them beside the users).
  for (const role of ROLES)
    keySecrets.set(role, (await keys.create({ username: 'admin', role: 'admin', cameras: null }, { name: `${role} key`, role })).secret);
  auth = new Authenticator(users, new TokenSigner(randomBytes(32).toString('hex'), 3600), { keys });
  const cameras = new CameraRegistry();
  cameras.register(camera('porch'));
  cameras.register(camera('garage'));
  const app = express();
  app.use(
    '/api',
    apiRouter({
      users,
      keys,
      auth,
      cameras,
      streams: new MjpegStreams({ maxClientsPerCamera: 1, log: silentLogger }),
      maxStreamClientsPerCamera: 1,
      log: silentLogger,
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

// A fresh token per request: a route such as POST /auth/logout signs out the token it was called with.
const callers: Caller[] = [
  { name: 'anonymous', role: null, credential: () => null },
  ...ROLES.map((role) => ({ name: role, role, credential: () => `Bearer ${auth.issue(role).token}` })),
  ...ROLES.map((role) => ({ name: `${role} API key`, role, credential: () => `Bearer ${keySecrets.get(role)}` })),
];

/** The route's path with dummy values, and a minimal body of the declared type (an empty JSON object, or nothing). */
async function call(route: Route, authorization: string | null): Promise<Response> {
  const url = `${base}/api${route.path.replace(/\{[^}]+\}/g, 'nothing-here')}`;
  const headers: Record<string, string> = {};
  if (authorization) headers.authorization = authorization;
  let body: string | undefined;
  if (route.body) {
    const [type] = contentTypes(route.body);
    headers['content-type'] = type;
    body = type === 'application/json' ? '{}' : '';
  }
  const res = await fetch(url, { method: route.method.toUpperCase(), headers, body, signal: AbortSignal.timeout(20000) });
  // The live-view stream never ends; its status is all this test needs.
  await res.body?.cancel();
  return res;
}

function expected(route: Route, caller: Caller): string {
  if (route.access === 'public') return 'neither 401 nor 403';
  if (caller.role === null) return '401';
  return roleAtLeast(caller.role, route.access) ? 'neither 401 nor 403' : '403';
}

function outcome(status: number): string {
  return status === 401 || status === 403 ? String(status) : 'neither 401 nor 403';
}

const table = routes.flatMap((route) =>
  callers.map((caller) => [`${route.method.toUpperCase()} ${route.path} (${route.access})`, caller.name, route, caller] as const),
);

describe('every API route × every kind of caller', () => {
  it('covers every declared route', () => {
    expect(routes.length).toBeGreaterThan(30);
    expect(table).toHaveLength(routes.length * callers.length);
  });

  it.each(table)('%s as %s', async (_name, _caller, route, caller) => {
    const res = await call(route, caller.credential());
    expect({ route: route.path, caller: caller.name, outcome: outcome(res.status) }).toEqual({
      route: route.path,
      caller: caller.name,
      outcome: expected(route, caller),
    });
    if (res.status === 401) expect(res.headers.get('www-authenticate')).toBeTruthy();
  });
});

describe('per-user camera lists', () => {
  const as = (username: string) => ({ authorization: `Bearer ${auth.issue(username).token}` });

  it('lists only the cameras a limited user may see', async () => {
    const res = await fetch(`${base}/api/cameras`, { headers: as('porch-only') });
    expect(((await res.json()) as { cameras: { id: string }[] }).cameras.map((c) => c.id)).toEqual(['porch']);
    const all = await fetch(`${base}/api/cameras`, { headers: as('viewer') });
    expect(((await all.json()) as { cameras: { id: string }[] }).cameras.map((c) => c.id)).toEqual(['garage', 'porch']);
  });

  it('answers a camera outside the list exactly as a camera that does not exist (no leak)', async () => {
    const hidden = await fetch(`${base}/api/cameras/garage/snapshot.jpg`, { headers: as('porch-only') });
    const unknown = await fetch(`${base}/api/cameras/attic/snapshot.jpg`, { headers: as('porch-only') });
    const strip = (text: string) => text.replaceAll('garage', 'X').replaceAll('attic', 'X');
    const [hiddenProblem, unknownProblem] = [await expectProblem(hidden, 404), await expectProblem(unknown, 404)];
    expect(strip(JSON.stringify(hiddenProblem))).toBe(strip(JSON.stringify(unknownProblem)));
    const suspend = await fetch(`${base}/api/cameras/garage/notifications/suspend`, { headers: as('porch-only') });
    await expectProblem(suspend, 404);
  });
});

describe('wrong method on a known path', () => {
  it('answers 405 with Allow instead of 404 (finding 9)', async () => {
    const res = await fetch(`${base}/api/cameras`, { method: 'DELETE', headers: { authorization: `Bearer ${auth.issue('admin').token}` } });
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    await expectProblem(res, 405, { code: 'method_not_allowed' });
  });
});

describe('bodies, per route (finding 9)', () => {
  const admin = () => ({ authorization: `Bearer ${auth.issue('admin').token}` });

  it('applies the keep route its own 1 KiB limit: there is no larger router-wide parser before it', async () => {
    const body = JSON.stringify({ keep: true, pad: 'x'.repeat(2048) });
    const res = await fetch(`${base}/api/events/nothing-here/keep`, { method: 'POST', headers: { ...admin(), 'content-type': 'application/json' }, body });
    await expectProblem(res, 413, { code: 'too_large' });
  });

  it('answers JSON sent as text/plain with 415 naming the expected type, not a misleading 400', async () => {
    const res = await fetch(`${base}/api/rules/test`, {
      method: 'POST',
      headers: { ...admin(), 'content-type': 'text/plain' },
      body: '{"rules":{},"event":{}}',
    });
    await expectProblem(res, 415, { detail: /expected application\/json/ });
  });

  it('reads no body before the caller is signed in and allowed', async () => {
    const anonymous = await fetch(`${base}/api/events/nothing-here/keep`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"keep":',
    });
    await expectProblem(anonymous, 401);
    const viewer = await fetch(`${base}/api/events/nothing-here/keep`, {
      method: 'POST',
      headers: { authorization: `Bearer ${auth.issue('viewer').token}`, 'content-type': 'application/json' },
      body: '{"keep":',
    });
    await expectProblem(viewer, 403, { code: 'forbidden' });
  });
});
