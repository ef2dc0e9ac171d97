import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CameraStatus } from '../../core/capture/source';
import { resolveMediaUrl, YtdlpSource, type YtdlpSourceOptions } from '../../core/capture/ytdlp';
import type { Frame } from '../../core/frames/frame';
import type { GreyPlane } from '../../core/frames/grey';
import { MjpegTestServer } from '../support/mjpeg-server';
import { eventually, findTool, freePort, waitFor } from '../support/tools';

let dir: string;
let scripts = 0;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'glimpser-ytdlp-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A stand-in yt-dlp: a real executable that records each call's arguments (one line per call) and then runs
 * `body`, so the spawn, the argument array, timeouts and kills are all exercised for real.
 */
function fakeYtdlp(body: string): { path: string; calls: () => string[]; file: (name: string) => string; times: () => number[] } {
  const home = path.join(dir, `fake-${++scripts}`);
  execFileSync('mkdir', ['-p', home]);
  const script = path.join(home, 'yt-dlp');
  writeFileSync(script, `#!/bin/sh\nHOME_DIR='${home}'\nprintf '%s\\n' "$*" >> "$HOME_DIR/calls"\ndate +%s%N >> "$HOME_DIR/times"\n${body}\n`);
  chmodSync(script, 0o755);
  const calls = (): string[] => (existsSync(path.join(home, 'calls')) ? readFileSync(path.join(home, 'calls'), 'utf8').split('\n').filter(Boolean) : []);
  const times = (): number[] =>
    existsSync(path.join(home, 'times'))
      ? readFileSync(path.join(home, 'times'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((ns) => Number(BigInt(ns) / 1000000n))
      : [];
  return { path: script, calls, file: (name) => path.join(home, name), times };
}

/** A yt-dlp that starts a child and waits for it for 30 s, leaving their pids and, if it is ever let finish, `finished`. */
const HANGS = 'echo $$ > "$HOME_DIR/pid"\nsleep 30 &\necho $! > "$HOME_DIR/child"\nwait\ntouch "$HOME_DIR/finished"';

/** A zombie counts as gone: this container's init may take a while to reap the orphans a kill leaves. */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('resolveMediaUrl', () => {
  const PAGE = 'http://127.0.0.1:8080/live/cam?room=1';

  test('runs yt-dlp with an argument array ending in -- and the page, and reads the expiry from expire=', async () => {
    const fake = fakeYtdlp("echo 'https://media.example/stream.m3u8?sig=abc&expire=1900000000'");
    const media = await resolveMediaUrl(PAGE, { ytdlpPath: fake.path });
    expect(fake.calls()).toEqual([`--no-warnings --no-playlist -f best -g -- ${PAGE}`]);
    expect(media).toEqual({ url: 'https://media.example/stream.m3u8?sig=abc&expire=1900000000', expiresAt: 1900000000 * 1000 });
  });

  test('takes the expiry from an /expire/ path segment, and assumes an hour when there is none', async () => {
    const segment = fakeYtdlp("echo 'https://manifest.example/api/hls/expire/1800000000/ei/x/index.m3u8'");
    expect((await resolveMediaUrl(PAGE, { ytdlpPath: segment.path })).expiresAt).toBe(1800000000 * 1000);
    const plain = fakeYtdlp("echo 'http://127.0.0.1:9/live.m3u8'");
    expect(await resolveMediaUrl(PAGE, { ytdlpPath: plain.path, now: () => 5000 })).toEqual({ url: 'http://127.0.0.1:9/live.m3u8', expiresAt: 5000 + 3600000 });
  });

  test.each([
    ['-o/tmp/pwned', /pageUrl "-o\/tmp\/pwned" is not a valid URL/],
    ['file:///etc/passwd', /pageUrl uses file: only http:\/\/ and https:\/\/ pages/],
    ['rtsp://127.0.0.1/cam', /pageUrl uses rtsp/],
    ['http://169.254.169.254/latest/meta-data/', /cloud metadata|link-local/],
  ])('refuses the page %s before yt-dlp ever runs', async (page, message) => {
    const fake = fakeYtdlp("echo 'http://127.0.0.1/x'");
    await expect(resolveMediaUrl(page, { ytdlpPath: fake.path })).rejects.toThrow(message);
    expect(fake.calls()).toEqual([]);
  });

  test('a missing yt-dlp says which Debian package to install', async () => {
    await expect(resolveMediaUrl(PAGE, { ytdlpPath: path.join(dir, 'no-such-yt-dlp') })).rejects.toThrow(
      `${PAGE}: yt-dlp not found at ${path.join(dir, 'no-such-yt-dlp')}: install the Debian package yt-dlp`,
    );
  });

  test.each([
    ['ERROR: Unsupported URL: $7', 'yt-dlp finds no video on this page (unsupported URL): expected a page or stream URL that yt-dlp supports'],
    [
      'ERROR: [generic] cam: No video formats found!; please report this issue on  https://github.com/yt-dlp/yt-dlp/issues',
      'yt-dlp finds no video to capture ([generic] cam: No video formats found!)',
    ],
    [
      'ERROR: [generic] None: Unable to download webpage: HTTP Error 404: Not Found',
      'yt-dlp failed ([generic] None: Unable to download webpage: HTTP Error 404: Not Found)',
    ],
  ])('turns "%s" into an error that names the page and the problem', async (line, message) => {
    const fake = fakeYtdlp(`echo "${line}" >&2\nexit 1`);
    await expect(resolveMediaUrl(PAGE, { ytdlpPath: fake.path })).rejects.toThrow(`${PAGE}: ${message}`);
  });

  test('a page URL with credentials is masked in every error, including what yt-dlp says about it', async () => {
    const fake = fakeYtdlp('echo "ERROR: [generic] Unable to download webpage $7" >&2\nexit 1');
    const error = await resolveMediaUrl('http://viewer:s3cr3t@127.0.0.1/cam?token=t0k3n', { ytdlpPath: fake.path }).catch((err: Error) => err.message);
    expect(fake.calls()[0]).toContain('s3cr3t');
    expect(error).toBe('http://***:***@127.0.0.1/cam?token=***: yt-dlp failed ([generic] Unable to download webpage http://***:***@127.0.0.1/cam?token=***)');
  });

  test.each([
    ['', 'it printed no media URL'],
    ['file:///etc/passwd', 'capture will not open: input.url scheme "file:" is not allowed'],
    ['http://169.254.169.254/x.m3u8', 'capture will not open: media URL points at 169.254.169.254'],
  ])('refuses what yt-dlp printed when it is %j', async (printed, message) => {
    const fake = fakeYtdlp(`echo '${printed}'`);
    await expect(resolveMediaUrl(PAGE, { ytdlpPath: fake.path })).rejects.toThrow(message);
  });

  test('a yt-dlp that hangs is killed with everything it started once the timeout passes', async () => {
    const fake = fakeYtdlp(HANGS);
    await expect(resolveMediaUrl(PAGE, { ytdlpPath: fake.path, timeoutMs: 400 })).rejects.toThrow(`${PAGE}: yt-dlp did not answer within 400 ms`);
    // Killed, not waited for: the script never got past its 30 s wait.
    expect(existsSync(fake.file('finished'))).toBe(false);
    for (const name of ['pid', 'child']) expect(isAlive(Number(readFileSync(fake.file(name), 'utf8')))).toBe(false);
  });
});

describe('YtdlpSource', () => {
  // 25 fps: an MJPEG stream carries no timestamps, and ffmpeg assumes 25 fps for it.
  const camera = new MjpegTestServer({ width: 320, height: 240, fps: 25 });
  const sources: YtdlpSource[] = [];

  beforeAll(() => camera.start());
  afterAll(() => camera.stop());
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((source) => source.stop()));
  });

  function makeSource(options: Partial<YtdlpSourceOptions> & { camera: string; ytdlpPath: string }): YtdlpSource {
    const source = new YtdlpSource({
      pageUrl: 'http://127.0.0.1:1/watch?v=cam',
      output: { fps: 5, jpegQuality: 5 },
      ffmpegPath: findTool('ffmpeg'),
      backoff: { initialMs: 100, maxMs: 400 },
      ...options,
    });
    sources.push(source);
    return source;
  }

  test('refuses a page that is not http(s) when it is configured', () => {
    expect(() => new YtdlpSource({ camera: 'bad-page', pageUrl: 'rtsp://127.0.0.1/cam', output: { fps: 1, jpegQuality: 5 } })).toThrow(/pageUrl uses rtsp/);
  });

  test('resolves again before the URL expires and keeps the sequence counting across the switch', async () => {
    const fake = fakeYtdlp(`echo "${camera.url('/mjpeg')}?expire=$(( $(date +%s) + 4 ))"`);
    const source = makeSource({ camera: 'yt-expiring', ytdlpPath: fake.path, refreshBeforeMs: 3000, grey: { height: 60 } });
    const frames: Frame[] = [];
    const planes: GreyPlane[] = [];
    source.on('frame', (frame: Frame) => frames.push(frame));
    source.on('grey', (plane: GreyPlane) => planes.push(plane));
    source.start();
    // A restart count of 1 means the second URL is being captured; its frames must follow on.
    await waitFor<CameraStatus>(source, 'status', (status) => status.restarts === 1, 8000);
    const switchedAt = frames.length;
    await waitFor<Frame>(source, 'frame', () => frames.length >= switchedAt + 3, 8000);
    expect(fake.calls().length).toBeGreaterThanOrEqual(2);
    expect(frames.map((frame) => frame.meta.sequence)).toEqual(frames.map((_frame, i) => i + 1));
    // Grey planes number on across the switch too (the old URL's last ones may be dropped).
    expect(planes.length).toBeGreaterThanOrEqual(frames.length - 2 * source.status().restarts);
    expect(planes.map((plane) => plane.sequence)).toEqual(planes.map((_plane, i) => i + 1));
    expect(frames[0].meta).toMatchObject({ camera: 'yt-expiring', width: 320, height: 240 });
  });

  test('resolves again when ffmpeg keeps failing on the URL, then captures the new one', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/gone.m3u8`;
    // The first answer is a URL that no longer works; the second is the live camera.
    const fake = fakeYtdlp(`if [ -e "$HOME_DIR/answered" ]; then echo "${camera.url('/mjpeg')}"; else touch "$HOME_DIR/answered"; echo "${dead}"; fi`);
    const source = makeSource({ camera: 'yt-revoked', ytdlpPath: fake.path, failuresBeforeResolve: 2 });
    const errors: string[] = [];
    source.on('status', (status: CameraStatus) => status.lastError !== null && errors.push(status.lastError));
    source.start();
    await waitFor<Frame>(source, 'frame', () => true, 10000);
    expect(fake.calls()).toHaveLength(2);
    expect(errors[0]).toMatch(/Connection refused/);
    expect(source.status().state).toBe('online');
    // At least the failed run before the re-resolution and the switch to the new URL.
    expect(source.status().restarts).toBeGreaterThanOrEqual(2);
  });

  test('a page yt-dlp cannot read leaves the camera offline with the reason, retried with backoff until stopped', async () => {
    const fake = fakeYtdlp('echo "ERROR: Unsupported URL: $7" >&2\nexit 1');
    const source = makeSource({ camera: 'yt-unsupported', ytdlpPath: fake.path });
    const offline = await new Promise<CameraStatus>((resolve) => {
      source.on('status', (status: CameraStatus) => status.state === 'offline' && resolve(status));
      source.start();
    });
    expect(offline.lastError).toBe(
      'http://127.0.0.1:1/watch?v=cam: yt-dlp finds no video on this page (unsupported URL): expected a page or stream URL that yt-dlp supports',
    );
    await eventually(async () => (fake.times().length >= 3 ? true : undefined), 10000, 'three runs of yt-dlp');
    // Each retry waits at least the initial backoff (100 ms) after the failure before it.
    const [first, second, third] = fake.times();
    expect(second - first).toBeGreaterThanOrEqual(95);
    expect(third - second).toBeGreaterThanOrEqual(95);
    expect(source.status()).toMatchObject({ state: 'offline', restarts: 0 });
    await source.stop();
    const calls = fake.calls().length;
    // A second source started now retries only after a full maxMs backoff: by then any retry the stopped one had
    // pending (at most maxMs after a failure before stop()) would have run.
    const clock = fakeYtdlp('exit 1');
    makeSource({ camera: 'yt-clock', ytdlpPath: clock.path, backoff: { initialMs: 400, maxMs: 400 } }).start();
    await eventually(async () => (clock.calls().length >= 2 ? true : undefined), 10000, 'a retry after a full backoff');
    expect(fake.calls()).toHaveLength(calls);
  });

  test('stop() during a resolution kills yt-dlp and what it started instead of waiting for it', async () => {
    const fake = fakeYtdlp(HANGS);
    const source = makeSource({ camera: 'yt-stopped', ytdlpPath: fake.path });
    source.start();
    await eventually(async () => (existsSync(fake.file('child')) ? true : undefined), 10000, 'yt-dlp to start its child');
    await source.stop();
    // stop() killed yt-dlp rather than waiting for it: the script never got past its 30 s wait.
    expect(existsSync(fake.file('finished'))).toBe(false);
    for (const name of ['pid', 'child']) expect(isAlive(Number(readFileSync(fake.file(name), 'utf8')))).toBe(false);
    expect(source.status().state).toBe('stopped');
  });

  test('no yt-dlp or ffmpeg started by these tests outlives its source', () => {
    const children = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]).toString();
    expect(children).not.toMatch(/ffmpeg|yt-dlp|sleep/);
  });
});
