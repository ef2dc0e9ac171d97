/**
 * Structural similarity (Wang, Bovik, Sheikh, Simoncelli: "Image quality assessment: from error visibility to
 * structural similarity", IEEE TIP 13(4), 2004) over square windows at every position, with uniform weights and
 * the paper's constants for 8-bit pictures: C1 = (0.01 * 255)², C2 = (0.03 * 255)².
 */
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;
/** The window side: 8, as in the paper's block-based variant. */
export const SSIM_WINDOW = 8;

/** SSIM of one window from its sums, with the paper's unbiased (N - 1) variance and covariance (eq. 14-16). */
export function windowSsim(n: number, sumA: number, sumB: number, sumAA: number, sumBB: number, sumAB: number): number {
  const meanA = sumA / n;
  const meanB = sumB / n;
  const scale = n > 1 ? 1 / (n - 1) : 0;
  // Rounding can leave a flat window's variance a hair below zero.
  const rawA = (sumAA - n * meanA * meanA) * scale;
  const rawB = (sumBB - n * meanB * meanB) * scale;
  const varA = rawA > 0 ? rawA : 0;
  const varB = rawB > 0 ? rawB : 0;
  const cov = (sumAB - n * meanA * meanB) * scale;
  return ((2 * meanA * meanB + C1) * (2 * cov + C2)) / ((meanA * meanA + meanB * meanB + C1) * (varA + varB + C2));
}

/**
 * Running sums (integral images) of two pictures, their squares and product, and of a mask, so the SSIM of a
 * window at any position costs a few lookups. Buffers are made once per picture size.
 */
export class SsimWindows {
  readonly window: number;
  private readonly stride: number;
  private readonly sums: Float64Array[];

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.window = Math.max(1, Math.min(SSIM_WINDOW, width, height));
    this.stride = width + 1;
    this.sums = Array.from({ length: 6 }, () => new Float64Array(this.stride * (height + 1)));
  }

  /** Loads two pictures of this size; `ignore` marks pixels (1) that windows must not include. */
  load(a: Float32Array | Uint8Array, b: Float32Array | Uint8Array, ignore: Uint8Array | null): void {
    const { width, height, stride } = this;
    const [sa, sb, saa, sbb, sab, sm] = this.sums;
    for (let y = 0; y < height; y++) {
      let ra = 0,
        rb = 0,
        raa = 0,
        rbb = 0,
        rab = 0,
        rm = 0;
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const va = a[i];
        const vb = b[i];
        ra += va;
        rb += vb;
        raa += va * va;
        rbb += vb * vb;
        rab += va * vb;
        rm += ignore === null ? 0 : ignore[i];
        const at = (y + 1) * stride + x + 1;
        const up = y * stride + x + 1;
        sa[at] = sa[up] + ra;
        sb[at] = sb[up] + rb;
        saa[at] = saa[up] + raa;
        sbb[at] = sbb[up] + rbb;
        sab[at] = sab[up] + rab;
        sm[at] = sm[up] + rm;
      }
    }
  }

  /** Positions windows can take: (width - window + 1) x (height - window + 1). */
  get columns(): number {
    return this.width - this.window + 1;
  }

  get rows(): number {
    return this.height - this.window + 1;
  }

  /** SSIM of the window whose top-left pixel is (x, y), or NaN when it includes an ignored pixel. */
  at(x: number, y: number): number {
    const { stride, window } = this;
    const top = y * stride + x;
    const bottom = (y + window) * stride + x;
    const total = (s: Float64Array): number => s[bottom + window] - s[bottom] - s[top + window] + s[top];
    const [sa, sb, saa, sbb, sab, sm] = this.sums;
    if (total(sm) > 0) return Number.NaN;
    return windowSsim(window * window, total(sa), total(sb), total(saa), total(sbb), total(sab));
  }
}
