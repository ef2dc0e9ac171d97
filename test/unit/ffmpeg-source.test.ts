import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nextBackoffMs } from '../../core/capture/child-process';
import { FfmpegSource, type FfmpegSourceOptions } from '../../core/capture/ffmpeg-source';
import { DRI_RENDER_NODE } from '../../core/capture/hwaccel';
import type { CameraStatus } from '../../core/capture/source';
import type { Frame } from '../../core/frames/frame';
import type { GreyPlane } from '../../core/frames/grey';
import { WindowRateLimiter } from '../../core/log/rate-limit';
import { metrics } from '../../core/metrics';
import { isAlive } from '../support/glimpser-process';
import { freePort, metricValue, recordEvents, recordingLogger, waitFor } from '../support/tools';

const FFMPEG = '/usr/bin/ffmpeg';
const DEMO = { kind: 'demo', width: 320, height: 240, fps: 10 } as const;
const OUTPUT = { fps: 10, jpegQuality: 5 };

let dir: string;
const sources: FfmpegSource[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'glimpser-ffmpeg-'));
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.stop()));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeSource(options: Partial<FfmpegSourceOptions> & { camera: string }): FfmpegSource {
  const source = new FfmpegSource({ input: DEMO, output: OUTPUT, ffmpegPath: FFMPEG, ...options });
  sources.push(source);
  return source;
}

/** Every status the source emits, with when it came, so tests can wait on and reason about transitions. */
const recordStatuses = (source: FfmpegSource): Array<{ value: CameraStatus; at: number }> => recordEvents<CameraStatus>(source, 'status');

const waitForState = (source: FfmpegSource, state: CameraStatus['state'], timeoutMs?: number): Promise<CameraStatus> =>
  waitFor<CameraStatus>(source, 'status', (status) => status.state === state, timeoutMs);

test('a demo camera delivers 320x240 JPEGs that ffprobe decodes, in sequence, and stop() leaves no ffmpeg behind', async () => {
  const source = makeSource({ camera: 'demo-frames' });
  const statuses = recordStatuses(source);
  const frames: Frame[] = [];
  const fifth = new Promise<void>((resolve) => source.on('frame', (frame: Frame) => frames.push(frame) === 5 && resolve()));
  source.start();
  const pid = source.pid;
  await fifth;

  expect(statuses.map(({ value }) => value.state).slice(0, 2)).toEqual(['connecting', 'online']);
  expect(frames.slice(0, 5).map((frame) => frame.meta.sequence)).toEqual([1, 2, 3, 4, 5]);
  for (const { jpeg, meta } of frames) {
    expect(meta).toMatchObject({ camera: 'demo-frames', width: 320, height: 240, bytes: jpeg.length });
  }
  const file = path.join(dir, 'frame.jpg');
  writeFileSync(file, frames[4].jpeg);
  const probe = execFileSync('/usr/bin/ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-show_entries',
    'stream=codec_name,width,height,nb_read_frames',
    '-of',
    'json',
    file,
  ]);
  expect(JSON.parse(probe.toString()).streams[0]).toEqual({ codec_name: 'mjpeg', width: 320, height: 240, nb_read_frames: '1' });
  expect(await metricValue(metrics.framesTotal, { camera: 'demo-frames' })).toBeGreaterThanOrEqual(5);

  expect(pid).toBeDefined();
  await source.stop();
  expect(isAlive(pid as number)).toBe(false);
  expect(source.status().state).toBe('stopped');
  expect(source.pid).toBeUndefined();

  // A stopped source can start again, as a fresh capture session.
  const again = waitFor<Frame>(source, 'frame', () => true);
  source.start();
  expect((await again).meta.sequence).toBe(1);
  expect(source.status()).toMatchObject({ state: 'online', restarts: 0 });
});

