import sharp from 'sharp';

/**
 * Blank-frame detection: a camera with its lens capped, its IR cut filter stuck, a dead sensor or a "no signal"
 * screen still delivers valid JPEGs, and those should not reach motion detection, archives or AI descriptions.
 */
export type BlankReason = 'blank_black' | 'blank_white' | 'blank_flat';

export interface BlankThresholds {
  /** Grey levels (0-255) at or below this count as black. */
  blackLevel: number;
  /** Grey levels (0-255) at or above this count as white. */
  whiteLevel: number;
  /** Share of pixels (0-1) that must be black, or white, for the frame to be called black, or white. */
  minShare: number;
  /** A standard deviation of grey levels below this means one flat colour (a grey or blue "no signal" screen). */
  flatStddev: number;
}

export const DEFAULT_BLANK_THRESHOLDS: BlankThresholds = { blackLevel: 24, whiteLevel: 232, minShare: 0.98, flatStddev: 3 };

/**
 * Small enough that JPEG shrink-on-load makes the decode cheap, large enough that a lit window or a clock in an
 * otherwise dark frame still holds more than 2 % of the pixels.
 */
const THUMBNAIL = 32;

/** The thresholds with defaults for those not given (other keys of `value` are not looked at). */
export function validateBlankThresholds(value: Partial<BlankThresholds>, field: string): BlankThresholds {
  const defaults = DEFAULT_BLANK_THRESHOLDS;
  const merged: BlankThresholds = {
    blackLevel: value.blackLevel ?? defaults.blackLevel,
    whiteLevel: value.whiteLevel ?? defaults.whiteLevel,
    minShare: value.minShare ?? defaults.minShare,
    flatStddev: value.flatStddev ?? defaults.flatStddev,
  };
  const levels: (keyof BlankThresholds)[] = ['blackLevel', 'whiteLevel', 'flatStddev'];
  for (const key of levels) {
    const level = merged[key];
    if (typeof level !== 'number' || !Number.isFinite(level) || level < 0 || level > 255) {
      throw new Error(`${field}.${key} ${JSON.stringify(level)} is invalid: expected a grey level from 0 to 255`);
    }
  }
  if (typeof merged.minShare !== 'number' || !(merged.minShare > 0 && merged.minShare <= 1)) {
    throw new Error(`${field}.minShare ${JSON.stringify(merged.minShare)} is invalid: expected a share above 0 and at most 1`);
  }
  if (merged.blackLevel >= merged.whiteLevel) {
    throw new Error(`${field}.blackLevel (${merged.blackLevel}) must be below ${field}.whiteLevel (${merged.whiteLevel})`);
  }
  return merged;
}

/** A region in pixels, as for sharp's extract. */
export interface PixelRegion {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Why the frame (or the region of it that will be kept) is blank, or null when it shows something. Works on
 * the raw grey pixels of a thumbnail rather than sharp's stats(), because "nearly all black" is a share of
 * pixels, which a mean cannot tell apart from a dark scene with a few bright spots.
 */
export async function detectBlank(jpeg: Buffer, thresholds: BlankThresholds, region?: PixelRegion): Promise<BlankReason | null> {
  let pipeline = sharp(jpeg, { failOn: 'error' });
  if (region) pipeline = pipeline.extract(region);
  const grey = await pipeline.resize(THUMBNAIL, THUMBNAIL, { fit: 'fill' }).greyscale().raw().toBuffer();
  let black = 0;
  let white = 0;
  let sum = 0;
  let sumSquares = 0;
  for (const level of grey) {
    if (level <= thresholds.blackLevel) black += 1;
    if (level >= thresholds.whiteLevel) white += 1;
    sum += level;
    sumSquares += level * level;
  }
  const count = grey.length;
  if (black >= thresholds.minShare * count) return 'blank_black';
  if (white >= thresholds.minShare * count) return 'blank_white';
  const mean = sum / count;
  const stddev = Math.sqrt(Math.max(0, sumSquares / count - mean * mean));
  return stddev < thresholds.flatStddev ? 'blank_flat' : null;
}
