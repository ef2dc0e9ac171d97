import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Frame } from '../frames/frame';
import type { GreyPlane } from '../frames/grey';
import { assertCameraId } from '../ids';
import { silentLogger, type Logger } from '../log/logger';
import { metrics } from '../metrics';
import { checkWebUrl, type UrlPolicy } from '../net/url-policy';
import { buildFfmpegArgs } from './ffmpeg-args';
import { killWithNode, nextBackoffMs, signalGroup } from './child-process';
import { FfmpegSource, type FfmpegSourceOptions } from './ffmpeg-source';
import { redactText, redactUrl, validateInput } from './input';
import type { CameraState, CameraStatus, FrameSource } from './source';

export interface ResolvedMedia {
  /** The stream ffmpeg reads: an HLS playlist, a progressive file or an RTSP URL. */
  url: string;
  /** Milliseconds since the epoch after which the URL may stop working. */
  expiresAt: number;
}

export interface ResolveMediaOptions {
  ytdlpPath?: string;
  timeoutMs?: number;
  /** Aborting kills yt-dlp. */
  signal?: AbortSignal;
  urlPolicy?: UrlPolicy;
  now?: () => number;
}

/** Signed media URLs without a stated expiry are resolved again after this long. */
const DEFAULT_LIFETIME_MS = 60 * 60 * 1000;
const OUTPUT_LIMIT = 64 * 1024;

/**
 * The media URL behind a web page (a live stream, a webcam page) as yt-dlp finds it. Only http(s) pages are
 * accepted (url-policy), the URL goes after `--` so it can never be read as an option, and the media URL
 * yt-dlp returns must itself be one capture may open. Errors name the page (secrets masked) and the problem.
 */
export async function resolveMediaUrl(pageUrl: string, options: ResolveMediaOptions = {}): Promise<ResolvedMedia> {
  const { ytdlpPath = 'yt-dlp', timeoutMs = 30000, signal, urlPolicy, now = Date.now } = options;
  const page = checkWebUrl(pageUrl, urlPolicy, 'pageUrl').href;
  const shown = redactUrl(page);
  const result = await runYtdlp(ytdlpPath, ['--no-warnings', '--no-playlist', '-f', 'best', '-g', '--', page], timeoutMs, signal);
  const error = redactText(lastErrorLine(result.stderr), page);
  if (result.failure !== null) throw new Error(`${shown}: ${result.failure}`);
  if (/Unsupported URL/i.test(error))
    throw new Error(`${shown}: yt-dlp finds no video on this page (unsupported URL): expected a page or stream URL that yt-dlp supports`);
  if (/no video formats|requested format is not available|video unavailable|no video/i.test(error)) {
    throw new Error(`${shown}: yt-dlp finds no video to capture (${error})`);
  }
  if (result.code !== 0) throw new Error(`${shown}: yt-dlp failed (${error || `exit code ${String(result.code)}`})`);
  const url = result.stdout
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line !== '');
  if (url === undefined) throw new Error(`${shown}: yt-dlp finds no video to capture (it printed no media URL)`);
  try {
    validateInput({ kind: 'url', url });
    if (/^https?:/i.test(url)) checkWebUrl(url, urlPolicy, 'media URL');
  } catch (err) {
    throw new Error(`${shown}: yt-dlp returned a stream capture will not open: ${(err as Error).message}`);
  }
  return { url, expiresAt: expiryOf(url) ?? now() + DEFAULT_LIFETIME_MS };
}

/** Signed stream URLs (YouTube and others) carry their expiry in seconds as `expire=` or a `/expire/` path segment. */
function expiryOf(url: string): number | null {
  const raw = /[?&]expire=(\d+)/.exec(url)?.[1] ?? /\/expire\/(\d+)/.exec(url)?.[1];
  const seconds = Number(raw);
  return raw !== undefined && Number.isSafeInteger(seconds) && seconds > 0 ? seconds * 1000 : null;
}

function lastErrorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.startsWith('ERROR:'));
  return (lines[lines.length - 1] ?? '')
    .replace(/^ERROR:\s*/, '')
    .replace(/;\s*please report this issue.*$/i, '')
    .trim();
}

interface YtdlpResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why no answer came: not installed, timed out or cancelled; null when yt-dlp ran to its end. */
  failure: string | null;
}

