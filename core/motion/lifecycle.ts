import type { MotionBox, MotionResult } from './detector';
import { motionMetrics } from './motion-metrics';

export interface MotionEventOptions {
  /** Motion must last this long before an event starts, so one odd frame is not an event; default 200. */
  minDurationMs?: number;
  /** An event ends after this long without motion; default 5000. */
  quietMs?: number;
  /** Camera id for metrics. */
  camera?: string;
}

/** The frame of an event that shows the most: the one with the largest changed area. */
export interface BestFrame<F> {
  frame: F;
  timestamp: number;
  changedFraction: number;
  boxes: MotionBox[];
}

export interface MotionEvent<F> {
  /** 1 for the tracker's first event, then counting up. */
  id: number;
  /** Timestamp of the first frame with motion, which may be before the event was started. */
  startedAt: number;
  lastMotionAt: number;
  /** Timestamp of the frame that ended the event; null while it lasts. */
  endedAt: number | null;
  /** Frames with motion so far. */
  frames: number;
  best: BestFrame<F>;
  maxScore: number;
  /** Every zone motion touched during the event, in the order first touched. */
  zones: string[];
}

export interface MotionTransition<F> {
  type: 'start' | 'update' | 'end';
  /** A copy: later frames do not change it. */
  event: MotionEvent<F>;
}

/**
 * Turns per-frame motion results into events with a start, updates and an end. Pure: time is the frames' own
 * timestamps, so a recorded clip replays exactly and tests drive the clock. `F` is whatever identifies a frame
 * for the caller (a JPEG, an archive key).
 */
export class MotionEventTracker<F> {
  private readonly minDurationMs: number;
  private readonly quietMs: number;
  private readonly camera: string;
  /** The event being built: pending until motion has lasted minDurationMs, then active. */
  private current: MotionEvent<F> | null = null;
  private active = false;
  private nextId = 1;

  constructor(options: MotionEventOptions = {}) {
    this.minDurationMs = durationMs(options.minDurationMs ?? 200, 'minDurationMs');
    this.quietMs = durationMs(options.quietMs ?? 5000, 'quietMs');
    this.camera = options.camera ?? '';
  }

  /** Whether motion is being followed: an event under way, or motion that may become one. */
  get busy(): boolean {
    return this.current !== null;
  }

  /** The event under way, as a copy; null when there is none (or motion has not lasted long enough yet). */
  get event(): MotionEvent<F> | null {
    return this.active && this.current !== null ? copy(this.current) : null;
  }

  feed(result: MotionResult, timestamp: number, frame: F): MotionTransition<F>[] {
    const event = this.current;
    if (!result.motion) {
      if (event === null) return [];
      if (!this.active) {
        // Motion that stopped before minDurationMs was a glitch, not an event.
        this.current = null;
        return [];
      }
      return timestamp - event.lastMotionAt >= this.quietMs ? this.end(timestamp) : [];
    }
    if (event === null) {
      this.current = {
        id: this.nextId,
        startedAt: timestamp,
        lastMotionAt: timestamp,
        endedAt: null,
        frames: 1,
        best: { frame, timestamp, changedFraction: result.changedFraction, boxes: result.boxes },
        maxScore: result.score,
        zones: [...result.zones],
      };
      return this.startIfLongEnough(timestamp);
    }
    const improved = this.merge(event, result, timestamp, frame);
    if (!this.active) return this.startIfLongEnough(timestamp);
    return improved ? [{ type: 'update', event: copy(event) }] : [];
  }

  /** Ends the event under way, if any: for a camera that stopped, whose frames will not come to end it. */
  finish(timestamp: number): MotionTransition<F>[] {
    if (this.current === null) return [];
    if (!this.active) {
      this.current = null;
      return [];
    }
    return this.end(timestamp);
  }

  /** Folds a motion frame into the event; returns whether anything an update reports got better. */
  private merge(event: MotionEvent<F>, result: MotionResult, timestamp: number, frame: F): boolean {
    event.lastMotionAt = Math.max(event.lastMotionAt, timestamp);
    event.frames++;
    let improved = false;
    if (result.changedFraction > event.best.changedFraction) {
      event.best = { frame, timestamp, changedFraction: result.changedFraction, boxes: result.boxes };
      improved = true;
    }
    if (result.score > event.maxScore) {
      event.maxScore = result.score;
      improved = true;
    }
    for (const zone of result.zones) {
      if (event.zones.includes(zone)) continue;
      event.zones.push(zone);
      improved = true;
    }
    return improved;
  }

  private startIfLongEnough(timestamp: number): MotionTransition<F>[] {
    const event = this.current as MotionEvent<F>;
    if (timestamp - event.startedAt < this.minDurationMs) return [];
    this.active = true;
    this.nextId++;
    motionMetrics.motionEventsTotal.inc({ camera: this.camera });
    motionMetrics.motionActive.set({ camera: this.camera }, 1);
    return [{ type: 'start', event: copy(event) }];
  }

  private end(timestamp: number): MotionTransition<F>[] {
    const event = this.current as MotionEvent<F>;
    event.endedAt = timestamp;
    this.current = null;
    this.active = false;
    motionMetrics.motionActive.set({ camera: this.camera }, 0);
    return [{ type: 'end', event: copy(event) }];
  }
}

function copy<F>(event: MotionEvent<F>): MotionEvent<F> {
  return { ...event, best: { ...event.best, boxes: event.best.boxes.map((box) => ({ ...box })) }, zones: [...event.zones] };
}

function durationMs(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new Error(`${field} ${JSON.stringify(value)} is invalid: expected milliseconds, 0 or more`);
  return value;
}
