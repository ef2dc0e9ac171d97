import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Bus } from '../bus/bus';
import type { Frame } from '../frames/frame';
import { isJpeg, jpegDimensions } from '../frames/jpeg';
import { assertCameraId } from '../ids';
import { silentLogger, type Logger } from '../log/logger';
import { metrics } from '../metrics';
import { topics } from '../topics';
import { CameraStateTracker } from './camera-state';
import type { CameraStatus, FrameSource } from './source';

export interface EdgeSourceOptions {
  camera: string;
  bus: Bus;
  /** Frames longer than this are dropped (counted as `oversize`). */
  maxFrameBytes?: number;
  /** No frame for this long means the camera is offline. */
  offlineAfterMs?: number;
  logger?: Logger;
  now?: () => number;
}

/**
 * The retained state a `glimpser edge` device publishes on glimpser/cameras/<id>/state (its last will too). The
 * `source: 'edge'` marker tells it apart from the state the server itself publishes on the same topic.
 */
export interface EdgeDeviceState extends CameraStatus {
  source: 'edge';
  updatedAt: string;
}

export const DEFAULT_EDGE_MAX_FRAME_BYTES = 2 * 1024 * 1024;

export function isEdgeDeviceState(value: unknown): value is EdgeDeviceState {
  const state = value as Partial<EdgeDeviceState> | null;
  return (
    typeof state === 'object' &&
    state !== null &&
    state.source === 'edge' &&
    typeof state.state === 'string' &&
    (state.lastError === null || typeof state.lastError === 'string')
  );
}

/**
 * A camera captured by an edge device, which publishes its JPEGs on glimpser/cameras/<id>/frame itself. This source
 * only listens: it checks each payload, and never republishes (the frames are on the bus already).
 */
export class EdgeSource extends EventEmitter implements FrameSource {
  /** Frames arrive on the bus from the device: whoever wraps this source must not publish them again. */
  readonly external = true;
  readonly camera: string;
  private readonly bus: Bus;
  private readonly maxFrameBytes: number;
  private readonly offlineAfterMs: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly tracker: CameraStateTracker;
  private unsubscribe: Promise<Array<() => Promise<void>>> | null = null;
  private lastGoodAt = 0;
  private sequence = 0;
  private watchdog?: NodeJS.Timeout;

  constructor(options: EdgeSourceOptions) {
    super();
    this.camera = assertCameraId(options.camera);
    this.bus = options.bus;
    this.maxFrameBytes = positiveInteger(options.maxFrameBytes ?? DEFAULT_EDGE_MAX_FRAME_BYTES, 'maxFrameBytes');
    this.offlineAfterMs = positiveInteger(options.offlineAfterMs ?? 10000, 'offlineAfterMs');
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.tracker = new CameraStateTracker({ camera: this.camera, emitter: this, logger: this.log });
  }

  start(): void {
    if (this.unsubscribe !== null) return;
    this.sequence = 0;
    this.tracker.reset({ keepRestarts: true });
    this.lastGoodAt = performance.now();
    this.tracker.setState('connecting');
    this.armWatchdog(this.offlineAfterMs);
    const subscriptions = Promise.all([
      this.bus.subscribe(topics.cameraFrame(this.camera), (_topic, payload) => this.onPayload(payload)),
      this.bus.subscribe(topics.cameraState(this.camera), (_topic, payload) => this.onDeviceState(payload)),
    ]);
    this.unsubscribe = subscriptions.catch((err: Error) => {
      this.tracker.setLastError(`cannot subscribe to the edge device's topics: ${err.message}`);
      this.tracker.setState('offline');
      return [];
    });
  }

  async stop(): Promise<void> {
    const pending = this.unsubscribe;
    this.unsubscribe = null;
    clearTimeout(this.watchdog);
    this.tracker.setState('stopped');
    if (pending === null) return;
    await Promise.all((await pending).map((unsubscribe) => unsubscribe()));
  }

  status(): CameraStatus {
    return this.tracker.status();
  }

  private onPayload(payload: Buffer): void {
    if (this.unsubscribe === null) return;
    if (payload.length > this.maxFrameBytes) {
      return this.reject(
        'oversize',
        `edge device sent a ${formatBytes(payload.length)} frame, over the ${formatBytes(this.maxFrameBytes)} limit: lower its --width/--height`,
      );
    }
    const size = isJpeg(payload) ? jpegDimensions(payload) : null;
    if (size === null)
      return this.reject('not_jpeg', `edge device sent ${payload.length} bytes on ${topics.cameraFrame(this.camera)} that are not a complete JPEG`);
    this.lastGoodAt = performance.now();
    this.sequence += 1;
    // The payload may be a view into the broker's socket buffer; frames are kept long, so each gets its own memory.
    const jpeg = Buffer.from(payload);
    const frame: Frame = { jpeg, meta: { camera: this.camera, timestamp: this.now(), sequence: this.sequence, ...size, bytes: jpeg.length } };
    this.tracker.frameDelivered(frame);
    this.emit('frame', frame);
  }

  private reject(reason: 'oversize' | 'not_jpeg', message: string): void {
    metrics.framesRejectedTotal.inc({ camera: this.camera, reason });
    this.log.warn({ camera: this.camera, reason }, message);
    this.tracker.setLastError(message);
  }

  /** The device's own account: its restarts, and an offline or stopped report (its last will) at once. */
  private onDeviceState(payload: Buffer): void {
    if (this.unsubscribe === null) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    // Without the marker it is the server's own state, republished from this very source.
    if (!isEdgeDeviceState(parsed)) return;
    if (Number.isInteger(parsed.restarts)) this.tracker.setRestarts(parsed.restarts);
    if (parsed.state === 'offline' || parsed.state === 'stopped') {
      this.tracker.setLastError(`edge device is ${parsed.state}${parsed.lastError === null ? '' : `: ${parsed.lastError}`}`);
      this.tracker.setState('offline');
    }
  }

  private armWatchdog(delay: number): void {
    this.watchdog = setTimeout(
      () => {
        const quietMs = performance.now() - this.lastGoodAt;
        if (quietMs < this.offlineAfterMs) return this.armWatchdog(this.offlineAfterMs - quietMs);
        if (this.tracker.state !== 'offline') {
          this.tracker.setLastError(`no frame from the edge device for ${(quietMs / 1000).toFixed(quietMs < 10000 ? 1 : 0)} s`);
          this.tracker.setState('offline');
        }
        this.armWatchdog(this.offlineAfterMs);
      },
      Math.max(1, delay),
    );
  }
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${field} ${value} is invalid: expected a whole number above 0`);
  return value;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
