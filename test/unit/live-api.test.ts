import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import type { Channel } from '../../core/alerts/index';
import { CameraRegistry } from '../../core/capture/registry';
import type { LiveMessage } from '../../core/live';
import { LiveFeed } from '../../core/live-feed';
import { silentLogger } from '../../core/log/logger';
import { metrics } from '../../core/metrics';
import { EventJournal } from '../../core/store/journal';
import { topics } from '../../core/topics';
import { MjpegStreams } from '../../runtime/api/mjpeg';
import { liveRoutes } from '../../runtime/api/live';
import { routerOf } from '../../runtime/api/route';
import { apiRouter } from '../../runtime/api/router';
import { EmbeddedBroker } from '../../runtime/broker';
import { Authenticator } from '../../runtime/auth/middleware';
import { TokenSigner } from '../../runtime/auth/tokens';
import { UserStore } from '../../runtime/stores/users';
import { openTestAlertService, sampleAlert, type TestAlertService } from '../support/alerts';
import { signedInAs } from '../support/api-auth';
import { expectProblem } from '../support/problem';

/**
 * GET /api/live on the real API router, with the real authenticator, journal, alert service and in-process broker:
 * what a signed-in web app hears, limited to its cameras; the heartbeat; the stream limits; cleanup on close.
 */
const PASSWORD = 'correct horse battery staple';
const HEARTBEAT_MS = 100;

