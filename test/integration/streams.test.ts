import { execFileSync } from 'node:child_process';
import { register } from 'prom-client';
import { FfmpegSource, type FfmpegSourceOptions } from '../../core/capture/ffmpeg-source';
import type { CameraStatus, FrameSource } from '../../core/capture/source';
import { YtdlpSource } from '../../core/capture/ytdlp';
import type { Frame } from '../../core/frames/frame';
import type { GreyPlane } from '../../core/frames/grey';
import { HlsTestServer } from '../support/hls-server';
import { MjpegTestServer } from '../support/mjpeg-server';
import { RtspTestServer } from '../support/rtsp-server';
import { metrics } from '../../core/metrics';
import { ffprobeImage, findTool, freePort, metricValue, recordEvents, waitFor } from '../support/tools';

/**
 * Capture against real servers on loopback: GStreamer's RTSP server, an HTTP MJPEG camera, a live HLS stream
 * found through yt-dlp, and the broken inputs users really paste in.
 */

const FFMPEG = findTool('ffmpeg');
const sources: FrameSource[] = [];

afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.stop()));
});

function capture(options: Partial<FfmpegSourceOptions> & Pick<FfmpegSourceOptions, 'camera' | 'input'>): FfmpegSource {
  const source = new FfmpegSource({ output: { fps: 5, jpegQuality: 5 }, ffmpegPath: FFMPEG, backoff: { initialMs: 200, maxMs: 800 }, ...options });
  sources.push(source);
  return source;
}

async function onlineGauge(camera: string): Promise<number | undefined> {
  const gauge = register.getSingleMetric('glimpser_camera_online');
  const values = (await gauge?.get())?.values ?? [];
  return values.find((value) => value.labels.camera === camera)?.value;
}

