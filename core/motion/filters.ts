/**
 * Small fixed-size filters on typed arrays, written out by hand: at 100-180 rows a frame is 20-60 thousand
 * pixels, and a call into a general image library costs more than the work itself. Edges repeat their pixels.
 * Per-pixel loops here and in the detectors avoid Math.* calls: inside a vm sandbox (jest) each one is a call
 * into another context that V8 cannot inline, which made a frame twenty times slower.
 */

/** The 3x3 binomial blur ([1 2 1] / 4 across, then down): takes the edge off sensor noise and JPEG blocking. */
export function blur3(src: Uint8Array, dst: Uint8Array, across: Uint16Array, width: number, height: number): void {
  for (let y = 0; y < height; y++) {
    const row = y * width;
    across[row] = 3 * src[row] + src[row + 1];
    for (let x = 1; x < width - 1; x++) across[row + x] = src[row + x - 1] + 2 * src[row + x] + src[row + x + 1];
    across[row + width - 1] = src[row + width - 2] + 3 * src[row + width - 1];
  }
  for (let y = 0; y < height; y++) {
    const above = (y > 0 ? y - 1 : 0) * width;
    const row = y * width;
    const below = (y < height - 1 ? y + 1 : y) * width;
    for (let x = 0; x < width; x++) dst[row + x] = (across[above + x] + 2 * across[row + x] + across[below + x] + 8) >> 4;
  }
}

/** 3x3 dilation of a 0/1 bitmap: joins the fragments one moving thing leaves after thresholding. Returns the set pixels. */
export function dilate3(src: Uint8Array, dst: Uint8Array, across: Uint8Array, width: number, height: number): number {
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const last = row + width - 1;
    across[row] = src[row] | src[row + 1];
    for (let i = row + 1; i < last; i++) across[i] = src[i - 1] | src[i] | src[i + 1];
    across[last] = src[last - 1] | src[last];
  }
  let count = 0;
  for (let y = 0; y < height; y++) {
    const above = (y > 0 ? y - 1 : 0) * width;
    const row = y * width;
    const below = (y < height - 1 ? y + 1 : y) * width;
    for (let x = 0; x < width; x++) {
      const set = across[above + x] | across[row + x] | across[below + x];
      dst[row + x] = set;
      count += set;
    }
  }
  return count;
}

/** The value below which `fraction` of a histogram's count lies. */
export function percentile(histogram: Uint32Array, total: number, fraction: number): number {
  const target = total * fraction;
  let seen = 0;
  for (let value = 0; value < histogram.length; value++) {
    seen += histogram[value];
    if (seen > target) return value;
  }
  return histogram.length - 1;
}

const LOG_BINS = 256;
/** Bins per doubling of brightness: steps of about 2 %. */
const BINS_PER_OCTAVE = 32;
const SAMPLE_STEP = 4;
const LOG2 = Float32Array.from({ length: 256 }, (_, v) => Math.log2(Math.max(v, 0.5)));

/**
 * The picture's overall brightness relative to the background, as one factor: the median of the per-pixel ratios.
 * Exposure and lighting changes scale every pixel by about the same factor (in gamma-encoded values too, since a
 * power law keeps ratios), while a moving thing changes only its own pixels, so the median ignores anything up
 * to half the picture. Returns 1 when too few pixels are usable (a nearly black or saturated picture).
 */
export class BrightnessRatio {
  private readonly histogram = new Uint32Array(LOG_BINS);

  estimate(frame: Uint8Array, background: Float32Array, mask: Uint8Array | null, usableAtLeast: number): number {
    const histogram = this.histogram;
    histogram.fill(0);
    let used = 0;
    // Every fourth pixel is plenty for a median, and a quarter of the work.
    for (let i = 0; i < frame.length; i += SAMPLE_STEP) {
      const value = frame[i];
      const learnt = background[i];
      // Dark pixels are mostly noise and clipped ones have lost their ratio.
      if ((mask !== null && mask[i] === 1) || learnt < 16 || learnt > 250 || value > 250 || value < 4) continue;
      const bin = ((LOG2[value] - LOG2[(learnt + 0.5) | 0]) * BINS_PER_OCTAVE + LOG_BINS / 2 + 0.5) | 0;
      histogram[bin < 0 ? 0 : bin >= LOG_BINS ? LOG_BINS - 1 : bin]++;
      used++;
    }
    usableAtLeast /= SAMPLE_STEP;
    if (used < usableAtLeast) return 1;
    return 2 ** ((percentile(histogram, used, 0.5) - LOG_BINS / 2) / BINS_PER_OCTAVE);
  }
}