test('an ffmpeg killed from outside is restarted and the camera comes back online', async () => {
  const source = makeSource({ camera: 'demo-killed', backoff: { initialMs: 100, maxMs: 400 } });
  source.start();
  await waitForState(source, 'online');
  const firstPid = source.pid as number;

  const offline = waitForState(source, 'offline');
  process.kill(firstPid, 'SIGKILL');
  expect((await offline).lastError).toBe('ffmpeg was killed by SIGKILL');
  const back = await waitForState(source, 'online');

  expect(back.restarts).toBe(1);
  expect(source.pid).not.toBe(firstPid);
  expect(await metricValue(metrics.captureRestartsTotal, { camera: 'demo-killed' })).toBe(1);
  expect(await metricValue(metrics.captureErrorsTotal, { camera: 'demo-killed', kind: 'exit' })).toBe(1);
});

test('a refused connection sets lastError without secrets and restarts are spaced by the backoff', async () => {
  const port = await freePort();
  const { logger, entries } = recordingLogger();
  const initialMs = 150;
  const maxMs = 600;
  const source = makeSource({
    camera: 'refused',
    input: { kind: 'url', url: `http://viewer:s3cr3tpw@127.0.0.1:${port}/x?token=t0k3nvalue` },
    backoff: { initialMs, maxMs },
    logger,
  });
  const statuses = recordStatuses(source);
  source.start();
  // Offline after the third restart: a restart timer is pending, which stop() must cancel.
  await waitFor<CameraStatus>(source, 'status', (status) => status.state === 'offline' && status.restarts === 3);

  const status = source.status();
  expect(status.lastError).toBe(`http://***:***@127.0.0.1:${port}/x?token=***: Connection refused`);
  // Backoff runs from the exit (offline) to the next start (connecting): never sooner than initialMs (that it never
  // waits longer than maxMs is a property of nextBackoffMs, tested below without a clock).
  const waits = statuses
    .map((entry, i) => ({ entry, prev: statuses[i - 1] }))
    .filter(({ entry, prev }) => entry.value.state === 'connecting' && prev?.value.state === 'offline')
    .map(({ entry, prev }) => entry.at - prev.at);
  expect(waits).toHaveLength(3);
  for (const wait of waits) expect(wait).toBeGreaterThanOrEqual(initialMs - 2);
  expect(await metricValue(metrics.captureErrorsTotal, { camera: 'refused', kind: 'exit' })).toBeGreaterThanOrEqual(3);

  const everything = JSON.stringify([statuses, entries]);
  expect(everything).toContain('Connection refused');
  expect(everything).not.toMatch(/s3cr3tpw|t0k3nvalue/);

  await source.stop();
  const after = statuses.length;
  // Nothing may restart once stopped. A second source started now restarts only after a full maxMs backoff: by
  // then the restart timer the stopped one had pending (at most maxMs, set before stop()) would have fired.
  const clock = makeSource({ camera: 'refused-clock', input: { kind: 'url', url: `http://127.0.0.1:${port}/x` }, backoff: { initialMs: maxMs, maxMs } });
  clock.start();
  await waitFor<CameraStatus>(clock, 'status', (status) => status.state === 'connecting' && status.restarts === 1);
  expect(statuses.slice(after)).toEqual([]);
  expect(source.status().state).toBe('stopped');
});

test('a missing file fails each run with its reason, and stderr logging is rate-limited', async () => {
  const { logger, entries } = recordingLogger();
  const missing = path.join(dir, 'gone.mp4');
  const source = makeSource({ camera: 'missing-file', input: { kind: 'file', path: missing }, backoff: { initialMs: 20, maxMs: 40 }, logger });
  source.start();
  const status = await waitFor<CameraStatus>(source, 'status', (s) => s.restarts === 8);
  expect(status.lastError).toBe(`file:${missing}: No such file or directory`);

  await source.stop();
  const stderrLines = entries.filter((entry) => entry.level === 'warn' && 'line' in entry.obj);
  expect(stderrLines).toHaveLength(5);
  const summary = entries.find((entry) => typeof entry.obj.suppressed === 'number');
  expect(summary?.obj.suppressed).toBeGreaterThanOrEqual(3);
});