function runYtdlp(path: string, args: string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<YtdlpResult> {
  return new Promise((resolve) => {
    let failure: string | null = null;
    let stdout = '';
    let stderr = '';
    // Its own process group, so a timeout or stop also ends anything yt-dlp started.
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    killWithNode(child);
    const kill = (why: string): void => {
      failure ??= why;
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    };
    const timer = setTimeout(() => kill(`yt-dlp did not answer within ${timeoutMs} ms`), timeoutMs);
    const onAbort = (): void => kill('resolving was cancelled');
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout = (stdout + text).slice(0, OUTPUT_LIMIT)));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-OUTPUT_LIMIT)));
    child.on('error', (err: NodeJS.ErrnoException) => {
      failure ??=
        err.code === 'ENOENT' ? `yt-dlp not found at ${path}: install the Debian package yt-dlp` : `yt-dlp could not be started (${path}): ${err.message}`;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ code, stdout, stderr, failure });
    });
  });
}

export interface YtdlpSourceOptions extends Omit<FfmpegSourceOptions, 'input'> {
  /** The web page or stream URL to resolve, http(s) only. */
  pageUrl: string;
  ytdlpPath?: string;
  resolveTimeoutMs?: number;
  /** Resolve again this long before the media URL expires. */
  refreshBeforeMs?: number;
  /** ffmpeg failures in a row, without a frame between, after which the page is resolved again. */
  failuresBeforeResolve?: number;
  urlPolicy?: UrlPolicy;
}

/** setTimeout's limit; a URL valid for longer is simply refreshed sooner. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A camera behind a web page: yt-dlp turns the page into a media URL, an FfmpegSource captures it, and the
 * page is resolved again shortly before the URL expires, or when ffmpeg keeps failing on it (a signed URL
 * revoked early), with backoff between resolutions. Sequence numbers keep counting across URLs.
 */
export class YtdlpSource extends EventEmitter implements FrameSource {
  readonly camera: string;
  private readonly pageUrl: string;
  private readonly ffmpegOptions: Omit<FfmpegSourceOptions, 'input'>;
  private readonly settings: { ytdlpPath: string; resolveTimeoutMs: number; refreshBeforeMs: number; failuresBeforeResolve: number; urlPolicy?: UrlPolicy };
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly log: Logger;
  private readonly now: () => number;
  private running = false;
  private active: FfmpegSource | null = null;
  private resolving: { abort: AbortController; done: Promise<void> } | null = null;
  private readonly stopping = new Set<Promise<void>>();
  private expiryTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private state: CameraState = 'stopped';
  private lastError: string | null = null;
  private lastFrameAt: number | null = null;
  /** ffmpeg runs after the first: restarts of replaced sources, plus one per replacement. */
  private restarts = 0;
  /** The last sequence before the active source's first frame. */
  private base = 0;
  private sequence = 0;
  private planeSequence = 0;
  private jpegWanted = true;
  private failures = 0;
  private backoffMs = 0;

