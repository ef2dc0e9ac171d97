import type { FloatPlane } from './resample';

/**
 * What the tamper detector measures on each grey frame, on copies shrunk by averaging (core/motion/resample.ts):
 * shrinking averages sensor noise away, so the measures describe the scene rather than the sensor, and costs little.
 */

/** Rows of the shrunken copy the view comparison works on; blocks of BLOCK x BLOCK of its pixels are compared. */
const VIEW_ROWS = 48;
const DETAIL_ROWS = 120;
const BLOCK = 6;
/** A block with less spread than this (grey levels) has no structure to compare. */
const FLAT_BLOCK = 2.5;
/** Blocks correlating less than this with the reference show something else. */
const MATCHING_CORRELATION = 0.5;

/** Standard deviation of the grey levels: near 0 for a covered or blacked-out lens. */
export function deviation(data: Uint8Array): number {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    sum += v;
    squares += v * v;
  }
  const mean = sum / data.length;
  return Math.sqrt(Math.max(0, squares / data.length - mean * mean));
}

/**
 * Sharpness as the variance of the Laplacian over the variance of the picture. Dividing by the picture's own
 * variance makes it ignore brightness and exposure (both scale together), so what is left is how much of the
 * picture's contrast sits in fine detail, which defocus takes away.
 */
export function sharpness(picture: FloatPlane): number {
  const { width: w, height: h, data } = picture;
  let sum = 0;
  let squares = 0;
  let lapSum = 0;
  let lapSquares = 0;
  let n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const v = data[i];
      const lap = data[i - 1] + data[i + 1] + data[i - w] + data[i + w] - 4 * v;
      sum += v;
      squares += v * v;
      lapSum += lap;
      lapSquares += lap * lap;
      n++;
    }
  }
  if (n === 0) return 0;
  const variance = squares / n - (sum / n) ** 2;
  const lapVariance = lapSquares / n - (lapSum / n) ** 2;
  return variance < 1 ? 0 : lapVariance / variance;
}

/**
 * The size sharpness is measured at: at most DETAIL_ROWS rows. Measured on the ground-truth clips, a lens
 * defocus of a few pixels of the camera's picture leaves about a fifth of the sharpness at 100, 120 and 180 rows
 * when planes are first shrunk to 120 rows; finer, compression blocking makes the measure jump between key and
 * other frames, and coarser, a small defocus falls below a pixel and disappears.
 */
export function detailSize(width: number, height: number): { width: number; height: number } {
  if (height <= DETAIL_ROWS) return { width, height };
  return { width: Math.max(1, Math.round((width * DETAIL_ROWS) / height)), height: DETAIL_ROWS };
}

/** The size views are compared at: about VIEW_ROWS rows, shrunk by a whole factor so each pixel averages alike. */
export function viewSize(width: number, height: number): { width: number; height: number } {
  const factor = Math.max(1, Math.floor(height / VIEW_ROWS));
  return { width: Math.floor(width / factor), height: Math.floor(height / factor) };
}

/**
 * The share of blocks whose structure differs between two views of the same size: blocks are compared by
 * normalised cross-correlation, which brightness and contrast changes leave alone, so a change of lighting is
 * not a moved camera. Blocks flat in both views say nothing and are left out; flat in one only, they differ.
 */
export function viewMismatch(a: FloatPlane, b: FloatPlane): number {
  const { width: w, height: h } = a;
  let compared = 0;
  let differing = 0;
  for (let by = 0; by + BLOCK <= h; by += BLOCK) {
    for (let bx = 0; bx + BLOCK <= w; bx += BLOCK) {
      let sa = 0,
        sb = 0,
        saa = 0,
        sbb = 0,
        sab = 0;
      for (let y = by; y < by + BLOCK; y++) {
        for (let x = bx; x < bx + BLOCK; x++) {
          const va = a.data[y * w + x];
          const vb = b.data[y * w + x];
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
        }
      }
      const n = BLOCK * BLOCK;
      const varA = saa / n - (sa / n) ** 2;
      const varB = sbb / n - (sb / n) ** 2;
      const flatA = varA < FLAT_BLOCK * FLAT_BLOCK;
      const flatB = varB < FLAT_BLOCK * FLAT_BLOCK;
      if (flatA && flatB) continue;
      compared++;
      if (flatA || flatB || (sab / n - (sa / n) * (sb / n)) / Math.sqrt(varA * varB) < MATCHING_CORRELATION) differing++;
    }
  }
  return compared === 0 ? 0 : differing / compared;
}