test('a missing ffmpeg binary is reported in words a user can act on, without crashing', async () => {
  const source = makeSource({ camera: 'no-ffmpeg', ffmpegPath: '/nonexistent/ffmpeg', backoff: { initialMs: 20, maxMs: 40 } });
  source.start();
  const status = await waitFor<CameraStatus>(source, 'status', (s) => s.restarts === 2);
  expect(status.lastError).toBe('ffmpeg not found at /nonexistent/ffmpeg: install the Debian package ffmpeg');
  expect(await metricValue(metrics.captureErrorsTotal, { camera: 'no-ffmpeg', kind: 'spawn' })).toBeGreaterThanOrEqual(2);
  expect(await metricValue(metrics.captureErrorsTotal, { camera: 'no-ffmpeg', kind: 'exit' })).toBe(0);
});

describe('file inputs', () => {
  let clip: string;

  beforeAll(() => {
    clip = path.join(dir, 'clip.mp4');
    execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10', '-t', '1', '-c:v', 'mpeg4', clip]);
  });

  test('a clip played once ends as stopped and is not restarted', async () => {
    const source = makeSource({ camera: 'clip-once', input: { kind: 'file', path: clip }, backoff: { initialMs: 20, maxMs: 40 } });
    const frames: Frame[] = [];
    source.on('frame', (frame: Frame) => frames.push(frame));
    source.start();
    await waitForState(source, 'online');
    const ended = await waitForState(source, 'stopped');
    expect(ended).toMatchObject({ restarts: 0, lastError: null });
    expect(frames.length).toBeGreaterThanOrEqual(8);
    expect(frames.length).toBeLessThanOrEqual(11);
    expect(frames[0].meta).toMatchObject({ width: 160, height: 120 });
  });

  test('a looped clip keeps delivering frames past its end without restarting ffmpeg', async () => {
    const source = makeSource({ camera: 'clip-loop', input: { kind: 'file', path: clip, loop: true } });
    const pastEnd = waitFor<Frame>(source, 'frame', (frame) => frame.meta.sequence === 15);
    source.start();
    await pastEnd;
    expect(source.status()).toMatchObject({ state: 'online', restarts: 0 });
  });
});

describe('stalls', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    // Answers with a stream's headers and then never sends a byte: a camera that hangs after connecting.
    server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace;boundary=frame' });
      res.flushHeaders();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a stream that sends headers and then nothing goes offline within offlineAfterMs and is retried', async () => {
    const offlineAfterMs = 800;
    const source = makeSource({
      camera: 'stalled-http',
      input: { kind: 'url', url: `http://127.0.0.1:${port}/stream` },
      offlineAfterMs,
      backoff: { initialMs: 100, maxMs: 200 },
    });
    const statuses = recordStatuses(source);
    source.start();
    const offline = await waitForState(source, 'offline', offlineAfterMs + 3000);
    // Offline straight from connecting, by the stall timer: never sooner than offlineAfterMs, and the source's own
    // count of the quiet time ("1 s") says it did not wait much longer either.
    expect(statuses.slice(0, -1).map(({ value }) => value.state)).toEqual(statuses.slice(0, -1).map(() => 'connecting'));
    const waited = statuses[statuses.length - 1].at - statuses[0].at;
    expect(waited).toBeGreaterThanOrEqual(offlineAfterMs - 2);
    expect(offline.lastError).toBe('no frame for 1 s: restarting ffmpeg');

    const retried = await waitForState(source, 'connecting');
    expect(retried.restarts).toBe(1);
    expect(await metricValue(metrics.captureErrorsTotal, { camera: 'stalled-http', kind: 'stall' })).toBe(1);
  });

  test('a frozen ffmpeg is declared offline, killed even though it ignores SIGTERM, and replaced', async () => {
    // Long enough that a replacement ffmpeg on a loaded 2-core CI machine delivers its first frame in time.
    const offlineAfterMs = 1500;
    const source = makeSource({ camera: 'frozen', offlineAfterMs, backoff: { initialMs: 50, maxMs: 100 } });
    source.start();
    await waitForState(source, 'online');
    const frozenPid = source.pid as number;
    // A stopped process cannot act on SIGTERM, so only the SIGKILL after the grace period ends it.
    process.kill(frozenPid, 'SIGSTOP');
    await waitForState(source, 'offline', offlineAfterMs + 2000);
    const back = await waitForState(source, 'online', 8000);
    expect(isAlive(frozenPid)).toBe(false);
    expect(back.restarts).toBeGreaterThanOrEqual(1);
    expect(source.pid).not.toBe(frozenPid);
  });
});

