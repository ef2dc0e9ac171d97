import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Frame } from '../frames/frame';
import { assertCameraId } from '../ids';
import { silentLogger, type Logger } from '../log/logger';
import { checkWebUrlResolved } from '../net/url-policy';
import type { BrowserPool } from './browser-pool';
import { CameraStateTracker } from './camera-state';
import type { CameraStatus, FrameSource } from './source';
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
  private readonly tracker: CameraStateTracker;
  private running = false;
  private sequence = 0;
  private backoffMs = 0;
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
    // Snapshots come seconds or minutes apart, so the rate is taken from the spacing of the last two.
    this.tracker = new CameraStateTracker({ camera: this.camera, emitter: this, logger: this.log, fps: 'last-two' });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tracker.reset();
    this.sequence = 0;
    this.backoffMs = this.backoff.initialMs;
    this.tracker.setState('connecting');
    this.shoot();
  }

  /** Resolves once a capture under way has been abandoned and its browser handed back or killed. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.tracker.setState('stopped');
    const inFlight = this.inFlight;
    if (inFlight === null) return;
    inFlight.abort.abort(new Error(`camera ${this.camera} stopped`));
    await inFlight.done;
  }

  status(): CameraStatus {
    return this.tracker.status();
  }

  private shoot(): void {
    const abort = new AbortController();
    const startedAt = performance.now();
    const done = captureChecked(this.pool, this.capture, abort.signal)
      .then(
        (shot) => this.onShot(shot, startedAt),
        (err: unknown) => this.onFailure(err),
      )
      .finally(() => {
        if (this.inFlight?.abort === abort) this.inFlight = null;
      });
    this.inFlight = { abort, done };
  }

  private onShot(shot: WebsiteShot, startedAt: number): void {
    if (!this.running) return;
    const { jpeg, width, height } = shot;
    this.sequence += 1;
    this.backoffMs = this.backoff.initialMs;
    const frame: Frame = { jpeg, meta: { camera: this.camera, timestamp: this.now(), sequence: this.sequence, width, height, bytes: jpeg.length } };
    this.tracker.frameDelivered(frame);
    this.emit('frame', frame);
    this.schedule(Math.max(0, this.everyMs - (performance.now() - startedAt)));
  }

  private onFailure(err: unknown): void {
    if (!this.running) return;
    const message = err instanceof Error ? err.message : String(err);
    this.tracker.countError('browser');
    this.log.warn({ camera: this.camera, url: shortUrl(this.capture.url), error: message }, 'website capture failed');
    this.tracker.setLastError(message);
    this.tracker.setState('offline');
    this.schedule(this.nextBackoff(), true);
  }

  /**
   * An offline camera stays offline through its retries rather than passing through connecting each time, so a
   * dead site does not flap the state that MQTT and alerts watch.
   */
  private schedule(delayMs: number, retry = false): void {
    this.timer = setTimeout(() => {
      if (!this.running) return;
      if (retry) this.tracker.countRestart();
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
}

function integerAtLeast(value: number, field: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`${field} ${String(value)} is invalid: expected an integer of at least ${min}`);
  return value;
}
