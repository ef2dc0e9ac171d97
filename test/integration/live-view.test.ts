import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import sharp from 'sharp';
import { FrameArchive } from '../../core/archive/frame-archive';
import { Camera } from '../../core/capture/camera';
import { FfmpegSource } from '../../core/capture/ffmpeg-source';
import { CameraRegistry } from '../../core/capture/registry';
import type { Frame } from '../../core/frames/frame';
import { silentLogger } from '../../core/log/logger';
import { camerasRouter } from '../../runtime/api/cameras';
import { HTTP_HIGH_WATER_MARK, MjpegStreams } from '../../runtime/api/mjpeg';
import { eventually, findTool } from '../support/tools';
import { signedInAs } from '../support/api-auth';
import { expectProblem } from '../support/problem';

const FPS = 10;
const MAX_CLIENTS = 4;
/** Longer than the stalled-client test watches a congested client, short enough to see it disconnected. */
const STALLED_AFTER_MS = 5000;
/** Big frames (about 75 KiB) fill a stalled client's socket buffers (some MiB on loopback) within seconds. */
const DEMO = { kind: 'demo', width: 1280, height: 720, fps: FPS } as const;
/** Node's default high-water mark for a socket, which a write may overshoot by one part. */

let server: Server;
let base: string;
let camera: Camera;
let dead: Camera;
let streams: MjpegStreams;
let archive: FrameArchive;
let dataDir: string;

beforeAll(async () => {
  const ffmpegPath = findTool('ffmpeg');
  const registry = new CameraRegistry();
  camera = new Camera(
    'demo',
    'Demo',
    new FfmpegSource({ camera: 'demo', input: DEMO, output: { fps: FPS, jpegQuality: 2 }, ffmpegPath }),
    undefined,
    silentLogger,
  );
  // Nothing listens on port 9 of loopback: ffmpeg fails at once and keeps being restarted.
  const unreachable = { kind: 'url', url: 'http://127.0.0.1:9/stream' } as const;
  dead = new Camera(
    'dead',
    'Dead',
    new FfmpegSource({ camera: 'dead', input: unreachable, output: { fps: FPS, jpegQuality: 5 }, ffmpegPath }),
    undefined,
    silentLogger,
  );
  registry.register(camera);
  registry.register(dead);
  dataDir = mkdtempSync(path.join(tmpdir(), 'glimpser-live-'));
  archive = new FrameArchive({ dataDir });
  await archive.open();
  streams = new MjpegStreams({ maxClientsPerCamera: MAX_CLIENTS, stalledAfterMs: STALLED_AFTER_MS, log: silentLogger });
  const app = express();
  app.use(
    '/api',
    camerasRouter({
      cameras: registry,
      archive,
      log: silentLogger,
      maxClientsPerCamera: MAX_CLIENTS,
      streams,
      freshTimeoutMs: 3000,
      auth: signedInAs('admin'),
    }),
  );
  server = createServer({ highWaterMark: HTTP_HIGH_WATER_MARK }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await Promise.all([camera.close(), dead.close(), archive.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

interface StreamClient {
  res: IncomingMessage;
  /** Each part's JPEG and the camera timestamp its X-Frame-Timestamp header carries. */
  frames: { jpeg: Buffer; timestamp: number }[];
  /** Resolves once `count` more frames have arrived than when it was called. */
  next(count: number): Promise<void>;
  close(): void;
}

/** Reads multipart/x-mixed-replace parts by their Content-Length, as a browser does. */
function openStream(cameraId = 'demo'): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const request = get(`${base}/cameras/${cameraId}/stream.mjpg`, { agent: false }, (res) => {
      const frames: { jpeg: Buffer; timestamp: number }[] = [];
      const waiters: { target: number; resolve: () => void }[] = [];
      let buffer = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const headerEnd = buffer.indexOf('\r\n\r\n');
          if (headerEnd === -1) break;
          const headers = buffer.subarray(0, headerEnd).toString('latin1');
          expect(headers.startsWith('--glimpserframe\r\n')).toBe(true);
          const length = Number(/Content-Length: (\d+)/i.exec(headers)?.[1]);
          const end = headerEnd + 4 + length + 2;
          if (buffer.length < end) break;
          const timestamp = Number(/X-Frame-Timestamp: (\d+)/i.exec(headers)?.[1]);
          frames.push({ jpeg: buffer.subarray(headerEnd + 4, headerEnd + 4 + length), timestamp });
          buffer = buffer.subarray(end);
        }
        for (const waiter of waiters.filter((w) => frames.length >= w.target)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      });
      resolve({
        res,
        frames,
        next: (count) => new Promise((done) => waiters.push({ target: frames.length + count, resolve: done })),
        close: () => request.destroy(),
      });
    });
    request.on('error', reject);
  });
}

/**
 * The share of the frames the camera made over a client's last `count` frames that the client received: a client
 * kept at the camera's frame rate gets nearly all of them, however fast the camera runs on a busy machine.
 */
