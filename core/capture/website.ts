import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { assertCameraId, type Frame } from '../frames/frame';
import { silentLogger, type Logger } from '../log/logger';
import { metrics } from '../metrics';
import { checkWebUrlResolved } from '../net/url-policy';
import type { BrowserPool } from './browser-pool';
import type { CameraState, CameraStatus, FrameSource } from './source';
import { checkWebsiteOptions, pickWebsiteOptions, shortUrl, type CheckedWebsiteOptions, type WebsiteCaptureOptions } from './website/options';
import { PageError, shootPage, type WebsiteShot } from './website/page';

export { checkWebsiteOptions, type WebsiteCaptureOptions } from './website/options';
export { PageError, type WebsiteShot } from './website/page';

/** Time for tab handling, the screenshot and the JPEG on top of the page's own limits. */
const DEADLINE_MARGIN_MS = 15000;

/**
 * One screenshot of a web page with a browser from the pool. The URL is checked against the URL policy, DNS
 * included, on every capture, since what a name resolves to can change between captures.
 */
export async function captureWebsite(pool: BrowserPool, options: WebsiteCaptureOptions, signal?: AbortSignal): Promise<WebsiteShot> {
  return captureChecked(pool, checkWebsiteOptions(options), signal);
}

async function captureChecked(pool: BrowserPool, opts: CheckedWebsiteOptions, signal?: AbortSignal): Promise<WebsiteShot> {
  const url = await checkWebUrlResolved(opts.url, { allowHosts: opts.allowHosts });
  return pool.use((session) => shootPage(session, url, opts), {
    signal,
    deadlineMs: opts.pageTimeoutMs + 2 * opts.waitTimeoutMs + DEADLINE_MARGIN_MS,
    isBrowserFault: (err) => !(err instanceof PageError),
  });
}

export interface WebsiteSourceOptions extends WebsiteCaptureOptions {
  camera: string;
  pool: BrowserPool;
  /** A snapshot this often, counted from the start of the previous one; default 60000. */
  everyMs?: number;
  /** Delay before retrying after a failed capture, growing from initialMs to maxMs. */
  backoff?: { initialMs?: number; maxMs?: number };
  logger?: Logger;
  /** Clock for frame timestamps. */
  now?: () => number;
}

/** A web page or dashboard as a camera: a screenshot on start and every `everyMs`, retried with backoff on failure. */
export class WebsiteSource extends EventEmitter implements FrameSource {
  readonly camera: string;
  private readonly pool: BrowserPool;
  private readonly capture: CheckedWebsiteOptions;
  private readonly everyMs: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly log: Logger;
  private readonly now: () => number;
  private running = false;
  private state: CameraState = 'stopped';
  private lastError: string | null = null;
  private lastFrameAt: number | null = null;
  private restarts = 0;
  private sequence = 0;
  private backoffMs = 0;
  /** Monotonic times of the last two frames, for the frame rate. */
  private frameTimes: number[] = [];
  private timer?: NodeJS.Timeout;
  private inFlight: { abort: AbortController; done: Promise<void> } | null = null;

  constructor(options: WebsiteSourceOptions) {
    super();
    this.camera = assertCameraId(options.camera);
    // Callers build sources of every kind from shared settings (e.g. offlineAfterMs), so foreign keys are left alone.
    this.capture = checkWebsiteOptions(pickWebsiteOptions(options));
    this.pool = options.pool;
    this.everyMs = integerAtLeast(options.everyMs ?? 60000, 'everyMs', 1000);
    const initialMs = integerAtLeast(options.backoff?.initialMs ?? 1000, 'backoff.initialMs', 100);
    this.backoff = { initialMs, maxMs: integerAtLeast(options.backoff?.maxMs ?? 60000, 'backoff.maxMs', initialMs) };
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.restarts = 0;
    this.sequence = 0;
    this.backoffMs = this.backoff.initialMs;
    this.lastError = null;
    this.lastFrameAt = null;
    this.setState('connecting');
    this.shoot();
  }

