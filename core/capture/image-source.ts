import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import type { Frame } from '../frames/frame';
import { isJpeg, jpegDimensions } from '../frames/jpeg';
import { assertCameraId } from '../ids';
import { silentLogger, type Logger } from '../log/logger';
import { metrics } from '../metrics';
import { checkWebUrl, type UrlPolicy } from '../net/url-policy';
import { CameraStateTracker } from './camera-state';
import { FetchError, SnapshotClient, type FetchedBody, type HttpCredentials } from './http-auth';
import { redactText, redactUrl } from './input';
import type { CameraStatus, FrameSource } from './source';

export interface ImageSourceOptions {
  camera: string;
  /** An http(s) snapshot URL; a user and password in it are used as credentials and never shown. */
  url: string;
  /** Overrides credentials in the URL (the Node-RED credentials block). */
  credentials?: HttpCredentials;
  everyMs?: number;
  /** Whole request: connect, headers and body. */
  timeoutMs?: number;
  /** Bodies longer than this are refused while they stream in, never buffered whole. */
  maxBytes?: number;
  /** No good image for this long means the camera is offline, even while requests are still pending. */
  offlineAfterMs?: number;
  /** This many failed polls in a row also mean offline; a single failure only sets lastError. */
  failuresBeforeOffline?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Quality of the JPEG that PNG and WebP snapshots are converted to, 1 to 100. */
  jpegQuality?: number;
  urlPolicy?: UrlPolicy;
  logger?: Logger;
  now?: () => number;
}

/** Why a poll gave no frame: the request failed, or what came back was not a usable image. */
class SnapshotError extends Error {
  constructor(
    readonly kind: FetchError['kind'] | 'not_image' | 'decode',
    message: string,
  ) {
    super(message);
  }
}

interface Picture {
  jpeg: Buffer;
  width: number;
  height: number;
}

/** Large enough for any real camera picture, small enough that a decompression bomb is refused before decoding. */
const MAX_INPUT_PIXELS = 64_000_000;

/** A camera whose picture is an HTTP(S) snapshot URL, fetched every `everyMs` and delivered as a JPEG frame. */
export class ImageSource extends EventEmitter implements FrameSource {
  readonly camera: string;
  /** The URL as it may appear in logs and status: user, password and secret query values masked. */
  private readonly shown: string;
  private readonly secrets: string[];
  private readonly client: SnapshotClient;
  private readonly opts: Required<
    Pick<ImageSourceOptions, 'url' | 'everyMs' | 'offlineAfterMs' | 'failuresBeforeOffline' | 'jpegQuality' | 'logger' | 'now'>
  > & { backoff: { initialMs: number; maxMs: number } };
  private readonly tracker: CameraStateTracker;
  private running = false;
  /** Bumped by stop(), so a poll that was in flight when the camera stopped delivers nothing. */
  private generation = 0;
  private lastGoodAt = 0;
  private sequence = 0;
  private failures = 0;
  private backoffMs = 0;
  private pollTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;