let dir: string;
let users: UserStore;
let auth: Authenticator;
let journal: EventJournal;
let alerts: TestAlertService;
let broker: EmbeddedBroker;
let feed: LiveFeed;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'glimpser-live-api-'));
  users = new UserStore(dir);
  await users.open();
  await users.create({ username: 'admin', password: PASSWORD, role: 'admin' });
  await users.create({ username: 'porch-only', password: PASSWORD, role: 'viewer', cameras: ['porch'] });
  for (const name of ['v1', 'v2', 'v3']) await users.create({ username: name, password: PASSWORD, role: 'viewer' });
  auth = new Authenticator(users, new TokenSigner(randomBytes(32).toString('hex'), 3600));
  journal = new EventJournal({ dataDir: dir });
  journal.open();
  alerts = openTestAlertService();
  broker = await EmbeddedBroker.create(users, silentLogger);
  feed = new LiveFeed({ journal, alerts: alerts.service });
  await feed.watchCameras(broker);
  const app = express();
  app.use(
    '/api',
    apiRouter({
      users,
      auth,
      cameras: new CameraRegistry(),
      journal,
      alerts: alerts.service,
      streams: new MjpegStreams({ maxClientsPerCamera: 1, log: silentLogger }),
      maxStreamClientsPerCamera: 1,
      live: feed,
      liveLimits: { heartbeatMs: HEARTBEAT_MS, maxClientsPerUser: 2, maxClients: 4, retryMs: 1500 },
      log: silentLogger,
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await feed.close();
  await broker.close();
  await alerts.close();
  await journal.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One SSE message or comment as the stream carried it. */
interface Frame {
  event?: string;
  data?: string;
  comment?: string;
  retry?: string;
}

interface Stream {
  res: Response;
  frames: Frame[];
  /** Resolves with the first frame (already received or coming) that matches; rejects after `timeoutMs`. */
  next(match: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** The messages received so far, parsed. */
  messages(): LiveMessage[];
  close(): Promise<void>;
}

async function open(username: string): Promise<Stream> {
  const controller = new AbortController();
  const res = await fetch(`${base}/live`, { headers: { authorization: `Bearer ${auth.issue(username).token}` }, signal: controller.signal });
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  if (res.ok && res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffered = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffered += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffered.indexOf('\n\n')) >= 0) {
            const block = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            for (const frame of parseBlock(block)) frames.push(frame);
            for (const wake of waiters) wake();
          }
        }
      } catch {
        // aborted by close()
      }
    })();
  }
  const next = (match: (frame: Frame) => boolean, timeoutMs = 5000) =>
    new Promise<Frame>((resolve, reject) => {
      const check = () => {
        const found = frames.find(match);
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const messages = () => frames.filter((f) => f.data !== undefined).map((f) => JSON.parse(f.data!) as LiveMessage);
  const close = async () => {
    controller.abort();
    await res.body?.cancel().catch(() => undefined);
  };
  return { res, frames, next, messages, close };
}

/** A block of lines up to a blank line: either one message (event + data) or comment / retry lines. */
function parseBlock(block: string): Frame[] {
  const message: Frame = {};
  const out: Frame[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) out.push({ comment: line.slice(1).trim() });
    else if (line.startsWith('retry: ')) out.push({ retry: line.slice(7) });
    else if (line.startsWith('event: ')) message.event = line.slice(7);
    else if (line.startsWith('data: ')) message.data = line.slice(6);
  }
  if (message.event !== undefined || message.data !== undefined) out.push(message);
  return out;
}

/** Waits until `condition` holds, checking every 20 ms (the server sees a closed stream a moment after the client). */
async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function liveClients(): Promise<number> {
  return (await metrics.liveClients.get()).values[0]?.value ?? 0;
}

describe('GET /api/live', () => {
  it('answers 401 with a challenge without credentials, before any stream opens', async () => {
    // As EventSource asks: not a navigation, so no Basic challenge that would open the browser's password dialog.
    const res = await fetch(`${base}/live`, { headers: { 'sec-fetch-mode': 'cors', accept: 'text/event-stream' } });
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="glimpser"');
    await expectProblem(res, 401);
    expect(feed.listenerCount).toBe(0);
  });

  it('opens an event stream with a retry hint that nothing caches', async () => {
    const stream = await open('admin');
    try {
      expect(stream.res.status).toBe(200);
      expect(stream.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(stream.res.headers.get('cache-control')).toBe('no-store');
      expect((await stream.next((f) => f.retry !== undefined)).retry).toBe('1500');
    } finally {
      await stream.close();
    }
  });

  it("sends a viewer limited to the porch the porch's event, alert and camera state, and nothing of the garage", async () => {
    const porch = await open('porch-only');
    const admin = await open('admin');
    try {
      await porch.next((f) => f.retry !== undefined);
      await admin.next((f) => f.retry !== undefined);
      const garageEvent = journal.insert({ camera: 'garage', type: 'motion', startTime: Date.now() });
      const porchEvent = journal.insert({ camera: 'porch', type: 'motion', startTime: Date.now() });
      journal.update(porchEvent.id, { endTime: Date.now() + 1000 });
      await alerts.service.enqueue(sampleAlert({ camera: 'garage', headline: 'Garage motion' }), []);
      const porchAlert = sampleAlert({ camera: 'porch', eventId: porchEvent.id });
      await alerts.service.enqueue(porchAlert, []);
      await broker.publish(topics.cameraState('garage'), JSON.stringify({ state: 'offline', fps: 0, lastFrameAt: null, lastError: 'gone', restarts: 1 }));
      await broker.publish(
        topics.cameraState('porch'),
        JSON.stringify({ state: 'online', fps: 5, lastFrameAt: 1, lastError: null, restarts: 0, name: 'Porch' }),
      );

      // The admin sees everything, so once it has the last message the viewer has had its chance at all of them.
      await admin.next((f) => f.event === 'camera' && f.data!.includes('"porch"'));
      await porch.next((f) => f.event === 'camera');
      const seen = porch.messages();
      expect(seen.every((m) => m.camera === 'porch')).toBe(true);
      expect(seen.map((m) => `${m.kind}${m.kind === 'event' ? ` ${m.change}` : ''}`)).toEqual(['event new', 'event end', 'alert', 'camera']);
      expect(seen[0]).toMatchObject({ kind: 'event', change: 'new', camera: 'porch', event: { id: porchEvent.id, camera: 'porch' } });
      expect(seen[2]).toEqual({
        kind: 'alert',
        camera: 'porch',
        alertId: porchAlert.id,
        eventId: porchEvent.id,
        msgType: 'Alert',
        headline: porchAlert.headline,
      });
      expect(seen[3]).toEqual({
        kind: 'camera',
        camera: 'porch',
        status: { camera: 'porch', state: 'online', fps: 5, lastFrameAt: 1, lastError: null, restarts: 0 },
      });
      // The SSE event name is the message kind.
      expect(porch.frames.filter((f) => f.data).map((f) => f.event)).toEqual(seen.map((m) => m.kind));
      const everything = admin.messages();
      expect(everything.filter((m) => m.camera === 'garage').map((m) => m.kind)).toEqual(['event', 'alert', 'camera']);
      expect(everything.some((m) => m.kind === 'event' && m.event.id === garageEvent.id)).toBe(true);
    } finally {
      await porch.close();
      await admin.close();
    }
  });

  it('tells of a delivery as it is sent or retried', async () => {
    const stream = await open('porch-only');
    let attempts = 0;
    const channel: Channel = {
      kind: 'webhook',
      hostOf: () => 'receiver.test',
      send: async () => {
        attempts++;
        if (attempts === 1) throw new Error('connection refused');
        return { statusCode: 200 };
      },
    };
    const unregister = alerts.service.registerChannel('hook', channel);
    try {
      await stream.next((f) => f.retry !== undefined);
      const alert = sampleAlert({ camera: 'porch' });
      const [delivery] = await alerts.service.enqueue(alert, [{ channel: 'webhook', notifier: 'hook', target: 'https://receiver.test/hook' }]);
      await stream.next((f) => f.event === 'delivery' && f.data!.includes('"delivered"'));
      const deliveries = stream.messages().filter((m) => m.kind === 'delivery');
      expect(deliveries).toEqual([
        {
          kind: 'delivery',
          camera: 'porch',
          alertId: alert.id,
          deliveryId: delivery.id,
          channel: 'webhook',
          target: 'https://receiver.test/hook',
          state: 'retrying',
          lastError: expect.stringContaining('connection refused') as unknown as string,
        },
        expect.objectContaining({ deliveryId: delivery.id, state: 'delivered' }),
      ]);
    } finally {
      unregister();
      await stream.close();
    }
  });

  it('sends a heartbeat comment while nothing happens', async () => {
    const stream = await open('v1');
    try {
      await stream.next((f) => f.comment === 'heartbeat', HEARTBEAT_MS * 20);
      const count = () => stream.frames.filter((f) => f.comment === 'heartbeat').length;
      const first = count();
      await until(() => count() > first, 'a second heartbeat');
      expect(stream.messages()).toEqual([]);
    } finally {
      await stream.close();
    }
  });

  it('stops listening and counts the client out when the browser goes away', async () => {
    await until(() => feed.listenerCount === 0, 'earlier streams to close');
    const before = await liveClients();
    const stream = await open('v1');
    await stream.next((f) => f.retry !== undefined);
    expect(feed.listenerCount).toBe(1);
    expect(await liveClients()).toBe(before + 1);
    await stream.close();
    await until(() => feed.listenerCount === 0, 'the listener to be removed');
    await until(async () => (await liveClients()) === before, 'the gauge to go back');
  });

  it('refuses a stream beyond the per-user and the total limits with 429, and serves again once one closes', async () => {
    await until(() => feed.listenerCount === 0, 'earlier streams to close');
    const mine = [await open('v1'), await open('v1')];
    const others: Stream[] = [];
    try {
      const third = await fetch(`${base}/live`, { headers: { authorization: `Bearer ${auth.issue('v1').token}` } });
      expect(third.headers.get('retry-after')).toBe('2');
      const problem = await expectProblem(third, 429, { code: 'too_many_clients' });
      expect(problem.detail).toMatch(/user "v1" already has 2 live streams open/);

      others.push(await open('v2'), await open('v3'));
      expect(others.map((s) => s.res.status)).toEqual([200, 200]);
      const overTotal = await fetch(`${base}/live`, { headers: { authorization: `Bearer ${auth.issue('admin').token}` } });
      await expectProblem(overTotal, 429, { code: 'too_many_clients', detail: /already serves 4 live streams/ });

      await mine[0].close();
      await until(() => feed.listenerCount === 3, 'the closed stream to be counted out');
      const again = await open('v1');
      mine.push(again);
      expect(again.res.status).toBe(200);
    } finally {
      for (const stream of [...mine, ...others]) await stream.close();
    }
  });
});

describe('GET /api/live after a sign-out or a change', () => {
  /** A stream on a token the test holds, and whether the server has ended it. */
  async function openWith(token: string): Promise<{ ended: Promise<string>; abort: () => void }> {
    const controller = new AbortController();
    const res = await fetch(`${base}/live`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
    expect(res.status).toBe(200);
    return { ended: res.text(), abort: () => controller.abort() };
  }

  beforeEach(() => until(() => feed.listenerCount === 0, 'earlier streams to close'));

  it('ends the stream within a heartbeat once its session is signed out', async () => {
    const { token } = auth.issue('v2');
    const stream = await openWith(token);
    const out = await fetch(`${base}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(out.status).toBe(204);
    // The body ends (instead of hanging until the 30-minute age limit) because the server closed the stream.
    await expect(stream.ended).resolves.toMatch(/^retry: \d+\n/);
  });

  it("ends the stream of a user whose role changed, and keeps another user's", async () => {
    const changed = await openWith(auth.issue('v3').token);
    const other = await open('v1');
    try {
      await users.update('v3', { role: 'operator' });
      await expect(changed.ended).resolves.toMatch(/^retry: /);
      const beats = () => other.frames.filter((f) => f.comment === 'heartbeat').length;
      const seen = beats();
      await until(() => beats() > seen + 1, 'the other stream to go on beating');
    } finally {
      await other.close();
    }
  });
});

describe('GET /api/live, stream age', () => {
  it('ends a stream after its age limit, so the browser reconnects and signs in again', async () => {
    const app = express();
    app.use('/api', routerOf(liveRoutes({ feed, log: silentLogger, limits: { maxStreamMs: 200, heartbeatMs: 60_000 } }), signedInAs('viewer')));
    const short = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => short.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(short.address() as AddressInfo).port}/api/live`);
      expect(res.status).toBe(200);
      // The body ends (rather than hanging until the test times out) once the server closes the stream.
      expect(await res.text()).toMatch(/^retry: \d+\n/);
      await until(() => feed.listenerCount === 0, 'the listener to be removed');
    } finally {
      short.closeAllConnections();
      await new Promise((resolve) => short.close(resolve));
    }
  });
});