  constructor(options: YtdlpSourceOptions) {
    super();
    const {
      pageUrl,
      ytdlpPath = 'yt-dlp',
      resolveTimeoutMs = 30000,
      refreshBeforeMs = 5 * 60 * 1000,
      failuresBeforeResolve = 3,
      urlPolicy,
      ...ffmpegOptions
    } = options;
    this.camera = assertCameraId(options.camera);
    this.pageUrl = checkWebUrl(pageUrl, urlPolicy, 'pageUrl').href;
    // Checked now so a bad output setting fails at configuration time, not when the first URL arrives.
    buildFfmpegArgs({ kind: 'url', url: this.pageUrl }, options.output, { grey: options.grey });
    this.ffmpegOptions = ffmpegOptions;
    this.settings = { ytdlpPath, resolveTimeoutMs, refreshBeforeMs, failuresBeforeResolve, urlPolicy };
    this.backoff = { initialMs: options.backoff?.initialMs ?? 1000, maxMs: options.backoff?.maxMs ?? 30000 };
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.restarts = this.base = this.sequence = this.planeSequence = this.failures = 0;
    this.backoffMs = this.backoff.initialMs;
    this.lastError = null;
    this.lastFrameAt = null;
    this.setState('connecting');
    this.resolve();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.expiryTimer);
    clearTimeout(this.retryTimer);
    const resolving = this.resolving;
    this.resolving = null;
    resolving?.abort.abort();
    const active = this.active;
    this.active = null;
    this.retire(active);
    this.setState('stopped');
    await Promise.all([resolving?.done, ...this.stopping]);
  }

  status(): CameraStatus {
    const { camera, state, lastFrameAt, lastError } = this;
    const active = this.active?.status();
    return { camera, state, fps: active?.fps ?? 0, lastFrameAt, lastError, restarts: this.restarts + (active?.restarts ?? 0) };
  }

  private resolve(): void {
    if (!this.running || this.resolving !== null) return;
    clearTimeout(this.expiryTimer);
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const abort = new AbortController();
    const { ytdlpPath, resolveTimeoutMs: timeoutMs, urlPolicy } = this.settings;
    const done = resolveMediaUrl(this.pageUrl, { ytdlpPath, timeoutMs, urlPolicy, now: this.now, signal: abort.signal }).then(
      (media) => {
        if (this.resolving?.abort !== abort) return;
        this.resolving = null;
        this.capture(media);
      },
      (err: Error) => {
        if (this.resolving?.abort !== abort) return;
        this.resolving = null;
        this.log.warn({ camera: this.camera, err: err.message }, 'could not resolve the page to a stream');
        this.setLastError(err.message);
        if (this.active?.status().state !== 'online') this.setState('offline');
        this.scheduleRetry();
      },
    );
    this.resolving = { abort, done };
  }

  private capture(media: ResolvedMedia): void {
    const previous = this.active;
    this.active = null;
    if (previous !== null) this.restarts += previous.status().restarts + 1;
    this.retire(previous);
    const source = new FfmpegSource({ ...this.ffmpegOptions, input: { kind: 'url', url: media.url } });
    this.active = source;
    this.base = this.sequence;
    source.on('frame', (frame: Frame) => this.onFrame(source, frame));
    source.on('grey', (plane: GreyPlane) => this.onGrey(source, plane));
    source.setJpegDemand(this.jpegWanted);
    source.on('status', (status: CameraStatus) => this.onSourceStatus(source, status));
    const lifetime = media.expiresAt - this.now();
    this.log.info({ camera: this.camera, page: redactUrl(this.pageUrl), expiresInS: Math.round(lifetime / 1000) }, 'resolved the page to a stream');
    source.start();
    // Never sooner than half the lifetime, so a URL shorter-lived than refreshBeforeMs cannot cause a resolve loop.
    const delay = Math.max(this.backoff.initialMs, lifetime / 2, lifetime - this.settings.refreshBeforeMs);
    this.expiryTimer = setTimeout(() => this.resolve(), Math.min(delay, MAX_TIMER_MS));
  }

  private onFrame(source: FfmpegSource, frame: Frame): void {
    if (source !== this.active) return;
    this.alive(frame.meta.timestamp);
    this.sequence = this.base + frame.meta.sequence;
    this.emit('frame', { jpeg: frame.jpeg, meta: { ...frame.meta, sequence: this.sequence } });
  }

  /** Planes number on across URL refreshes, like frames; the old URL's last ones are dropped. */
  private onGrey(source: FfmpegSource, plane: GreyPlane): void {
    if (source !== this.active) return;
    this.alive(plane.timestamp);
    this.planeSequence += 1;
    this.emit('grey', { ...plane, sequence: this.planeSequence });
  }

  private alive(timestamp: number): void {
    this.failures = 0;
    this.backoffMs = this.backoff.initialMs;
    this.lastFrameAt = Math.max(this.lastFrameAt ?? 0, timestamp);
    this.setState('online');
  }

  /** Passed on to the capture of the current media URL, and to the next one after a refresh. */
  setJpegDemand(wanted: boolean): void {
    this.jpegWanted = wanted;
    this.active?.setJpegDemand(wanted);
  }

  private onSourceStatus(source: FfmpegSource, status: CameraStatus): void {
    if (source !== this.active) return;
    if (status.lastError !== null) this.setLastError(status.lastError);
    if (status.state === 'offline' && this.state !== 'offline' && ++this.failures >= this.settings.failuresBeforeResolve) {
      this.failures = 0;
      this.scheduleRetry();
    }
    this.setState(status.state);
  }

  /** The next resolution after a failure, spaced by the backoff; one at a time. */
  private scheduleRetry(): void {
    if (!this.running || this.retryTimer !== undefined) return;
    this.backoffMs = nextBackoffMs(this.backoffMs, this.backoff);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.resolve();
    }, this.backoffMs);
  }

  private retire(source: FfmpegSource | null): void {
    if (source === null) return;
    const stopped = source.stop();
    this.stopping.add(stopped);
    void stopped.finally(() => this.stopping.delete(stopped));
  }

  private setState(state: CameraState): void {
    if (state === this.state) return;
    this.state = state;
    metrics.cameraOnline.set({ camera: this.camera }, state === 'online' ? 1 : 0);
    this.emit('status', this.status());
  }

  private setLastError(error: string): void {
    if (error === this.lastError) return;
    this.lastError = error;
    this.emit('status', this.status());
  }
}
