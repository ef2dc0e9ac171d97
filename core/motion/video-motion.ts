import type { GreyFrame } from '../frames/grey';
import { silentLogger, type Logger } from '../log/logger';
import { RegionLabeller, type Region } from './components';
import { frameProblem, notifyReset, quietResult, type DetectorReset, type MotionBox, type MotionDetector, type MotionResult } from './detector';
import { blur3, BrightnessRatio, dilate3, percentile } from './filters';
import { motionMetrics } from './motion-metrics';
import { checkRegions, RegionMaps, type CheckedRegions, type RegionConfig } from './regions';

export interface VideoMotionOptions extends RegionConfig {
  /** Smallest difference from the background, in grey levels of a full-contrast picture, that counts; default 30. */
  threshold?: number;
  /** Smallest region reported, in pixels of a 100-row picture (scaled with the square of the height); default 10. */
  contourArea?: number;
  /** Share of the unmasked picture the reported regions must cover together to be motion; default 0.0005. */
  minArea?: number;
  /** How much of each frame goes into the background once calibrated; default 0.01. */
  frameAlpha?: number;
  /** Frames of fast learning after the first frame or a change of the whole picture; default 10. */
  calibrationFrames?: number;
  /** Judge differences relative to the scene's contrast, so a dim or foggy scene is as sensitive as a bright one; default true. */
  improveContrast?: boolean;
  /** Share of the picture changing at once that is taken as a lighting change, not motion; default 0.8. */
  lightningThreshold?: number;
  /** Frames a changed pixel keeps its background before something that stays there is learnt into it; default 50. */
  freezeFrames?: number;
  /** Camera id for metrics and logs. */
  camera?: string;
  logger?: Logger;
  /** Called when a frame of another size makes the detector start over. */
  onReset?: (reset: DetectorReset) => void;
}

/** How fast the background follows the picture while calibrating (Frigate's value). */
const CALIBRATION_ALPHA = 0.2;
/** Calibration ends once less than this share of the picture differs from the background. */
const SETTLED_FRACTION = 0.05;
/** A scene that never settles (trees in a storm) still ends calibration after this many times calibrationFrames. */
const MAX_CALIBRATION_FACTOR = 5;
/** The least contrast range assumed, so noise in a nearly black picture is not stretched into motion. */
const MIN_CONTRAST_RANGE = 64;
/** A brightness change beyond this factor (about a third of a stop) is a lighting change: the scene is learnt again. */
const LIGHTING_RATIO = 1.25;
/** The background changes slowly, so its contrast is measured every few frames rather than on each. */
const CONTRAST_EVERY = 8;
/** Brightness is only compared when at least this share of the picture is neither black nor saturated. */
const USABLE_FOR_BRIGHTNESS = 0.05;

/** Every buffer for one picture size, so a frame allocates nothing per pixel. */
class Planes {
  readonly input: Uint8Array;
  readonly across: Uint16Array;
  readonly blurred: Uint8Array;
  readonly background: Float32Array;
  readonly diff: Uint8Array;
  readonly changed: Uint8Array;
  readonly joined: Uint8Array;
  readonly scratch: Uint8Array;
  readonly frozenFor: Uint16Array;
  readonly histogram = new Uint32Array(256);
  readonly labeller: RegionLabeller;
  readonly regions: RegionMaps;

  constructor(
    readonly width: number,
    readonly height: number,
    regions: CheckedRegions,
  ) {
    const size = width * height;
    this.input = new Uint8Array(size);
    this.across = new Uint16Array(size);
    this.blurred = new Uint8Array(size);
    this.background = new Float32Array(size);
    this.diff = new Uint8Array(size);
    this.changed = new Uint8Array(size);
    this.joined = new Uint8Array(size);
    this.scratch = new Uint8Array(size);
    this.frozenFor = new Uint16Array(size);
    this.labeller = new RegionLabeller(width, height);
    this.regions = new RegionMaps(regions, width, height);
  }
}

/**
 * Motion in a continuous stream, after Frigate's improved motion detector: each blurred frame is compared with a
 * running-average background; pixels differing by more than the threshold are dilated into regions, and regions
 * large enough become boxes. Differences from Frigate, each for a failure seen there: the background is compared
 * after scaling it by the picture's overall brightness ratio (lights and exposure changes are not motion); the
 * background is frozen only where motion is, for at most freezeFrames (a parked car is learnt, a passing one
 * leaves no ghost); and contrast is judged from the background rather than from each frame (a large dark object
 * does not stretch the whole picture into motion).
 */
