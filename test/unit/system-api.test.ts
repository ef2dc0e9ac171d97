import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import sharp from 'sharp';
import type { CameraHandle } from '../../core/capture/registry';
import { CameraRegistry } from '../../core/capture/registry';
import { UNLIMITED, type BudgetLimits } from '../../core/describe/budget';
import { OpenAIVisionProvider } from '../../core/describe/openai-provider';
import { AiProviderRegistry } from '../../core/describe/registry';
import { silentLogger } from '../../core/log/logger';
import { metrics } from '../../core/metrics';
import { loadConfig } from '../../runtime/config';
import { apiErrors } from '../../runtime/api/errors';
import { routerOf } from '../../runtime/api/route';
import { ANALYZE_MAX_BYTES, systemRoutes } from '../../runtime/api/system';
import { signedInByHeaders } from '../support/api-auth';
import { OpenAIServer } from '../support/openai-server';
import { expectProblem } from '../support/problem';

/**
 * GET /api/stats, GET /api/config and POST /api/ai/analyze, mounted through the route declarations with a stand-in
 * for sign-in (the `x-test-user` header names the principal): access by role is the API role table's test
 * (test/unit/api-roles.test.ts); this one checks what each route answers. The AI provider is the real one (the
 * openai SDK) against a loopback server that speaks OpenAI's wire format.
 */
/** The `x-test-*` headers signedInByHeaders reads, per principal of these tests. */
const PRINCIPALS: Record<string, Record<string, string>> = {
  viewer: { 'x-test-user': 'vera', 'x-test-role': 'viewer' },
  porchOnly: { 'x-test-user': 'pat', 'x-test-role': 'viewer', 'x-test-cameras': 'porch' },
  operator: { 'x-test-user': 'otto', 'x-test-role': 'operator' },
  admin: { 'x-test-user': 'ada', 'x-test-role': 'admin' },
};

function camera(id: string, restarts: number): CameraHandle {
  return {
    id,
    name: `Camera ${id}`,
    status: () => ({ camera: id, state: 'online', fps: 4.5, lastFrameAt: Date.UTC(2026, 11, 7, 12), lastError: null, restarts }),
    latestFrame: () => null,
    recentFrame: async () => null,
    attach: () => async () => undefined,
    requestFrame: () => Promise.reject(new Error('no frames here')),
    publishesOwnFrames: false,
  };
}

let server: Server;
let base: string;
let openai: OpenAIServer;
const ai = new AiProviderRegistry();
const providers: OpenAIVisionProvider[] = [];
let picture: Buffer;

beforeAll(async () => {
  openai = await OpenAIServer.start();
  const cameras = new CameraRegistry();
  cameras.register(camera('porch', 2));
  cameras.register(camera('yard', 0));
  const config = loadConfig({ GLIMPSER_ADMIN_PASSWORD: 'do-not-show-this-password', GLIMPSER_DATA_DIR: '/tmp/glimpser-system-api' }, '/');
  const app = express();
  app.use('/api', routerOf(systemRoutes({ cameras, config, ai, log: silentLogger }), signedInByHeaders()), apiErrors(silentLogger, 'system request failed'));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  picture = await sharp({ create: { width: 320, height: 180, channels: 3, background: '#506070' } })
    .jpeg()
    .toBuffer();
});

afterAll(async () => {
  for (const provider of providers) provider.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await openai.close();
});

function provider(id: string, budget: Partial<BudgetLimits> = {}): () => void {
  const made = new OpenAIVisionProvider({
    baseURL: openai.baseURL,
    apiKey: 'sk-test',
    model: 'gpt-4o-mini',
    timeoutMs: 5000,
    budget: { ...UNLIMITED, ...budget },
  });
  providers.push(made);
  return ai.register({ id, name: id, service: { model: 'gpt-4o-mini', notConfigured: null, describe: (request) => made.describe(request) } });
}

