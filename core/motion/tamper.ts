import type { GreyFrame } from '../frames/grey';
import { silentLogger, type Logger } from '../log/logger';
import { frameProblem, notifyReset, type DetectorReset } from './detector';
import { motionMetrics } from './motion-metrics';
import { Downscaler, type FloatPlane } from './resample';
import { detailSize, deviation, sharpness, viewMismatch, viewSize } from './tamper-measures';

export type TamperKind = 'covered' | 'moved' | 'defocused';

export interface TamperEvent {
  kind: TamperKind;
  phase: 'start' | 'end';
  /** When the condition was first seen; a start is decided only once it has lasted its `…AfterMs` from here. */
  startedAt: number;
  /** When the condition was last seen, for an end; null for a start. */
  endedAt: number | null;
  /** Timestamp of the frame that decided this transition. */
  timestamp: number;
  /** The measure behind the decision: grey-level deviation (covered), share of the view changed (moved), sharpness over its baseline (defocused). */
  value: number;
}

export interface TamperOptions {
  /** A picture whose grey levels spread less than this (standard deviation) is covered; default 8. */
  coveredDeviation?: number;
  /** How long the picture must stay flat; default 3000. */
  coveredAfterMs?: number;
  /** Share of the view that must differ from the learnt one for the camera to count as moved; default 0.6. */
  movedFraction?: number;
  /** How long the other view must stay, once settled; default 5000. */
  movedAfterMs?: number;
  /** Sharpness below this share of its learnt baseline is defocus; default 0.4. */
  defocusRatio?: number;
  /** How long the detail must stay gone; default 5000. */
  defocusedAfterMs?: number;
  /** A condition must be gone this long before its event ends; default 2000. */
  clearAfterMs?: number;
  /** Time spent learning the view and its sharpness before moved and defocused are judged; default 3000. */
  learnMs?: number;
  /** A moved view that stays this long becomes the view the camera is expected to have, ending the event; default 600000. */
  relearnAfterMs?: number;
  camera?: string;
  logger?: Logger;
  onReset?: (reset: DetectorReset) => void;
}

/** Frame-to-frame change below this means the view has settled (a pan or a person passing is not settled). */
const SETTLED_MISMATCH = 0.2;
/** How fast the learnt view and sharpness follow the scene once learnt: slow drift such as daylight. */
const LEARN_ALPHA = 0.02;

/** One kind's state: on after its condition held for `afterMs`, off after it was gone for `clearAfterMs`. */
class Condition {
  active = false;
  since: number | null = null;
  lastSeen = 0;
  private goneSince: number | null = null;

  constructor(
    readonly kind: TamperKind,
    private readonly afterMs: number,
    private readonly clearAfterMs: number,
  ) {}

  /** `on`: the condition holds; `off`: it is clearly gone (between the two, a started event carries on). */
  update(on: boolean, off: boolean, timestamp: number, value: number): TamperEvent | null {
    if (!this.active) {
      if (!on) {
        this.since = null;
        return null;
      }
      this.since ??= timestamp;
      this.lastSeen = timestamp;
      if (timestamp - this.since < this.afterMs) return null;
      this.active = true;
      this.goneSince = null;
      return { kind: this.kind, phase: 'start', startedAt: this.since, endedAt: null, timestamp, value };
    }
    if (!off) {
      this.goneSince = null;
      this.lastSeen = timestamp;
      return null;
    }
    this.goneSince ??= timestamp;
    return timestamp - this.goneSince >= this.clearAfterMs ? this.end(timestamp, value) : null;
  }

  end(timestamp: number, value: number): TamperEvent {
    const event: TamperEvent = { kind: this.kind, phase: 'end', startedAt: this.since ?? timestamp, endedAt: this.lastSeen, timestamp, value };
    this.active = false;
    this.since = null;
    this.goneSince = null;
    return event;
  }

  get pending(): boolean {
    return this.active || this.since !== null;
  }
}

