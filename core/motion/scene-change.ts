import type { GreyFrame } from '../frames/grey';
import { silentLogger, type Logger } from '../log/logger';
import { frameProblem } from './detector';
import { motionMetrics } from './motion-metrics';
import { checkRegions, RegionMaps, type CheckedRegions, type RegionConfig } from './regions';
import { Downscaler } from './resample';
import { SsimWindows } from './ssim';

export interface SceneChangeOptions extends RegionConfig {
  /** 1 - SSIM at or above which the picture, or a zone, has changed; default 0.02. */
  threshold?: number;
  /** Rows pictures are compared at, larger ones being shrunk by averaging; default 100. */
  workingHeight?: number;
  camera?: string;
  logger?: Logger;
}

export interface ZoneSimilarity {
  name: string;
  /** Mean SSIM of the unmasked windows centred in the zone; 1 when it has none. */
  ssim: number;
  changed: boolean;
}

export interface SceneChangeResult {
  changed: boolean;
  /** first: nothing to compare with yet; size: the picture's shape changed; content: it differs enough. */
  reason: 'first' | 'size' | 'content' | null;
  /** Mean SSIM of the unmasked windows against the last kept picture, 1 for identical. */
  ssim: number;
  /** 1 - ssim. */
  difference: number;
  zones: ZoneSimilarity[];
  /** Names of the changed zones, in configuration order. */
  changedZones: string[];
}

interface Working {
  width: number;
  height: number;
  scaler: Downscaler;
  windows: SsimWindows;
  regions: RegionMaps;
  kept: Float32Array;
  zoneSums: Float64Array;
  zoneCounts: Int32Array;
}

/**
 * Change between periodic snapshots (web pages, dashboards, slow cameras): SSIM between the new picture and the
 * last one KEPT, which is replaced only when a change is reported, so a slow drift adds up until it counts
 * rather than hiding in many small steps. Masked pixels are left out of every window; a zone changes when the
 * windows centred in it differ enough on their own, so a small panel is as sensitive as the whole page.
 */
export class SceneChangeDetector {
  private readonly regions: CheckedRegions;
  private readonly threshold: number;
  private readonly workingHeight: number;
  private readonly camera: string;
  private readonly log: Logger;
  private working: Working | null = null;
  private hasKept = false;

  constructor(options: SceneChangeOptions = {}) {
    this.regions = checkRegions(options);
    const { threshold = 0.02, workingHeight = 100 } = options;
    if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1))
      throw new Error(`threshold ${JSON.stringify(threshold)} is invalid: expected 1 - SSIM above 0 and at most 1`);
    if (!Number.isInteger(workingHeight) || workingHeight < 16 || workingHeight > 1080)
      throw new Error(`workingHeight ${JSON.stringify(workingHeight)} is invalid: expected a whole number of rows from 16 to 1080`);
    this.threshold = threshold;
    this.workingHeight = workingHeight;
    this.camera = options.camera ?? '';
    this.log = options.logger ?? silentLogger;
  }

  /** Never throws: a frame it cannot use is reported unchanged and not kept. */
  compare(frame: GreyFrame): SceneChangeResult {
    const problem = frameProblem(frame);
    if (problem !== null) {
      this.log.warn({ camera: this.camera, sequence: frame.sequence }, `scene change skipped a frame: ${problem}`);
      return this.result(false, null, 1, []);
    }
    const working = this.workingFor(frame.width, frame.height);
    const picture = working.scaler.apply(frame.data).data;
    if (!this.hasKept || working !== this.working) {
      const reason = this.hasKept ? 'size' : 'first';
      this.working = working;
      this.keep(working, picture);
      const resized = reason === 'size';
      if (resized) motionMetrics.sceneChangesTotal.inc({ camera: this.camera });
      // Pictures of two shapes cannot be compared: a new shape counts as a change everywhere.
      return this.result(
        resized,
        reason,
        resized ? 0 : 1,
        working.regions.zones.map(({ name }) => ({ name, ssim: resized ? 0 : 1, changed: resized })),
      );
    }
    const ssim = this.similarity(working, picture);
    const zones = working.regions.zones.map(({ name }, z) => {
      const zoneSsim = working.zoneCounts[z] > 0 ? working.zoneSums[z] / working.zoneCounts[z] : 1;
      return { name, ssim: zoneSsim, changed: 1 - zoneSsim >= this.threshold };
    });
    const changed = 1 - ssim >= this.threshold || zones.some((zone) => zone.changed);
    if (changed) {
      this.keep(working, picture);
      motionMetrics.sceneChangesTotal.inc({ camera: this.camera });
    }
    return this.result(changed, changed ? 'content' : null, ssim, zones);
  }

  /** Forgets the kept picture: the next frame is compared with nothing and kept. */
  reset(): void {
    this.hasKept = false;
  }

  private result(changed: boolean, reason: SceneChangeResult['reason'], ssim: number, zones: ZoneSimilarity[]): SceneChangeResult {
    return { changed, reason, ssim, difference: 1 - ssim, zones, changedZones: zones.filter((z) => z.changed).map((z) => z.name) };
  }

  private keep(working: Working, picture: Float32Array): void {
    working.kept.set(picture);
    this.hasKept = true;
  }

  /** Mean SSIM over the windows free of masked pixels, with each zone's share added up as it goes. */
  private similarity(working: Working, picture: Float32Array): number {
    const { windows, regions, zoneSums, zoneCounts, width } = working;
    windows.load(working.kept, picture, regions.mask);
    zoneSums.fill(0);
    zoneCounts.fill(0);
    const centre = windows.window >> 1;
    let sum = 0;
    let count = 0;
    for (let y = 0; y < windows.rows; y++) {
      for (let x = 0; x < windows.columns; x++) {
        const value = windows.at(x, y);
        if (Number.isNaN(value)) continue;
        sum += value;
        count++;
        const at = (y + centre) * width + x + centre;
        for (let z = 0; z < regions.zones.length; z++) {
          if (regions.zones[z].bitmap[at] === 0) continue;
          zoneSums[z] += value;
          zoneCounts[z]++;
        }
      }
    }
    return count === 0 ? 1 : sum / count;
  }

  private workingFor(width: number, height: number): Working {
    const current = this.working;
    if (current !== null && current.scaler.fromWidth === width && current.scaler.fromHeight === height) return current;
    const rows = Math.min(height, this.workingHeight);
    const scaler = new Downscaler(width, height, Math.max(1, Math.round((width * rows) / height)), rows);
    const { width: w, height: h } = scaler.output;
    const zones = this.regions.zones.length;
    return {
      width: w,
      height: h,
      scaler,
      windows: new SsimWindows(w, h),
      regions: new RegionMaps(this.regions, w, h),
      kept: new Float32Array(w * h),
      zoneSums: new Float64Array(zones),
      zoneCounts: new Int32Array(zones),
    };
  }
}