const as = (who: string, init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), ...PRINCIPALS[who] } });
const analyze = (who: string, body: Buffer, query = '', type = 'image/jpeg') =>
  fetch(`${base}/ai/analyze${query}`, as(who, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': type } }));

describe('GET /api/stats', () => {
  it('gives each camera’s state, fps, restarts and last frame, and messages and errors per node type', async () => {
    metrics.nodeMessagesTotal.inc({ type: 'system-test-node' }, 3);
    metrics.nodeErrorsTotal.inc({ type: 'system-test-node' });
    const res = await fetch(`${base}/stats`, as('viewer'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { cameras: Array<Record<string, unknown>>; nodes: Array<Record<string, unknown>> };
    expect(body.cameras.map((c) => c.camera)).toEqual(['porch', 'yard']);
    expect(body.cameras[0]).toMatchObject({
      name: 'Camera porch',
      state: 'online',
      fps: 4.5,
      restarts: 2,
      lastFrameAt: '2026-12-07T12:00:00.000Z',
      lastError: null,
    });
    expect(body.nodes).toContainEqual({ type: 'system-test-node', messages: 3, errors: 1 });
  });

  it('shows a user with a camera list only those cameras', async () => {
    const body = (await (await fetch(`${base}/stats`, as('porchOnly'))).json()) as { cameras: Array<{ camera: string }> };
    expect(body.cameras.map((c) => c.camera)).toEqual(['porch']);
  });
});

describe('GET /api/config', () => {
  it('gives the effective configuration with defaults and every secret redacted', async () => {
    const res = await fetch(`${base}/config`, as('admin'));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('do-not-show-this-password');
    const { config } = JSON.parse(text) as { config: Record<string, unknown> };
    expect(config).toMatchObject({ adminPassword: '[redacted]', httpPort: 1880, dataDir: '/tmp/glimpser-system-api' });
    expect(config).not.toHaveProperty('credentialSecret');
  });
});

describe('POST /api/ai/analyze', () => {
  it('says so when no glimpser-ai node is deployed', async () => {
    await expectProblem(await analyze('operator', picture), 409, { detail: /no glimpser-ai node is deployed/ });
  });

  it('describes an uploaded JPEG through the deployed provider', async () => {
    const unregister = provider('ai-1');
    try {
      const before = openai.requests.length;
      const res = await analyze('operator', picture, '?camera=gate');
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        provider: 'ai-1',
        model: 'gpt-4o-mini',
        caption: expect.any(String),
        severity: expect.any(String),
        cached: false,
      });
      expect(openai.requests.length).toBe(before + 1);
      expect(JSON.stringify(openai.requests.at(-1)!.body)).toContain('gate');
    } finally {
      unregister();
    }
  });

  it('refuses what is not a JPEG, the wrong content type and a body over the limit, before any provider request', async () => {
    const unregister = provider('ai-1');
    try {
      const before = openai.requests.length;
      await expectProblem(await analyze('operator', Buffer.from('GIF89a not a jpeg')), 400, { detail: /body: expected a JPEG/ });
      await expectProblem(await analyze('operator', picture, '', 'text/plain'), 415, { detail: /image\/jpeg/ });
      await expectProblem(await analyze('operator', Buffer.alloc(ANALYZE_MAX_BYTES + 1, 0xff)), 413);
      await expectProblem(await analyze('operator', picture, '?colour=red'), 400, { detail: /colour/ });
      expect(openai.requests.length).toBe(before);
    } finally {
      unregister();
    }
  });

  it('asks which provider when several are deployed, and names an unknown one', async () => {
    const off = [provider('ai-1'), provider('ai-2')];
    try {
      await expectProblem(await analyze('operator', picture), 400, { detail: /provider: 2 glimpser-ai nodes are deployed; name one of ai-1, ai-2/ });
      await expectProblem(await analyze('operator', picture, '?provider=ai-9'), 404, { detail: /no glimpser-ai node with id "ai-9"/ });
      expect((await analyze('operator', picture, '?provider=ai-2')).status).toBe(200);
    } finally {
      for (const unregister of off) unregister();
    }
  });

  it('keeps to the provider’s budget: past it, 429 with Retry-After and no request sent', async () => {
    const unregister = provider('ai-budget', { requestsPerHour: 1 });
    try {
      // Random pixels: a picture the provider's cache (a perceptual hash) cannot take for the first one.
      const other = await sharp(randomBytes(320 * 180 * 3), { raw: { width: 320, height: 180, channels: 3 } })
        .jpeg()
        .toBuffer();
      expect((await analyze('operator', picture)).status).toBe(200);
      const before = openai.requests.length;
      const res = await analyze('operator', other);
      await expectProblem(res, 429, { detail: /did not describe it \(budget\)/ });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(openai.requests.length).toBe(before);
    } finally {
      unregister();
    }
  });
});
