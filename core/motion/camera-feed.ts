import type { Frame } from '../frames/frame';
import type { MotionResult } from './detector';
import { noPicture } from './lifecycle-message';

/** Reading a camera directly: a JPEG this much older than a plane does not show that plane's picture. */
export const JPEG_MATCH_MS = 500;
/** Reading a camera directly: motion results wait this long at most for the JPEG asked for them. */
export const JPEG_WAIT_MS = 3000;

/** What the feed asks of the camera (core/capture's Camera): JPEGs for a while, or one recent picture. */
export interface JpegCamera {
  readonly id: string;
  /** Asks for JPEGs until the returned function is called. */
  demandJpeg(): () => void;
  recentFrame(maxAgeMs: number, timeoutMs: number): Promise<Frame | null>;
}

/** Where the feed's results go: the event tracker of the camera, fed in plane order. */
export interface FeedTarget {
  /** Whether motion is being followed (an event under way, or motion that may become one): JPEGs are wanted. */
  busy(): boolean;
  /** One plane's result with the JPEG that shows it, or noPicture when the camera gave none in time. */
  take(result: MotionResult, timestamp: number, frame: Frame): void;
}

/** The time of the grey plane a result was detected on. */
export interface PlaneTime {
  timestamp: number;
}

/**
 * Motion detection on a camera's grey planes, as Frigate reads its detect stream: no JPEG is made while nothing
 * moves. When motion begins the camera is asked for JPEGs, until the event is over. A result with motion waits for
 * a JPEG taken no earlier than its plane (JPEG_MATCH_MS), so an event's picture shows what moved; results after it
 * wait in line behind it, and all go on without a picture after JPEG_WAIT_MS, for a JPEG that never comes (the
 * camera dropped it, or went offline) must not hold events back for ever. Knows nothing of Node-RED.
 */
export class CameraFeed {
  private release: (() => void) | null = null;
  private latest: Frame | null = null;
  private readonly pending: Array<{ result: MotionResult; timestamp: number }> = [];
  private lastResult: MotionResult | null = null;

  constructor(
    private readonly camera: JpegCamera,
    private readonly target: FeedTarget,
    private readonly timing: { matchMs: number; waitMs: number } = { matchMs: JPEG_MATCH_MS, waitMs: JPEG_WAIT_MS },
  ) {}

  /** Whether the camera is being asked for JPEGs now. */
  get demanding(): boolean {
    return this.release !== null;
  }

  /** The result of one grey plane, in the order the planes came. */
  plane(plane: PlaneTime, result: MotionResult): void {
    this.lastResult = result;
    const waiting = this.pending.length > 0;
    if ((result.motion || this.target.busy() || waiting) && this.release === null) this.release = this.camera.demandJpeg();
    const latest = this.latest;
    if (result.motion && !waiting && latest !== null && latest.meta.timestamp >= plane.timestamp - this.timing.matchMs) {
      this.target.take(result, plane.timestamp, latest);
    } else if (result.motion || waiting) {
      this.pending.push({ result, timestamp: plane.timestamp });
      if (plane.timestamp - this.pending[0].timestamp > this.timing.waitMs) this.flush(latest);
    } else {
      this.target.take(result, plane.timestamp, latest ?? noPicture(this.camera.id, plane.timestamp));
    }
    if (!result.motion && !this.target.busy() && this.pending.length === 0) this.stopDemand();
  }

  /**
   * A JPEG from the camera: the results waiting for one go on with it. Returns the latest plane's result when the
   * JPEG was made for motion under way (it goes out on the node's first output, as a wired frame would), else null.
   */
  frame(frame: Frame): MotionResult | null {
    this.latest = frame;
    if (this.pending.length > 0) this.flush(frame);
    return this.release !== null && this.lastResult !== null && this.target.busy() ? this.lastResult : null;
  }

  /** The camera's picture of now (for a tamper event), or noPicture when it gives none in time. */
  async recentPicture(timestamp: number): Promise<Frame> {
    return (await this.camera.recentFrame(this.timing.matchMs, this.timing.waitMs)) ?? noPicture(this.camera.id, timestamp);
  }

  /** Stops asking for JPEGs and passes on the results still waiting, with the latest JPEG there is. */
  close(): void {
    this.stopDemand();
    this.flush(this.latest);
  }

  private flush(frame: Frame | null): void {
    for (const { result, timestamp } of this.pending.splice(0)) this.target.take(result, timestamp, frame ?? noPicture(this.camera.id, timestamp));
  }

  private stopDemand(): void {
    this.release?.();
    this.release = null;
  }
}