function keptShare(client: StreamClient, made: number[], count: number): number {
  const recent = client.frames.slice(-count).map((frame) => frame.timestamp);
  const [first, last] = [recent[0], recent[recent.length - 1]];
  if (!(made[0] <= first)) throw new Error(`the camera's frames were recorded from ${made[0]}, after the client's frame of ${first}`);
  return recent.length / made.filter((timestamp) => timestamp >= first && timestamp <= last).length;
}

/** Records the timestamp of every frame the camera makes from now on; returns them and the detach function. */
function recordMade(): { made: number[]; detach: () => Promise<void> } {
  const made: number[] = [];
  return { made, detach: camera.attach({ onFrame: (frame) => made.push(frame.meta.timestamp), onStatus: () => undefined }) };
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe('snapshot', () => {
  it('answers 503 before the camera has delivered any frame', async () => {
    const response = await fetch(`${base}/cameras/demo/snapshot.jpg`);
    await expectProblem(response, 503, { code: 'no_frame', detail: /camera "demo" has no frame yet/ });
  });

  it('returns a decodable JPEG, and with fresh=1 one newer than the last', async () => {
    const first = await fetch(`${base}/cameras/demo/snapshot.jpg?fresh=1`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await first.arrayBuffer());
    expect(await sharp(jpeg).metadata()).toMatchObject({ format: 'jpeg', width: DEMO.width, height: DEMO.height });
    const firstAt = Number(first.headers.get('x-frame-timestamp'));

    const latest = await fetch(`${base}/cameras/demo/snapshot.jpg`);
    expect(latest.status).toBe(200);
    expect(Number(latest.headers.get('x-frame-timestamp'))).toBe(firstAt);
    expect(Buffer.from(await latest.arrayBuffer()).equals(jpeg)).toBe(true);

    const fresh = await fetch(`${base}/cameras/demo/snapshot.jpg?fresh=1`);
    expect(fresh.status).toBe(200);
    expect(Number(fresh.headers.get('x-frame-timestamp'))).toBeGreaterThan(firstAt);
    await fresh.arrayBuffer();
  });

  it('answers 504 with the reason when a fresh frame does not come in time', async () => {
    const response = await fetch(`${base}/cameras/dead/snapshot.jpg?fresh=1`);
    await expectProblem(response, 504, { code: 'timeout', detail: /camera dead: no frame within 3000 ms/ });
  });

  it('answers 404 naming an unknown camera and 400 naming a malformed id', async () => {
    const unknown = await fetch(`${base}/cameras/nope/snapshot.jpg`);
    await expectProblem(unknown, 404, { detail: /camera "nope" is not configured/ });
    for (const bad of ['Bad%20Id', '..%2Fx']) {
      const response = await fetch(`${base}/cameras/${bad}/snapshot.jpg`);
      const problem = await expectProblem(response, 400, { detail: /^id: expected a camera id/, field: 'id' });
      expect(problem.detail).toContain(`got ${JSON.stringify(decodeURIComponent(bad))}`);
    }
    const stream = await fetch(`${base}/cameras/BAD/stream.mjpg`);
    await expectProblem(stream, 400);
  });
});

describe('MJPEG stream', () => {
  afterEach(async () => {
    // Every test leaves with no client, and the camera then stops decoding.
    await eventually(async () => (streams.stats().length === 0 ? true : undefined), 5000, 'clients gone');
  });

  it('serves several clients at once, each at the camera frame rate', async () => {
    const clients = await Promise.all([openStream(), openStream(), openStream()]);
    const { made, detach } = recordMade();
    try {
      for (const client of clients) {
        expect(client.res.statusCode).toBe(200);
        expect(client.res.headers['content-type']).toBe('multipart/x-mixed-replace; boundary=glimpserframe');
      }
      await Promise.all(clients.map((client) => client.next(20)));
      for (const client of clients) {
        expect(keptShare(client, made, 15)).toBeGreaterThan(0.7);
        expect(await sharp(client.frames[client.frames.length - 1].jpeg).metadata()).toMatchObject({ width: DEMO.width, height: DEMO.height });
      }
    } finally {
      await detach();
      for (const client of clients) client.close();
    }
    await eventually(async () => (camera.status().state === 'stopped' ? true : undefined), 5000, 'camera stopped after the last client');
  });

  it('drops frames for a stalled client without slowing the others or buffering more than one frame for it, then disconnects it', async () => {
    const stalled = await stalledClient();
    const stalledId = await eventually(async () => streams.stats()[0]?.id, 5000, 'the stalled client to connect');
    const healthy = await Promise.all([openStream(), openStream()]);
    let largestFrame = 0;
    const made: number[] = [];
    const onFrame = (frame: Frame): void => {
      largestFrame = Math.max(largestFrame, frame.jpeg.length);
      made.push(frame.meta.timestamp);
    };
    const detach = camera.attach({ onFrame, onStatus: () => undefined });
    try {
      // Any client is congested for a moment after each frame larger than the socket's high-water mark; only a
      // stalled one stays congested long enough to drop frames.
      const stalledStats = () => streams.stats().find((stats) => stats.id === stalledId && stats.framesDropped > 0);
      await eventually(async () => stalledStats(), 40000, 'the stalled client to congest');
      const before = stalledStats()!;
      let congestedSamples = 0;
      for (let i = 0; i < 20; i++) {
        await Promise.all(healthy.map((client) => client.next(1)));
        const now = streams.stats().find((stats) => stats.id === stalledId)!;
        if (now.congested) congestedSamples += 1;
        expect(now.pendingBytes).toBeLessThanOrEqual(largestFrame);
        expect(now.bufferedBytes).toBeLessThanOrEqual(largestFrame + HTTP_HIGH_WATER_MARK + 256);
      }
      // TCP autotuning may open a paused socket's window a little now and then, letting a frame through; what
      // matters is that the stalled viewer mostly drops frames and never holds more than one.
      expect(congestedSamples).toBeGreaterThanOrEqual(15);
      const after = streams.stats().find((stats) => stats.id === stalledId)!;
      expect(after.framesSent - before.framesSent).toBeLessThanOrEqual(3);
      expect(after.framesDropped).toBeGreaterThan(before.framesDropped + 10);
      for (const client of healthy) expect(keptShare(client, made, 20)).toBeGreaterThan(0.7);
      await eventually(
        async () => (streams.stats().some((stats) => stats.id === stalledId) ? undefined : true),
        STALLED_AFTER_MS + 5000,
        'the stalled client to be disconnected',
      );
      expect(streams.clientCount('demo')).toBe(2);
    } finally {
      stalled.destroy();
      for (const client of healthy) client.close();
      await detach();
    }
  });

  it('answers 429 beyond the client limit and frees the slot when a client leaves', async () => {
    const clients = await Promise.all(Array.from({ length: MAX_CLIENTS }, () => openStream()));
    try {
      const refused = await fetch(`${base}/cameras/demo/stream.mjpg`);
      await expectProblem(refused, 429, { code: 'too_many_clients', detail: /camera "demo" already has 4 live-view clients, the most allowed/ });
      clients.pop()!.close();
      await eventually(async () => (streams.clientCount('demo') === MAX_CLIENTS - 1 ? true : undefined), 5000, 'slot freed');
      const again = await openStream();
      clients.push(again);
      expect(again.res.statusCode).toBe(200);
      await again.next(1);
    } finally {
      for (const client of clients) client.close();
    }
  });

  it('answers HEAD with the stream headers without taking a client slot', async () => {
    const response = await fetch(`${base}/cameras/demo/stream.mjpg`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('multipart/x-mixed-replace; boundary=glimpserframe');
    expect(streams.clientCount('demo')).toBe(0);
  });
});

/** A client that sends its request and then never reads: its socket buffers fill and stay full. */
async function stalledClient(): Promise<Socket> {
  const { port } = server.address() as AddressInfo;
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause();
  socket.write('GET /api/cameras/demo/stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  return socket;
}

describe('archive endpoints', () => {
  it('lists with a cursor, serves a frame and keeps it', async () => {
    for (let i = 1; i <= 3; i++) {
      const response = await fetch(`${base}/cameras/demo/snapshot.jpg`);
      const jpeg = Buffer.from(await response.arrayBuffer());
      await archive.add({ jpeg, meta: { camera: 'demo', timestamp: Date.now() + i, sequence: i, width: DEMO.width, height: DEMO.height, bytes: jpeg.length } });
    }
    const first = await json(await fetch(`${base}/cameras/demo/archive?limit=2`));
    const frames = first.frames as { id: string; url: string; kept: boolean }[];
    expect(frames).toHaveLength(2);
    expect(frames[0].url).toBe(`/api/cameras/demo/archive/${frames[0].id}.jpg`);
    const second = await json(await fetch(`${base}/cameras/demo/archive?limit=2&before=${String(first.next)}`));
    expect(second).toMatchObject({ next: null, frames: [expect.objectContaining({ sequence: 1 })] });

    const image = await fetch(`http://${new URL(base).host}${frames[0].url}`);
    expect(image.status).toBe(200);
    expect((await sharp(Buffer.from(await image.arrayBuffer())).metadata()).format).toBe('jpeg');

    const keep = (id: string, body: unknown) =>
      fetch(`${base}/cameras/demo/archive/${id}/keep`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const kept = await keep(frames[0].id, { keep: true });
    expect(kept.status).toBe(200);
    expect((await json(kept)).frame).toMatchObject({ id: frames[0].id, kept: true });
    const wrong = await keep(frames[0].id, { keep: 'yes' });
    await expectProblem(wrong, 400, { detail: /body.keep/, field: 'body.keep' });
    await expectProblem(await keep('1-1', { keep: true }), 404);
    await expectProblem(await keep('nonsense', { keep: true }), 400);
    await expectProblem(await fetch(`${base}/cameras/demo/archive?limit=5000`), 400);
    await expectProblem(await fetch(`${base}/cameras/demo/archive?before=..`), 400);
    await expectProblem(await fetch(`${base}/cameras/nope/archive`), 404);
  });
});
