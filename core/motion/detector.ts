import type { GreyFrame } from '../frames/grey';
import type { Logger } from '../log/logger';

/**
 * Motion detection works on small grey pictures: a frame's luma plane scaled down to 100-180 rows, as capture
 * emits with its `grey` output (core/capture/ffmpeg-source.ts) or jpegToGrey makes from a JPEG. A detector
 * compares each picture with what it has learnt of the scene and says where it changed.
 */

/** A rectangle in normalised picture coordinates: 0..1 from the left and top edges. */
export interface MotionBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface MotionResult {
  /** Whether the changed regions together are large enough to count as motion. */
  motion: boolean;
  /** One box per changed region large enough to report, largest first. */
  boxes: MotionBox[];
  /** Share of the unmasked picture whose difference from the background is over the threshold, 0..1. */
  changedFraction: number;
  /** Names of the zones a reported box overlaps, in the order the zones were configured. */
  zones: string[];
  /** Still learning the scene (first frames, or after a sudden change of the whole picture): never motion. */
  calibrating: boolean;
  /** How strongly the reported regions differ from the background: their mean difference over 255, 0..1. */
  score: number;
}

export interface MotionDetector {
  /** Never throws: a frame it cannot use gives a result without motion. */
  detect(frame: GreyFrame): MotionResult;
  /** Forgets the scene; the next frame starts a new calibration. */
  reset(): void;
}

/** Why a detector started over on its own. */
export interface DetectorReset {
  reason: 'size';
  from: { width: number; height: number };
  to: { width: number; height: number };
}

export function quietResult(calibrating: boolean, changedFraction = 0): MotionResult {
  return { motion: false, boxes: [], changedFraction, zones: [], calibrating, score: 0 };
}

/** Why a frame cannot be used, or null when it can. */
export function frameProblem(frame: GreyFrame): string | null {
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 3 || height < 3) {
    return `frame size ${String(width)}x${String(height)} is invalid: expected whole numbers of at least 3`;
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height) {
    const length = data instanceof Uint8Array ? `${data.length} bytes` : 'no byte array';
    return `frame data has ${length}: expected ${width * height} (${width}x${height}, one byte a pixel)`;
  }
  return null;
}

/** A throwing callback is the caller's bug, but must not take the camera's detection down with it. */
export function notifyReset(onReset: ((reset: DetectorReset) => void) | undefined, reset: DetectorReset, log: Logger): void {
  try {
    onReset?.(reset);
  } catch (err) {
    log.error({ err }, `onReset failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