describe('an RTSP camera', () => {
  const camera = new RtspTestServer();

  beforeAll(() => camera.start(), 20000);
  afterAll(() => camera.stop());

  test('delivers 1280x720 JPEGs that ffprobe decodes, and grey planes from the same decode', async () => {
    const source = capture({ camera: 'rtsp-frames', input: { kind: 'url', url: camera.url }, grey: { height: 120 } });
    const frames: Frame[] = [];
    const planes: GreyPlane[] = [];
    source.on('frame', (frame: Frame) => frames.push(frame));
    source.on('grey', (plane: GreyPlane) => planes.push(plane));
    source.start();
    await Promise.all([
      waitFor<GreyPlane>(source, 'grey', (plane) => plane.sequence === 5),
      waitFor<Frame>(source, 'frame', (frame) => frame.meta.sequence === 5),
    ]);

    expect(ffprobeImage(frames[4].jpeg)).toEqual({ codec: 'mjpeg', width: 1280, height: 720 });
    expect(frames.slice(0, 5).map((frame) => frame.meta.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(planes.slice(0, 5).map((plane) => [plane.sequence, plane.width, plane.height, plane.data.length])).toEqual(
      [1, 2, 3, 4, 5].map((sequence) => [sequence, 214, 120, 214 * 120]),
    );
  });

  test('a camera that loses power goes offline as the connection closes, not by the stall timer, retries without a storm, and is back at the first retry after it returns', async () => {
    // Above the 2-3 s an RTSP connection takes to its first frame (probe, then up to a 2 s keyframe interval).
    const offlineAfterMs = 5000;
    const backoff = { initialMs: 250, maxMs: 1000 };
    const source = capture({ camera: 'rtsp-outage', input: { kind: 'url', url: camera.url }, offlineAfterMs, backoff });
    const statuses = recordEvents<CameraStatus>(source, 'status');
    source.start();
    await waitFor<Frame>(source, 'frame', (frame) => frame.meta.sequence === 3);
    expect(await onlineGauge('rtsp-outage')).toBe(1);

    await camera.stop();
    const offline = await waitFor<CameraStatus>(source, 'status', (status) => status.state === 'offline', offlineAfterMs + 1000);
    // The closed connection, not the stall timer (which runs out only after offlineAfterMs), took the camera offline.
    expect(offline.lastError).toBe('the stream ended: the camera closed the connection');
    expect(await metricValue(metrics.captureErrorsTotal, { camera: 'rtsp-outage', kind: 'stall' })).toBe(0);
    expect(await onlineGauge('rtsp-outage')).toBe(0);

    // The outage lasts until two retries have been refused; every retry in it must wait out the backoff.
    const refused = await waitFor<CameraStatus>(source, 'status', (status) => status.state === 'offline' && status.restarts === 2, 10000);
    const { restarts: restartsInOutage, lastError } = refused;
    expect(lastError).toBe(`${camera.url}: Connection refused`);
    await camera.start();
    const restartsAtReturn = source.status().restarts;
    const back = await waitFor<Frame>(source, 'frame', () => true, 8000);
    // A retry was either under way when the camera came back (refused at most once more) or due within maxMs.
    expect(source.status().restarts - restartsAtReturn).toBeLessThanOrEqual(1);
    expect(back.meta).toMatchObject({ width: 1280, height: 720 });
    expect(await onlineGauge('rtsp-outage')).toBe(1);

    expect(restartsInOutage).toBeGreaterThanOrEqual(1);
    const waits = statuses
      .map((entry, i) => ({ entry, prev: statuses[i - 1] }))
      .filter(({ entry, prev }) => entry.value.state === 'connecting' && prev?.value.state === 'offline')
      .map(({ entry, prev }) => entry.at - prev.at);
    for (const wait of waits) expect(wait).toBeGreaterThanOrEqual(backoff.initialMs - 2);
  });
});

describe('an HTTP MJPEG camera', () => {
  const camera = new MjpegTestServer({ width: 640, height: 360, fps: 10 });

  beforeAll(() => camera.start());
  afterAll(() => camera.stop());

  test('its multipart stream delivers frames ffprobe decodes', async () => {
    const source = capture({ camera: 'mjpeg-stream', input: { kind: 'url', url: camera.url('/mjpeg') } });
    source.start();
    const third = await waitFor<Frame>(source, 'frame', (frame) => frame.meta.sequence === 3);
    expect(ffprobeImage(third.jpeg)).toEqual({ codec: 'mjpeg', width: 640, height: 360 });
    expect(camera.requests('/mjpeg')).toBe(1);
  });

  test('its snapshot route serves one decodable JPEG', async () => {
    const response = await fetch(camera.url('/snapshot.jpg'));
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(ffprobeImage(Buffer.from(await response.arrayBuffer()))).toEqual({ codec: 'mjpeg', width: 640, height: 360 });
  });

  test.each([
    ['a closed port', async () => `rtsp://127.0.0.1:${await freePort()}/test`, /Connection refused$/],
    ['an HTML page', async () => camera.url('/page.html'), /: Invalid data found when processing input$/],
    ['random bytes served as video/mp4', async () => camera.url('/random.mp4'), /: Invalid data found when processing input$/],
  ])('%s gives a clear lastError, no frames and no crash', async (_what, url, reason) => {
    const input = { kind: 'url', url: await url() } as const;
    const source = capture({ camera: 'bad-input', input });
    let frames = 0;
    source.on('frame', () => (frames += 1));
    source.start();
    const failed = await waitFor<CameraStatus>(source, 'status', (status) => status.state === 'offline' && status.restarts === 1);
    expect(failed.lastError).toMatch(reason);
    expect(failed.lastError?.startsWith(input.url.split('://')[0])).toBe(true);
    expect(frames).toBe(0);
  });
});

describe('a live HLS stream found through yt-dlp', () => {
  const stream = new HlsTestServer();
  const site = new MjpegTestServer();
  const YTDLP = findTool('yt-dlp');

  beforeAll(() => Promise.all([stream.start(), site.start()]), 20000);
  afterAll(() => Promise.all([stream.stop(), site.stop()]));

  test("yt-dlp's generic extractor resolves the playlist URL and capture delivers its frames", async () => {
    const source = new YtdlpSource({
      camera: 'hls-live',
      pageUrl: stream.playlistUrl,
      ytdlpPath: YTDLP,
      output: { fps: 2, jpegQuality: 5 },
      ffmpegPath: FFMPEG,
    });
    sources.push(source);
    source.start();
    const frame = await waitFor<Frame>(source, 'frame', (f) => f.meta.sequence === 3, 20000);
    expect(ffprobeImage(frame.jpeg)).toEqual({ codec: 'mjpeg', width: 640, height: 360 });
    expect(source.status()).toMatchObject({ state: 'online', lastError: null });
  });

  test('a web page with no video on it is named as such, and capture waits offline', async () => {
    const source = new YtdlpSource({
      camera: 'hls-no-video',
      pageUrl: site.url('/page.html'),
      ytdlpPath: YTDLP,
      output: { fps: 2, jpegQuality: 5 },
      ffmpegPath: FFMPEG,
    });
    sources.push(source);
    source.start();
    const offline = await waitFor<CameraStatus>(source, 'status', (status) => status.state === 'offline', 20000);
    expect(offline.lastError).toBe(
      `${site.url('/page.html')}: yt-dlp finds no video on this page (unsupported URL): expected a page or stream URL that yt-dlp supports`,
    );
  });
});

describe('after every other test', () => {
  test('no capture process outlives its source', () => {
    const children = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]).toString();
    expect(children).not.toMatch(/ffmpeg|yt-dlp/);
  });
});