describe('stderr rate limit', () => {
  test('lets the first lines of each window through and reports the rest once the window closes or on flush', () => {
    let now = 0;
    const reports: number[] = [];
    const limiter = new WindowRateLimiter({ limit: 2, windowMs: 100, onSuppressed: (count) => reports.push(count), now: () => now });
    expect([1, 2, 3, 4, 5].map(() => limiter.allow())).toEqual([true, true, false, false, false]);
    now = 99;
    expect(limiter.allow()).toBe(false);
    expect(reports).toEqual([]);
    now = 100;
    expect(limiter.allow()).toBe(true);
    expect(reports).toEqual([4]);
    limiter.flush();
    expect(reports).toEqual([4]);
    limiter.allow();
    limiter.allow();
    limiter.flush();
    expect(reports).toEqual([4, 1]);
  });

  test('refuses a limit or window that would log nothing', () => {
    const onSuppressed = (): void => undefined;
    expect(() => new WindowRateLimiter({ limit: 0, windowMs: 100, onSuppressed })).toThrow(/limit 0 is invalid/);
    expect(() => new WindowRateLimiter({ limit: 1, windowMs: 0, onSuppressed })).toThrow(/windowMs 0 is invalid/);
  });
});

describe('grey planes', () => {
  let flats: string;

  beforeAll(() => {
    // One second each of black, mid grey and white: the luma every plane must show is known.
    flats = path.join(dir, 'flats.mp4');
    const colour = (c: string): string[] => ['-f', 'lavfi', '-i', `color=c=${c}:size=320x240:rate=10:duration=1`];
    execFileSync(FFMPEG, [
      '-hide_banner',
      '-loglevel',
      'error',
      ...colour('black'),
      ...colour('gray'),
      ...colour('white'),
      '-filter_complex',
      '[0:v][1:v][2:v]concat=n=3',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      flats,
    ]);
  });

  const mean = (data: Uint8Array): number => data.reduce((sum, v) => sum + v, 0) / data.length;

  test('one decode gives JPEGs and grey planes of the same pictures, each plane numbered, sized and timed', async () => {
    const source = makeSource({ camera: 'grey-flats', input: { kind: 'file', path: flats }, grey: { height: 60 } });
    const frames: Frame[] = [];
    const planes: GreyPlane[] = [];
    source.on('frame', (frame: Frame) => frames.push(frame));
    source.on('grey', (plane: GreyPlane) => planes.push(plane));
    source.start();
    await waitForState(source, 'stopped');

    expect(frames.length).toBeGreaterThanOrEqual(28);
    // Both branches take the same pictures from the decode at the same rate, so the n-th of each match.
    expect(Math.abs(planes.length - frames.length)).toBeLessThanOrEqual(1);
    expect(planes.map((p) => p.sequence)).toEqual(planes.map((_p, i) => i + 1));
    for (const plane of planes) {
      expect(plane).toMatchObject({ camera: 'grey-flats', width: 80, height: 60 });
      expect(plane.data.length).toBe(80 * 60);
    }
    expect(planes.map((p) => p.timestamp)).toEqual([...planes.map((p) => p.timestamp)].sort((a, b) => a - b));

    // ffmpeg decodes the JPEGs it delivered to the same grey size; each must match its own plane.
    const decoded = spawnSync(
      FFMPEG,
      ['-hide_banner', '-loglevel', 'error', '-f', 'mjpeg', '-i', 'pipe:0', '-vf', 'scale=80:60:flags=area,format=gray', '-f', 'rawvideo', 'pipe:1'],
      {
        input: Buffer.concat(frames.map((f) => f.jpeg)),
        maxBuffer: 64 * 1024 * 1024,
      },
    ).stdout;
    expect(decoded.length).toBe(frames.length * 80 * 60);
    const jpegMeans = frames.map((_f, i) => mean(decoded.subarray(i * 4800, (i + 1) * 4800)));
    const planeMeans = planes.map((p) => mean(p.data));
    for (const [i, planeMean] of planeMeans.slice(0, jpegMeans.length).entries()) expect(Math.abs(planeMean - jpegMeans[i])).toBeLessThan(4);
    expect(planeMeans[0]).toBeLessThan(30);
    expect(Math.abs(planeMeans[Math.floor(planes.length / 2)] - 128)).toBeLessThan(12);
    expect(planeMeans[planes.length - 1]).toBeGreaterThan(225);
  });

  test('planes come at their own rate, set apart from the JPEG rate', async () => {
    const source = makeSource({ camera: 'grey-rate', input: { kind: 'file', path: flats }, output: { fps: 2, jpegQuality: 5 }, grey: { height: 60, fps: 10 } });
    let frames = 0;
    const planes: GreyPlane[] = [];
    source.on('frame', () => (frames += 1));
    source.on('grey', (plane: GreyPlane) => planes.push(plane));
    source.start();
    await waitForState(source, 'stopped');
    // 3 s of video: about 6 JPEGs and 30 planes.
    expect(frames).toBeGreaterThanOrEqual(5);
    expect(frames).toBeLessThanOrEqual(7);
    expect(planes.length).toBeGreaterThanOrEqual(28);
  });
});