  /** Resolves once a capture under way has been abandoned and its browser handed back or killed. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.setState('stopped');
    const inFlight = this.inFlight;
    if (inFlight === null) return;
    inFlight.abort.abort(new Error(`camera ${this.camera} stopped`));
    await inFlight.done;
  }

  status(): CameraStatus {
    const { camera, state, lastFrameAt, lastError, restarts } = this;
    return { camera, state, fps: this.fps(), lastFrameAt, lastError, restarts };
  }

  private shoot(): void {
    const abort = new AbortController();
    const startedAt = performance.now();
    const done = captureChecked(this.pool, this.capture, abort.signal).then(
      (shot) => this.onShot(shot, startedAt),
      (err: unknown) => this.onFailure(err),
    ).finally(() => {
      if (this.inFlight?.abort === abort) this.inFlight = null;
    });
    this.inFlight = { abort, done };
  }

  private onShot(shot: WebsiteShot, startedAt: number): void {
    if (!this.running) return;
    const { jpeg, width, height } = shot;
    this.lastFrameAt = this.now();
    this.sequence += 1;
    this.frameTimes = [...this.frameTimes.slice(-1), performance.now()];
    this.backoffMs = this.backoff.initialMs;
    const frame: Frame = { jpeg, meta: { camera: this.camera, timestamp: this.lastFrameAt, sequence: this.sequence, width, height, bytes: jpeg.length } };
    metrics.framesTotal.inc({ camera: this.camera });
    metrics.frameBytesTotal.inc({ camera: this.camera }, jpeg.length);
    this.setState('online');
    metrics.cameraFps.set({ camera: this.camera }, this.fps());
    this.emit('frame', frame);
    this.schedule(Math.max(0, this.everyMs - (performance.now() - startedAt)));
  }

  private onFailure(err: unknown): void {
    if (!this.running) return;
    const message = err instanceof Error ? err.message : String(err);
    metrics.captureErrorsTotal.inc({ camera: this.camera, kind: 'browser' });
    this.log.warn({ camera: this.camera, url: shortUrl(this.capture.url), error: message }, 'website capture failed');
    this.setLastError(message);
    this.setState('offline');
    this.schedule(this.nextBackoff(), true);
  }

  /**
   * An offline camera stays offline through its retries rather than passing through connecting each time, so a
   * dead site does not flap the state that MQTT and alerts watch.
   */
  private schedule(delayMs: number, retry = false): void {
    this.timer = setTimeout(() => {
      if (!this.running) return;
      if (retry) {
        this.restarts += 1;
        metrics.captureRestartsTotal.inc({ camera: this.camera });
      }
      this.shoot();
    }, delayMs);
  }

  /** Decorrelated jitter, as in the ffmpeg source: never below the initial delay, spread so cameras do not retry in step. */
  private nextBackoff(): number {
    const { initialMs, maxMs } = this.backoff;
    const delay = Math.min(maxMs, initialMs + Math.random() * (this.backoffMs * 3 - initialMs));
    this.backoffMs = Math.max(initialMs, delay);
    return delay;
  }

  private setState(state: CameraState): void {
    if (state === this.state) return;
    this.state = state;
    if (state !== 'online') this.frameTimes = [];
    metrics.cameraOnline.set({ camera: this.camera }, state === 'online' ? 1 : 0);
    if (state !== 'online') metrics.cameraFps.set({ camera: this.camera }, 0);
    this.log.info({ camera: this.camera, state, lastError: this.lastError }, `camera ${state}`);
    this.emit('status', this.status());
  }

  private setLastError(error: string): void {
    if (error === this.lastError) return;
    this.lastError = error;
    this.emit('status', this.status());
  }

  /** Snapshots come seconds or minutes apart, so the rate is taken from the spacing of the last two. */
  private fps(): number {
    if (this.state !== 'online' || this.frameTimes.length < 2) return 0;
    const [previous, latest] = this.frameTimes;
    return Math.round((1000 / (latest - previous)) * 1000) / 1000;
  }
}

function integerAtLeast(value: number, field: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`${field} ${String(value)} is invalid: expected an integer of at least ${min}`);
  return value;
}
