import type { CameraFrames, IndexedFrame } from './archive-index';

export interface RetentionLimits {
  /** Frames per camera that retention may delete (kept frames do not count). Infinity for no limit. */
  maxFramesPerCamera: number;
  /** Frames captured longer ago than this are deleted unless kept. Infinity for no limit. */
  maxAgeMs: number;
  /** Bytes of frames retention may delete, all cameras together; the oldest go first. Infinity for no limit. */
  maxTotalBytes: number;
}

export type RetentionRule = 'age' | 'count' | 'size';

export interface Victim {
  frame: IndexedFrame;
  reason: RetentionRule;
}

export const DEFAULT_RETENTION: RetentionLimits = { maxFramesPerCamera: 10000, maxAgeMs: 7 * 24 * 3600 * 1000, maxTotalBytes: 1024 ** 3 };

/** The limits with defaults for those not given; each must be a whole number of at least 1, or Infinity. */
export function retentionLimits(given: Partial<RetentionLimits>): RetentionLimits {
  const limits = { ...DEFAULT_RETENTION };
  for (const key of ['maxFramesPerCamera', 'maxAgeMs', 'maxTotalBytes'] as const) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value >= 1) || (Number.isFinite(value) && !Number.isInteger(value))) {
      throw new Error(`${key} ${String(value)} is invalid: expected a whole number of at least 1, or Infinity for no limit`);
    }
    limits[key] = value;
  }
  return limits;
}

/**
 * Picks the frames to delete, oldest first and never a kept one or `spare`, and takes them out of the index at
 * once (synchronously), so two passes never pick the same frame and no listing shows a frame about to go.
 * Age and count are checked for `cameras` only (after an add, just its camera); size always spans all cameras.
 */
export function chooseVictims(all: Map<string, CameraFrames>, cameras: Iterable<string>, limits: RetentionLimits, now: number, spare?: IndexedFrame): Victim[] {
  const victims: Victim[] = [];
  const take = (frames: CameraFrames, frame: IndexedFrame, reason: RetentionRule) => {
    frames.remove(frame);
    victims.push({ frame, reason });
  };
  const cutoff = now - limits.maxAgeMs;
  for (const camera of cameras) {
    const frames = all.get(camera);
    if (!frames) continue;
    for (let oldest = frames.oldestDeletable(spare); oldest && oldest.timestamp < cutoff; oldest = frames.oldestDeletable(spare)) {
      take(frames, oldest, 'age');
    }
    while (frames.deletableCount > limits.maxFramesPerCamera) {
      const oldest = frames.oldestDeletable(spare);
      if (!oldest) break;
      take(frames, oldest, 'count');
    }
  }
  let deletableBytes = 0;
  for (const frames of all.values()) deletableBytes += frames.deletableBytes;
  while (deletableBytes > limits.maxTotalBytes) {
    let pick: { frames: CameraFrames; frame: IndexedFrame } | undefined;
    for (const frames of all.values()) {
      const frame = frames.oldestDeletable(spare);
      if (frame && (!pick || frame.timestamp < pick.frame.timestamp)) pick = { frames, frame };
    }
    if (!pick) break;
    take(pick.frames, pick.frame, 'size');
    deletableBytes -= pick.frame.bytes;
  }
  return victims;
}