describe('JPEG demand', () => {
  /**
   * Counts what the source delivers. Planes come from the same real-time decode as the JPEGs, at the JPEG rate (10
   * a second here), so they are the clock these tests wait on: "within a second" is within 10 planes of video.
   */
  const counts = (source: FfmpegSource): { frames: number; planes: number; morePlanes(count: number): Promise<unknown> } => {
    const seen = { frames: 0, planes: 0 };
    source.on('frame', () => (seen.frames += 1));
    source.on('grey', () => (seen.planes += 1));
    /** Resolves once `count` more planes have come than now. */
    const morePlanes = (count: number): Promise<unknown> => {
      const target = seen.planes + count;
      return waitFor(source, 'grey', () => seen.planes >= target, 10000);
    };
    return Object.assign(seen, { morePlanes });
  };

  test('unwanted, no JPEG is made while planes keep the camera online; wanted again, JPEGs come within a second of video', async () => {
    const source = makeSource({ camera: 'gated', offlineAfterMs: 3000 });
    const seen = counts(source);
    source.setJpegDemand(false);
    source.start();
    await waitForState(source, 'online');
    await seen.morePlanes(15);
    // framestep lets the very first picture through; nothing after it.
    expect(seen.frames).toBeLessThanOrEqual(1);
    const closedFrames = seen.frames;
    expect(seen.planes).toBeGreaterThanOrEqual(5);
    expect(source.status()).toMatchObject({ state: 'online', lastError: null });
    expect(source.status().fps).toBeGreaterThan(3);

    const planesWhenOpened = seen.planes;
    source.setJpegDemand(true);
    const frame = await waitFor<Frame>(source, 'frame', () => true, 3000);
    expect(seen.planes - planesWhenOpened).toBeLessThanOrEqual(10);
    expect(frame.meta).toMatchObject({ camera: 'gated', width: 320, height: 240 });
    await waitFor<Frame>(source, 'frame', () => seen.frames - closedFrames >= 4, 5000);
    expect(seen.frames - closedFrames).toBeGreaterThanOrEqual(4);

    source.setJpegDemand(false);
    // The command takes effect within a few frames; what is already in the pipe may still arrive.
    await seen.morePlanes(4);
    const afterClose = seen.frames;
    const planesBefore = seen.planes;
    await seen.morePlanes(15);
    expect(seen.frames).toBe(afterClose);
    expect(seen.planes - planesBefore).toBeGreaterThanOrEqual(5);
    // The commands' prompts and replies on stderr are expected, not errors.
    expect(source.status().lastError).toBeNull();
  });

  test('a restarted ffmpeg starts in the state last asked for', async () => {
    const source = makeSource({ camera: 'gated-restart', backoff: { initialMs: 100, maxMs: 400 } });
    const seen = counts(source);
    source.start();
    await waitFor<Frame>(source, 'frame', () => true);
    source.setJpegDemand(false);
    const firstPid = source.pid as number;
    process.kill(firstPid, 'SIGKILL');
    await waitForState(source, 'offline');
    await waitForState(source, 'online');
    await seen.morePlanes(3);
    const framesAfterRestart = seen.frames;
    const planesAfterRestart = seen.planes;
    await seen.morePlanes(15);
    expect(source.pid).not.toBe(firstPid);
    expect(seen.frames - framesAfterRestart).toBeLessThanOrEqual(1);
    expect(seen.planes - planesAfterRestart).toBeGreaterThanOrEqual(5);
  });
});