export class VideoMotionDetector implements MotionDetector {
  private readonly regions: CheckedRegions;
  private readonly threshold: number;
  private readonly contourArea: number;
  private readonly minArea: number;
  private readonly frameAlpha: number;
  private readonly calibrationFrames: number;
  private readonly improveContrast: boolean;
  private readonly lightningThreshold: number;
  private readonly freezeFrames: number;
  private readonly camera: string;
  private readonly log: Logger;
  private readonly onReset?: (reset: DetectorReset) => void;
  private readonly brightness = new BrightnessRatio();
  private planes: Planes | null = null;
  private seeded = false;
  private calibrating = true;
  private calibratedFrames = 0;
  private contrastRange = 255;
  /** Frames learnt since the scene was first seen, to pace measureContrast. */
  private learnt = 0;
  private lastProblem: string | null = null;
  /** Whether this frame's joined bitmap has any pixel set; when not, it is stale and must not be read. */
  private anyJoined = false;
  /** Whether any pixel may have a non-zero frozenFor count. */
  private anyFrozen = false;

  constructor(options: VideoMotionOptions = {}) {
    this.regions = checkRegions(options);
    this.threshold = numberIn(options.threshold ?? 30, 'threshold', 1, 254);
    this.contourArea = numberIn(options.contourArea ?? 10, 'contourArea', 0, 1e6);
    this.minArea = numberIn(options.minArea ?? 0.0005, 'minArea', 0, 1);
    this.frameAlpha = numberIn(options.frameAlpha ?? 0.01, 'frameAlpha', 0.0001, 1);
    this.calibrationFrames = Math.round(numberIn(options.calibrationFrames ?? 10, 'calibrationFrames', 1, 10000));
    this.improveContrast = options.improveContrast ?? true;
    if (typeof this.improveContrast !== 'boolean')
      throw new Error(`improveContrast ${JSON.stringify(options.improveContrast)} is invalid: expected true or false`);
    this.lightningThreshold = numberIn(options.lightningThreshold ?? 0.8, 'lightningThreshold', 0.01, 1);
    this.freezeFrames = Math.round(numberIn(options.freezeFrames ?? 50, 'freezeFrames', 0, 65535));
    this.camera = options.camera ?? '';
    this.log = options.logger ?? silentLogger;
    this.onReset = options.onReset;
  }

  detect(frame: GreyFrame): MotionResult {
    const problem = frameProblem(frame);
    if (problem !== null) {
      if (problem !== this.lastProblem) this.log.warn({ camera: this.camera, sequence: frame.sequence }, `motion detection skipped a frame: ${problem}`);
      this.lastProblem = problem;
      return quietResult(this.calibrating);
    }
    this.lastProblem = null;
    const planes = this.planesFor(frame.width, frame.height);
    const { regions, blurred, background, changed, joined, scratch, width, height } = planes;
    const mask = regions.mask;
    this.blur(frame.data, planes);
    if (!this.seeded) {
      background.set(blurred);
      this.seeded = true;
      this.startCalibration();
      this.measureContrast(planes);
      return quietResult(true);
    }
    const ratio = this.brightness.estimate(blurred, background, mask, regions.unmasked * USABLE_FOR_BRIGHTNESS);
    const changedCount = this.difference(planes, ratio);
    const changedFraction = changedCount / Math.max(1, regions.unmasked);
    // Most frames of a quiet scene change nowhere, and need neither dilation nor regions.
    const joinedCount = changedCount === 0 ? 0 : dilate3(changed, joined, scratch, width, height);
    this.anyJoined = joinedCount > 0;
    // Scaling the background only holds for small steps: saturated pixels and their blurred edges do not scale.
    const relit = ratio > LIGHTING_RATIO || ratio < 1 / LIGHTING_RATIO;
    // Dilated, so a change of a whole textured picture counts its flat parts too.
    if (relit || joinedCount / Math.max(1, regions.unmasked) > this.lightningThreshold) {
      if (!this.calibrating) {
        motionMetrics.motionRecalibrationsTotal.inc({ camera: this.camera, reason: 'lighting' });
        this.log.debug({ camera: this.camera, changedFraction, ratio }, 'the lighting changed: learning the scene again');
      }
      this.startCalibration();
    }
    if (this.calibrating) {
      this.learn(planes, CALIBRATION_ALPHA, false);
      this.calibratedFrames++;
      const settled = this.calibratedFrames >= this.calibrationFrames && changedFraction < SETTLED_FRACTION;
      if (settled || this.calibratedFrames >= this.calibrationFrames * MAX_CALIBRATION_FACTOR) this.calibrating = false;
      return quietResult(true, changedFraction);
    }
    const minRegion = Math.max(1, this.contourArea * (height / 100) ** 2);
    const found = changedCount === 0 ? [] : planes.labeller.find(joined, changed, planes.diff, minRegion);
    const result = this.describe(found, planes, changedFraction);
    this.learn(planes, this.frameAlpha, true);
    return result;
  }

  /** Masked pixels are held at one value before blurring, so what moves inside a mask cannot bleed out of it. */
  private blur(data: Uint8Array, planes: Planes): void {
    const mask = planes.regions.mask;
    let input = data;
    if (mask !== null) {
      for (let i = 0; i < data.length; i++) planes.input[i] = mask[i] === 1 ? 0 : data[i];
      input = planes.input;
    }
    blur3(input, planes.blurred, planes.across, planes.width, planes.height);
  }

