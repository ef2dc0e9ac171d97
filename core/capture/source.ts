import type { EventEmitter } from 'node:events';
import type { Frame } from '../frames/frame';
import type { GreyPlane } from '../frames/grey';

/** Where a camera's state stands, in the words the editor, MQTT state and metrics all use. */
export type CameraState = 'connecting' | 'online' | 'offline' | 'stopped';

export interface CameraStatus {
  camera: string;
  state: CameraState;
  /** Frames per second over the last few seconds. */
  fps: number;
  /** Milliseconds since the epoch of the newest picture (a frame, or a grey plane from the decode), or null before the first one. */
  lastFrameAt: number | null;
  /** The most recent error in words a user can act on (secrets redacted), or null. */
  lastError: string | null;
  restarts: number;
}

/**
 * A camera's frames. Implementations emit `frame` (Frame) for every JPEG and `status` (CameraStatus) on every
 * state change; `start` is idempotent and `stop` resolves once every child process has exited. Sources that
 * decode video also emit `grey` (GreyPlane) from the same decode and make JPEGs only while they are wanted.
 */
export interface FrameSource extends EventEmitter {
  readonly camera: string;
  start(): void;
  stop(): Promise<void>;
  status(): CameraStatus;
  /** Present where the source emits `grey` planes of its own; JPEGs are then made only while wanted. */
  setJpegDemand?(wanted: boolean): void;
}

/** Something that wants a camera's frames and state changes (a capture node, a live-view client, motion detection). */
export interface CameraConsumer {
  onFrame(frame: Frame): void;
  onStatus(status: CameraStatus): void;
  /** Grey planes for motion detection: from the camera's own decode, or made from its JPEGs where it has none. */
  onGrey?(plane: GreyPlane): void;
  /**
   * Whether the camera must make JPEGs for this consumer all the time (default true: a live view, a continuous
   * capture). A consumer that needs one now and then says false and asks (Camera.requestFrame, demandJpeg).
   */
  continuousJpeg?: boolean;
}