/**
 * Notices a camera being covered (the picture goes flat), moved (the view stops matching the learnt one and
 * settles on another) or defocused (fine detail fades against its learnt baseline), each sustained for a while.
 * Fed the same small grey frames as motion detection; time comes from their timestamps.
 */
export class TamperDetector {
  private readonly coveredDeviation: number;
  private readonly movedFraction: number;
  private readonly defocusRatio: number;
  private readonly learnMs: number;
  private readonly relearnAfterMs: number;
  private readonly camera: string;
  private readonly log: Logger;
  private readonly onReset?: (reset: DetectorReset) => void;
  private readonly covered: Condition;
  private readonly moved: Condition;
  private readonly defocused: Condition;
  private size: { width: number; height: number } | null = null;
  private scalers: { view: Downscaler; detail: Downscaler } | null = null;
  private view: FloatPlane | null = null;
  private previous: FloatPlane | null = null;
  private learnt: FloatPlane | null = null;
  private baseline = 0;
  private learningSince: number | null = null;
  private learnFrames = 0;

  constructor(options: TamperOptions = {}) {
    this.coveredDeviation = positive(options.coveredDeviation ?? 8, 'coveredDeviation');
    this.movedFraction = positive(options.movedFraction ?? 0.6, 'movedFraction', 1);
    this.defocusRatio = positive(options.defocusRatio ?? 0.4, 'defocusRatio', 1);
    const clearAfterMs = positive(options.clearAfterMs ?? 2000, 'clearAfterMs');
    this.covered = new Condition('covered', positive(options.coveredAfterMs ?? 3000, 'coveredAfterMs'), clearAfterMs);
    this.moved = new Condition('moved', positive(options.movedAfterMs ?? 5000, 'movedAfterMs'), clearAfterMs);
    this.defocused = new Condition('defocused', positive(options.defocusedAfterMs ?? 5000, 'defocusedAfterMs'), clearAfterMs);
    this.learnMs = positive(options.learnMs ?? 3000, 'learnMs');
    this.relearnAfterMs = positive(options.relearnAfterMs ?? 600000, 'relearnAfterMs');
    this.camera = options.camera ?? '';
    this.log = options.logger ?? silentLogger;
    this.onReset = options.onReset;
  }

  /** Kinds whose events have started and not ended. */
  active(): TamperKind[] {
    return [this.covered, this.moved, this.defocused].filter((c) => c.active).map((c) => c.kind);
  }

  /** Never throws: a frame it cannot use is skipped. */
  update(frame: GreyFrame): TamperEvent[] {
    if (frameProblem(frame) !== null) return [];
    const { width, height, timestamp } = frame;
    const events: TamperEvent[] = [];
    if (this.size !== null && (this.size.width !== width || this.size.height !== height)) {
      // Another size is another stream: nothing learnt applies, and open events are closed rather than left hanging.
      const reset: DetectorReset = { reason: 'size', from: this.size, to: { width, height } };
      for (const condition of [this.covered, this.moved, this.defocused]) if (condition.active) events.push(this.record(condition.end(timestamp, 0)));
      this.reset();
      this.log.warn(
        { camera: this.camera, ...reset },
        `picture size changed from ${reset.from.width}x${reset.from.height} to ${width}x${height}: tamper detection starts over`,
      );
      notifyReset(this.onReset, reset, this.log);
    }
    this.size = { width, height };
    const spread = deviation(frame.data);
    const flat = spread < this.coveredDeviation;
    this.push(events, this.covered.update(flat, spread >= this.coveredDeviation * 1.5, timestamp, spread));
    if (flat || this.covered.active) {
      // A covered lens has no view or detail to judge: what was learnt waits for it to come back, and
      // whatever was building up towards moved or defocused starts again afterwards.
      for (const condition of [this.moved, this.defocused]) if (!condition.active) condition.since = null;
      return events;
    }
    const scalers = (this.scalers ??= makeScalers(width, height));
    const fresh = scalers.view.apply(frame.data);
    // Two view buffers take turns: the one from the frame before last is free again.
    const view = this.previous ?? { ...fresh, data: new Float32Array(fresh.data.length) };
    view.data.set(fresh.data);
    this.previous = this.view;
    this.view = view;
    const detail = sharpness(scalers.detail.apply(frame.data));
    if (this.learnt === null || this.learningSince === null || timestamp - this.learningSince < this.learnMs) {
      this.learn(detail, timestamp);
      return events;
    }
    this.judgeView(events, this.learnt, view, timestamp);
    if (this.moved.pending) return events;
    const ratio = this.baseline > 0 ? detail / this.baseline : 1;
    this.push(events, this.defocused.update(ratio < this.defocusRatio, ratio >= this.defocusRatio * 1.5, timestamp, ratio));
    // Only the normal picture is learnt: never what a pending or started event is about.
    if (!this.defocused.pending) this.blend(detail, LEARN_ALPHA);
    return events;
  }