  reset(): void {
    this.seeded = false;
    this.learnt = 0;
    this.calibrating = true;
    this.anyJoined = false;
    this.planes?.frozenFor.fill(0);
    this.anyFrozen = false;
  }

  private planesFor(width: number, height: number): Planes {
    const current = this.planes;
    if (current !== null && current.width === width && current.height === height) return current;
    if (current !== null) {
      const reset: DetectorReset = { reason: 'size', from: { width: current.width, height: current.height }, to: { width, height } };
      this.log.warn(
        { camera: this.camera, ...reset },
        `picture size changed from ${current.width}x${current.height} to ${width}x${height}: motion detection starts over`,
      );
      motionMetrics.motionRecalibrationsTotal.inc({ camera: this.camera, reason: 'size' });
      notifyReset(this.onReset, reset, this.log);
    }
    this.reset();
    this.planes = new Planes(width, height, this.regions);
    return this.planes;
  }

  private startCalibration(): void {
    this.calibrating = true;
    this.calibratedFrames = 0;
  }

  /** Marks pixels differing from the brightness-scaled background by more than the threshold; returns how many. */
  private difference(planes: Planes, ratio: number): number {
    const { blurred, background, diff, changed } = planes;
    const mask = planes.regions.mask;
    const range = this.improveContrast ? Math.max(MIN_CONTRAST_RANGE, this.contrastRange) : 255;
    const threshold = (this.threshold * range) / 255;
    let count = 0;
    for (let i = 0; i < blurred.length; i++) {
      if (mask !== null && mask[i] === 1) {
        diff[i] = 0;
        changed[i] = 0;
        continue;
      }
      const scaled = background[i] * ratio;
      let d = blurred[i] - (scaled > 255 ? 255 : scaled);
      if (d < 0) d = -d;
      diff[i] = d | 0;
      const over = d > threshold ? 1 : 0;
      changed[i] = over;
      count += over;
    }
    return count;
  }

  /**
   * Moves the background towards the frame. With `freeze`, pixels in motion keep their background for up to
   * freezeFrames, so a passing object is never learnt but one that stays is.
   */
  private learn(planes: Planes, alpha: number, freeze: boolean): void {
    const { blurred, background, joined, frozenFor } = planes;
    if (!freeze || !this.anyJoined) {
      // Nothing to hold back: the common case of a quiet frame, in one branch-free pass.
      for (let i = 0; i < blurred.length; i++) background[i] += alpha * (blurred[i] - background[i]);
      if (this.anyFrozen) frozenFor.fill(0);
      this.anyFrozen = false;
    } else {
      const freezeFrames = this.freezeFrames;
      for (let i = 0; i < blurred.length; i++) {
        if (joined[i] === 1 && frozenFor[i] < freezeFrames) {
          frozenFor[i]++;
        } else {
          if (joined[i] === 0) frozenFor[i] = 0;
          background[i] += alpha * (blurred[i] - background[i]);
        }
      }
      this.anyFrozen = true;
    }
    if (this.learnt++ % CONTRAST_EVERY === 0) this.measureContrast(planes);
  }

  /** The background's contrast range, 4th to 96th percentile as Frigate's contrast stretch, for the threshold. */
  private measureContrast(planes: Planes): void {
    const { background, histogram } = planes;
    const mask = planes.regions.mask;
    histogram.fill(0);
    for (let i = 0; i < background.length; i++) if (mask === null || mask[i] === 0) histogram[(background[i] + 0.5) | 0]++;
    const total = planes.regions.unmasked;
    if (total > 0) this.contrastRange = percentile(histogram, total, 0.96) - percentile(histogram, total, 0.04);
  }

  private describe(found: Region[], planes: Planes, changedFraction: number): MotionResult {
    const { width, height, regions } = planes;
    let area = 0;
    let difference = 0;
    for (const region of found) {
      area += region.area;
      difference += region.difference;
    }
    if (found.length === 0 || area < this.minArea * regions.unmasked) return quietResult(false, changedFraction);
    const boxes: MotionBox[] = found.map((r) => ({
      x: r.minX / width,
      y: r.minY / height,
      width: (r.maxX - r.minX + 1) / width,
      height: (r.maxY - r.minY + 1) / height,
    }));
    const zones = regions.zones.filter((zone) => found.some((r) => regions.zonePixelsIn(zone, r.minX, r.minY, r.maxX, r.maxY) > 0)).map((zone) => zone.name);
    return { motion: true, boxes, changedFraction, zones, calibrating: false, score: difference / area / 255 };
  }
}

function numberIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${field} ${JSON.stringify(value)} is invalid: expected a number from ${min} to ${max}`);
  }
  return value;
}