describe('restart backoff', () => {
  afterEach(() => jest.restoreAllMocks());

  test.each([0, 0.5, 1 - Number.EPSILON])('each wait is at least initialMs and at most maxMs, and grows to maxMs (random draw %p)', (draw) => {
    jest.spyOn(Math, 'random').mockReturnValue(draw);
    const limits = { initialMs: 150, maxMs: 600 };
    const waits: number[] = [];
    for (let previous = limits.initialMs, i = 0; i < 10; i++) waits.push((previous = nextBackoffMs(previous, limits)));
    for (const wait of waits) {
      expect(wait).toBeGreaterThanOrEqual(limits.initialMs);
      expect(wait).toBeLessThanOrEqual(limits.maxMs);
    }
    expect(waits[waits.length - 1]).toBe(draw === 0 ? limits.initialMs : limits.maxMs);
  });
});

describe('hardware decoding', () => {
  let h264: string;

  beforeAll(() => {
    h264 = path.join(dir, 'h264.mp4');
    execFileSync(FFMPEG, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=10',
      '-t',
      '1',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      h264,
    ]);
  });

  const startArgs = (entries: ReturnType<typeof recordingLogger>['entries']): string[][] =>
    entries.filter((entry) => entry.msg === 'starting ffmpeg').map((entry) => entry.obj.args as string[]);

  test('a preset whose device node is missing decodes in software, warning and counting it once', async () => {
    const { logger, entries } = recordingLogger();
    const source = makeSource({ camera: 'hw-missing', input: { kind: 'file', path: h264, loop: true }, hwaccel: 'vaapi', deviceExists: () => false, logger });
    const frame = waitFor<Frame>(source, 'frame', () => true);
    source.start();
    await frame;
    expect(entries.filter((entry) => entry.level === 'warn').map((entry) => entry.msg)).toEqual([
      `hwaccel "vaapi" needs ${DRI_RENDER_NODE}, which does not exist: decoding in software`,
    ]);
    expect(startArgs(entries)[0]).not.toContain('-hwaccel');
    expect(await metricValue(metrics.captureErrorsTotal, { camera: 'hw-missing', kind: 'hwaccel_fallback' })).toBe(1);
  });

  test('a device that exists but cannot decode is tried once, then capture goes on in software', async () => {
    const { logger, entries } = recordingLogger();
    const source = makeSource({
      camera: 'hw-broken',
      input: { kind: 'file', path: h264, loop: true },
      hwaccel: 'vaapi',
      deviceExists: () => true,
      backoff: { initialMs: 50, maxMs: 100 },
      logger,
    });
    const frame = waitFor<Frame>(source, 'frame', () => true);
    source.start();
    await frame;
    // On a host with a working VA-API device the GPU decodes, and nothing falls back.
    if (existsSync(DRI_RENDER_NODE)) return;
    const runs = startArgs(entries);
    expect(runs).toHaveLength(2);
    expect(runs[0].join(' ')).toContain(`-hwaccel vaapi -hwaccel_device ${DRI_RENDER_NODE} -i`);
    expect(runs[1]).not.toContain('-hwaccel');
    const fallbacks = entries.filter((entry) => entry.level === 'warn' && /^hardware decoding failed/.test(entry.msg ?? ''));
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0].msg).toMatch(/Device setup failed.*: decoding in software$/);
    expect(source.status().restarts).toBe(1);
    expect(await metricValue(metrics.captureErrorsTotal, { camera: 'hw-broken', kind: 'hwaccel_fallback' })).toBe(1);
  });
});

describe('after every other test', () => {
  test('no ffmpeg started by these tests outlives its source', () => {
    const children = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]).toString();
    expect(children).not.toMatch(/ffmpeg/);
  });
});
