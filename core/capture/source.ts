import type { EventEmitter } from 'node:events';
import type { Frame } from '../frames/frame';

/** Where a camera's state stands, in the words the editor, MQTT state and metrics all use. */
export type CameraState = 'connecting' | 'online' | 'offline' | 'stopped';

export interface CameraStatus {
  camera: string;
  state: CameraState;
  /** Frames per second over the last few seconds. */
  fps: number;
  /** Milliseconds since the epoch of the newest frame, or null before the first one. */
  lastFrameAt: number | null;
  /** The most recent error in words a user can act on (secrets redacted), or null. */
  lastError: string | null;
  restarts: number;
}

/**
 * A camera's frames. Implementations emit `frame` (Frame) for every JPEG and `status` (CameraStatus) on every
 * state change; `start` is idempotent and `stop` resolves once every child process has exited.
 */
export interface FrameSource extends EventEmitter {
  readonly camera: string;
  start(): void;
  stop(): Promise<void>;
  status(): CameraStatus;
}

/** Something that wants a camera's frames and state changes (a capture node, a live-view client). */
export interface CameraConsumer {
  onFrame(frame: Frame): void;
  onStatus(status: CameraStatus): void;
}
