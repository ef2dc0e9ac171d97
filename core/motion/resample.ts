/** A grey picture with fractional levels, as averaging leaves it. */
export interface FloatPlane {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * Shrinks grey pictures of one size to a smaller one by averaging: each output pixel is the mean of the input
 * pixels that map onto it, every input pixel going to exactly one output pixel. Averaging (rather than picking
 * pixels) is what takes sensor noise out; tables and the output are made once for the pair of sizes.
 */
export class Downscaler {
  readonly output: FloatPlane;
  private readonly column: Int32Array;
  private readonly row: Int32Array;
  private readonly weight: Float32Array;

  constructor(
    readonly fromWidth: number,
    readonly fromHeight: number,
    toWidth: number,
    toHeight: number,
  ) {
    const width = Math.max(1, Math.min(fromWidth, toWidth));
    const height = Math.max(1, Math.min(fromHeight, toHeight));
    this.output = { width, height, data: new Float32Array(width * height) };
    this.column = Int32Array.from({ length: fromWidth }, (_, x) => Math.floor((x * width) / fromWidth));
    this.row = Int32Array.from({ length: fromHeight }, (_, y) => Math.floor((y * height) / fromHeight));
    const perColumn = new Int32Array(width);
    const perRow = new Int32Array(height);
    for (const c of this.column) perColumn[c]++;
    for (const r of this.row) perRow[r]++;
    this.weight = Float32Array.from({ length: width * height }, (_, i) => 1 / (perColumn[i % width] * perRow[Math.floor(i / width)]));
  }

  /** Shrinks `src` (fromWidth x fromHeight) into `output`, which is overwritten by the next call. */
  apply(src: Uint8Array): FloatPlane {
    const { data, width } = this.output;
    const { column, row, weight, fromWidth, fromHeight } = this;
    data.fill(0);
    for (let y = 0; y < fromHeight; y++) {
      const out = row[y] * width;
      const at = y * fromWidth;
      for (let x = 0; x < fromWidth; x++) data[out + column[x]] += src[at + x];
    }
    for (let i = 0; i < data.length; i++) data[i] *= weight[i];
    return this.output;
  }
}