  /** Moved: most of the view differs from the learnt one, and the picture has settled (not a pan in progress). */
  private judgeView(events: TamperEvent[], learnt: FloatPlane, view: FloatPlane, timestamp: number): void {
    const mismatch = viewMismatch(learnt, view);
    const settled = this.previous !== null && viewMismatch(this.previous, view) < SETTLED_MISMATCH;
    this.push(events, this.moved.update(mismatch >= this.movedFraction && settled, mismatch < this.movedFraction / 2, timestamp, mismatch));
    if (this.moved.active && this.moved.since !== null && timestamp - this.moved.since >= this.relearnAfterMs) {
      this.log.info({ camera: this.camera }, 'the camera has kept its new view: taking it as the expected view');
      events.push(this.record(this.moved.end(timestamp, mismatch)));
      learnt.data.set(view.data);
    }
  }

  /** Forgets the learnt view and sharpness, and any event under way, without reporting it. */
  reset(): void {
    for (const condition of [this.covered, this.moved, this.defocused]) {
      condition.active = false;
      condition.since = null;
    }
    this.size = null;
    this.scalers = this.view = this.previous = this.learnt = null;
    this.learningSince = null;
    this.learnFrames = 0;
    this.baseline = 0;
  }

  /** The learning period averages its frames equally, so the first one counts no more than the others. */
  private learn(detail: number, timestamp: number): void {
    const view = this.view as FloatPlane;
    if (this.learnt === null || this.learningSince === null) {
      this.learnt = { width: view.width, height: view.height, data: Float32Array.from(view.data) };
      this.learningSince = timestamp;
      this.learnFrames = 1;
      this.baseline = detail;
      return;
    }
    this.learnFrames++;
    this.blend(detail, 1 / this.learnFrames);
  }

  private blend(detail: number, alpha: number): void {
    const learnt = (this.learnt as FloatPlane).data;
    const view = (this.view as FloatPlane).data;
    for (let i = 0; i < learnt.length; i++) learnt[i] += alpha * (view[i] - learnt[i]);
    this.baseline += alpha * (detail - this.baseline);
  }

  private push(events: TamperEvent[], event: TamperEvent | null): void {
    if (event !== null) events.push(this.record(event));
  }

  private record(event: TamperEvent): TamperEvent {
    motionMetrics.tamperActive.set({ camera: this.camera, kind: event.kind }, event.phase === 'start' ? 1 : 0);
    if (event.phase === 'start') motionMetrics.tamperEventsTotal.inc({ camera: this.camera, kind: event.kind });
    this.log.info({ camera: this.camera, ...event }, `camera ${event.kind} ${event.phase === 'start' ? 'started' : 'ended'}`);
    return event;
  }
}

function makeScalers(width: number, height: number): { view: Downscaler; detail: Downscaler } {
  const view = viewSize(width, height);
  const detail = detailSize(width, height);
  return { view: new Downscaler(width, height, view.width, view.height), detail: new Downscaler(width, height, detail.width, detail.height) };
}

function positive(value: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new Error(`${field} ${JSON.stringify(value)} is invalid: expected a number above 0${max < Number.MAX_SAFE_INTEGER ? ` and at most ${max}` : ''}`);
  }
  return value;
}