  constructor(options: ImageSourceOptions) {
    super();
    this.camera = assertCameraId(options.camera);
    let url: URL;
    try {
      url = checkWebUrl(options.url, options.urlPolicy, 'url');
    } catch (err) {
      throw new Error(redactText((err as Error).message, options.url));
    }
    this.shown = redactUrl(options.url);
    const fromUrl = url.username === '' ? undefined : { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    const credentials = options.credentials ?? fromUrl;
    url.username = '';
    url.password = '';
    this.secrets = [credentials?.password ?? ''].filter((s) => s.length >= 4);
    const everyMs = integerIn(options.everyMs ?? 1000, 'everyMs', 100, 86_400_000);
    this.client = new SnapshotClient({
      url,
      shown: this.shown,
      credentials,
      timeoutMs: integerIn(options.timeoutMs ?? 10000, 'timeoutMs', 100, 120_000),
      maxBytes: integerIn(options.maxBytes ?? 10 * 1024 * 1024, 'maxBytes', 1024, 100 * 1024 * 1024),
      urlPolicy: options.urlPolicy,
    });
    this.opts = {
      url: options.url,
      everyMs,
      offlineAfterMs: integerIn(options.offlineAfterMs ?? Math.max(10000, 3 * everyMs), 'offlineAfterMs', 100, 86_400_000),
      failuresBeforeOffline: integerIn(options.failuresBeforeOffline ?? 3, 'failuresBeforeOffline', 1, 1000),
      backoff: { initialMs: options.backoff?.initialMs ?? 1000, maxMs: options.backoff?.maxMs ?? 30000 },
      jpegQuality: integerIn(options.jpegQuality ?? 85, 'jpegQuality', 1, 100),
      logger: options.logger ?? silentLogger,
      now: options.now ?? Date.now,
    };
    this.tracker = new CameraStateTracker({ camera: this.camera, emitter: this, logger: this.opts.logger });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tracker.reset();
    this.sequence = 0;
    this.failures = 0;
    this.backoffMs = this.opts.backoff.initialMs;
    this.lastGoodAt = performance.now();
    this.tracker.setState('connecting');
    this.armWatchdog(this.opts.offlineAfterMs);
    void this.poll(this.generation);
  }

  stop(): Promise<void> {
    this.running = false;
    this.generation += 1;
    clearTimeout(this.pollTimer);
    clearTimeout(this.watchdog);
    this.client.close();
    this.tracker.setState('stopped');
    return Promise.resolve();
  }

  status(): CameraStatus {
    return this.tracker.status();
  }

  private async poll(generation: number): Promise<void> {
    const began = performance.now();
    let picture: Picture | null = null;
    try {
      picture = await this.toJpeg(await this.client.get());
    } catch (err) {
      if (generation !== this.generation) return;
      const known = err instanceof SnapshotError || err instanceof FetchError;
      this.onFailure(known ? err : new SnapshotError('http', `${this.shown}: ${(err as Error).message}`));
    }
    if (generation !== this.generation) return;
    let delay = this.opts.everyMs - (performance.now() - began);
    if (picture === null) {
      delay = Math.max(this.opts.everyMs, this.nextBackoff());
      this.tracker.countRestart();
    }
    this.pollTimer = setTimeout(() => void this.poll(generation), Math.max(0, delay));
    // After the next poll is scheduled, so a consumer that throws cannot stop the camera.
    if (picture !== null) this.onImage(picture);
  }

  /** JPEG as it came; PNG and WebP re-encoded; anything else is refused with what it was. */
  private async toJpeg({ contentType: type, body }: FetchedBody): Promise<Picture> {
    const size = isJpeg(body) ? jpegDimensions(body) : null;
    if (size !== null) return { jpeg: body, ...size };
    const format = isPng(body) ? 'PNG' : isWebp(body) ? 'WebP' : null;
    if (format !== null) {
      try {
        const { data, info } = await sharp(body, { limitInputPixels: MAX_INPUT_PIXELS })
          .jpeg({ quality: this.opts.jpegQuality })
          .toBuffer({ resolveWithObject: true });
        return { jpeg: data, width: info.width, height: info.height };
      } catch (err) {
        throw new SnapshotError('decode', `${this.shown} returned a ${format} image that could not be decoded: ${(err as Error).message}`);
      }
    }
    if (body.length >= 2 && body[0] === 0xff && body[1] === 0xd8) {
      throw new SnapshotError('decode', `${this.shown} returned a truncated or unreadable JPEG (${body.length} bytes)`);
    }
    const what = type === '' ? 'a body without a content type' : type;
    const hint = type.startsWith('image/') ? ` that is not a readable JPEG, PNG or WebP (${body.length} bytes)` : ', not an image';
    throw new SnapshotError('not_image', `${this.shown} returned ${what}${hint}`);
  }

  private onImage({ jpeg, width, height }: Picture): void {
    this.lastGoodAt = performance.now();
    this.failures = 0;
    this.backoffMs = this.opts.backoff.initialMs;
    this.sequence += 1;
    const frame: Frame = { jpeg, meta: { camera: this.camera, timestamp: this.opts.now(), sequence: this.sequence, width, height, bytes: jpeg.length } };
    this.tracker.frameDelivered(frame);
    this.emit('frame', frame);
  }

  private onFailure(err: SnapshotError | FetchError): void {
    this.failures += 1;
    if (err.kind === 'not_image' || err.kind === 'oversize' || err.kind === 'decode') {
      metrics.framesRejectedTotal.inc({ camera: this.camera, reason: err.kind === 'decode' ? 'corrupt' : err.kind });
    }
    this.tracker.countError(err.kind);
    const message = this.scrub(err.message);
    this.opts.logger.warn({ camera: this.camera, kind: err.kind, failures: this.failures }, message);
    this.tracker.setLastError(message);
    if (this.failures >= this.opts.failuresBeforeOffline) this.tracker.setState('offline');
  }

  private armWatchdog(delay: number): void {
    this.watchdog = setTimeout(
      () => {
        const quietMs = performance.now() - this.lastGoodAt;
        if (quietMs < this.opts.offlineAfterMs) return this.armWatchdog(this.opts.offlineAfterMs - quietMs);
        if (this.tracker.state !== 'offline') {
          this.tracker.countError('stall');
          // A failure already explains the silence better than the silence itself.
          if (this.failures === 0) this.tracker.setLastError(`${this.shown}: no image for ${(quietMs / 1000).toFixed(quietMs < 10000 ? 1 : 0)} s`);
          this.tracker.setState('offline');
        }
        this.armWatchdog(this.opts.offlineAfterMs);
      },
      Math.max(1, delay),
    );
  }

  /** Decorrelated jitter, as the ffmpeg source: never below the initial delay, spread so cameras do not retry in step. */
  private nextBackoff(): number {
    const { initialMs, maxMs } = this.opts.backoff;
    const delay = Math.min(maxMs, initialMs + Math.random() * Math.max(0, this.backoffMs * 3 - initialMs));
    this.backoffMs = Math.max(initialMs, delay);
    return delay;
  }

  /** Last guard before text leaves the source: the password may come back in a server's own error text. */
  private scrub(text: string): string {
    let out = redactText(text, this.opts.url);
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }
}

function isPng(buf: Buffer): boolean {
  return buf.length > 8 && buf.readUInt32BE(0) === 0x89504e47 && buf.readUInt32BE(4) === 0x0d0a1a0a;
}

function isWebp(buf: Buffer): boolean {
  return buf.length > 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP';
}

function integerIn(value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${field} ${value} is invalid: expected a whole number from ${min} to ${max}`);
  return value;
}
