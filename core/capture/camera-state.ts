import type { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Frame } from '../frames/frame';
import type { Logger } from '../log/logger';
import { metrics } from '../metrics';
import type { CameraState, CameraStatus } from './source';

/**
 * How a camera's frame rate is measured: `recent` over the frames of the last few seconds (a stream), `last-two`
 * from the spacing of the last two frames (snapshots seconds or minutes apart, which a short window would miss).
 */
export type FpsMeasure = 'recent' | 'last-two';

export interface CameraStateTrackerOptions {
  camera: string;
  /** The source the `status` events are emitted on. */
  emitter: EventEmitter;
  logger: Logger;
  fps?: FpsMeasure;
  /** Monotonic clock for the frame rate, so wall-clock jumps cannot distort it. */
  clock?: () => number;
}

const FPS_WINDOW_MS = 5000;
const FPS_RULES: Record<FpsMeasure, { windowMs: number; maxFrames: number; decimals: number }> = {
  recent: { windowMs: FPS_WINDOW_MS, maxFrames: Infinity, decimals: 2 },
  // A snapshot a minute is 0.017 fps: two decimals would round it to a misleading 0.02.
  'last-two': { windowMs: Infinity, maxFrames: 2, decimals: 3 },
};

/**
 * A camera's state as every frame source reports it: state, last error, frame rate, newest frame and restarts.
 * It also keeps the per-camera gauges, logs state changes and emits `status` on the source for every change, so
 * the sources only decide when a camera goes online, offline or stopped.
 */
export class CameraStateTracker {
  private readonly camera: string;
  private readonly emitter: EventEmitter;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly fpsRule: { windowMs: number; maxFrames: number; decimals: number };
  private current: CameraState = 'stopped';
  private lastError: string | null = null;
  private lastFrameAt: number | null = null;
  private restarts = 0;
  /** Whether the source reports decoded pictures apart from its JPEGs. */
  private picturesSeen = false;
  /** Monotonic times of the frames the frame rate is taken from; empty unless the camera is online. */
  private frameTimes: number[] = [];

  constructor(options: CameraStateTrackerOptions) {
    this.camera = options.camera;
    this.emitter = options.emitter;
    this.log = options.logger;
    this.clock = options.clock ?? (() => performance.now());
    this.fpsRule = FPS_RULES[options.fps ?? 'recent'];
  }

  get state(): CameraState {
    return this.current;
  }

  /**
   * A fresh start: no error, no frame yet and no restarts. An edge device counts its own restarts, so it keeps
   * the count it reported.
   */
  reset({ keepRestarts = false }: { keepRestarts?: boolean } = {}): void {
    this.lastError = null;
    this.lastFrameAt = null;
    if (!keepRestarts) this.restarts = 0;
  }

  setState(state: CameraState): void {
    if (state === this.current) return;
    this.current = state;
    if (state !== 'online') this.frameTimes = [];
    metrics.cameraOnline.set({ camera: this.camera }, state === 'online' ? 1 : 0);
    if (state !== 'online') metrics.cameraFps.set({ camera: this.camera }, 0);
    this.log.info({ camera: this.camera, state, lastError: this.lastError }, `camera ${state}`);
    this.emitStatus();
  }

  setLastError(error: string): void {
    if (error === this.lastError) return;
    this.lastError = error;
    this.emitStatus();
  }

  /**
   * Counts a frame the source is about to emit and puts the camera online. Its frame rate is measured from the
   * frames, unless the source also reports the pictures it decodes (pictureSeen): JPEGs then come only when
   * wanted, and the decode rate is the camera's.
   */
  frameDelivered({ meta }: Frame): void {
    metrics.framesTotal.inc({ camera: this.camera });
    metrics.frameBytesTotal.inc({ camera: this.camera }, meta.bytes);
    if (this.picturesSeen) {
      this.lastFrameAt = Math.max(this.lastFrameAt ?? 0, meta.timestamp);
      this.setState('online');
    } else this.alive(meta.timestamp);
  }

  /** A decoded picture that is not a JPEG (a grey plane): the camera is alive, and its rate is measured from these. */
  pictureSeen(timestamp: number): void {
    this.picturesSeen = true;
    metrics.greyPlanesTotal.inc({ camera: this.camera });
    this.alive(timestamp);
  }

  private alive(timestamp: number): void {
    this.lastFrameAt = timestamp;
    this.frameTimes.push(this.clock());
    if (this.frameTimes.length > this.fpsRule.maxFrames) this.frameTimes.shift();
    metrics.cameraFps.set({ camera: this.camera }, this.fps());
    this.setState('online');
  }

  /** One more restart of the capture after a failure. */
  countRestart(): void {
    this.restarts += 1;
    metrics.captureRestartsTotal.inc({ camera: this.camera });
  }

  /** The restart count a device reports for itself (an edge device). */
  setRestarts(restarts: number): void {
    if (restarts === this.restarts) return;
    this.restarts = restarts;
    this.emitStatus();
  }

  countError(kind: string): void {
    metrics.captureErrorsTotal.inc({ camera: this.camera, kind });
  }

  status(): CameraStatus {
    const { camera, lastFrameAt, lastError, restarts } = this;
    return { camera, state: this.current, fps: this.fps(), lastFrameAt, lastError, restarts };
  }

  /** Frames per second from the spacing of the frames actually delivered. */
  private fps(): number {
    const { windowMs, decimals } = this.fpsRule;
    const now = this.clock();
    while (this.frameTimes.length > 0 && now - this.frameTimes[0] > windowMs) this.frameTimes.shift();
    const times = this.frameTimes;
    if (times.length < 2) return 0;
    const scale = 10 ** decimals;
    return Math.round(((times.length - 1) * 1000 * scale) / (times[times.length - 1] - times[0])) / scale;
  }

  private emitStatus(): void {
    this.emitter.emit('status', this.status());
  }
}
