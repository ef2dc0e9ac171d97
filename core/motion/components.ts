/** One connected region of changed pixels. */
export interface Region {
  /** Changed pixels in the region (before dilation). */
  area: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  /** Sum of the changed pixels' differences from the background. */
  difference: number;
}

/**
 * Connected regions of a bitmap (8-connected), by two-pass labelling with union-find. Buffers are sized once for
 * one picture size: a row holds at most width/2 new labels, since a new label needs an unset pixel to its left.
 */
export class RegionLabeller {
  private readonly labels: Int32Array;
  private readonly parent: Int32Array;
  private readonly final: Int32Array;
  private readonly area: Int32Array;
  private readonly minX: Int32Array;
  private readonly minY: Int32Array;
  private readonly maxX: Int32Array;
  private readonly maxY: Int32Array;
  private readonly difference: Float64Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    const most = Math.ceil(width / 2) * height + 2;
    this.labels = new Int32Array(width * height);
    this.parent = new Int32Array(most);
    this.final = new Int32Array(most);
    this.area = new Int32Array(most);
    this.minX = new Int32Array(most);
    this.minY = new Int32Array(most);
    this.maxX = new Int32Array(most);
    this.maxY = new Int32Array(most);
    this.difference = new Float64Array(most);
  }

  /**
   * Regions of `joined` (the dilated bitmap) with area, bounds and difference taken from `changed` (the bitmap
   * before dilation) and `diff`, so dilation joins fragments without inflating their size. Only regions of at
   * least `minArea` changed pixels are returned, largest first.
   */
  find(joined: Uint8Array, changed: Uint8Array, diff: Uint8Array, minArea: number): Region[] {
    const { width, height, labels, parent } = this;
    let next = 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        if (joined[i] === 0) {
          labels[i] = 0;
          continue;
        }
        let label = 0;
        // Already-visited neighbours: left, and the three above.
        if (x > 0) label = this.join(label, labels[i - 1]);
        if (y > 0) {
          const up = i - width;
          if (x > 0) label = this.join(label, labels[up - 1]);
          label = this.join(label, labels[up]);
          if (x < width - 1) label = this.join(label, labels[up + 1]);
        }
        if (label === 0) {
          label = next++;
          parent[label] = label;
        }
        labels[i] = label;
      }
    }
    const count = this.resolve(next);
    this.measure(changed, diff, count);
    const regions: Region[] = [];
    for (let r = 1; r <= count; r++) {
      if (this.area[r] < minArea || this.area[r] === 0) continue;
      regions.push({ area: this.area[r], minX: this.minX[r], minY: this.minY[r], maxX: this.maxX[r], maxY: this.maxY[r], difference: this.difference[r] });
    }
    return regions.sort((a, b) => b.area - a.area);
  }

  private root(label: number): number {
    const parent = this.parent;
    while (parent[label] !== label) {
      parent[label] = parent[parent[label]];
      label = parent[label];
    }
    return label;
  }

  /** Merges the sets of two labels (0 is none) and returns the label to use. */
  private join(label: number, other: number): number {
    if (other === 0) return label;
    if (label === 0) return other;
    const a = this.root(label);
    const b = this.root(other);
    if (a < b) {
      this.parent[b] = a;
      return a;
    }
    this.parent[a] = b;
    return b;
  }

  /** Numbers the sets 1..count and points every provisional label at its set's number. */
  private resolve(next: number): number {
    let count = 0;
    for (let label = 1; label < next; label++) {
      const root = this.root(label);
      this.final[label] = root === label ? ++count : this.final[root];
    }
    return count;
  }

  private measure(changed: Uint8Array, diff: Uint8Array, count: number): void {
    const { width, labels, final } = this;
    this.area.fill(0, 0, count + 1);
    this.difference.fill(0, 0, count + 1);
    this.minX.fill(width, 0, count + 1);
    this.minY.fill(this.height, 0, count + 1);
    this.maxX.fill(-1, 0, count + 1);
    this.maxY.fill(-1, 0, count + 1);
    for (let i = 0; i < labels.length; i++) {
      if (changed[i] === 0 || labels[i] === 0) continue;
      const r = final[labels[i]];
      const x = i % width;
      const y = (i - x) / width;
      this.area[r]++;
      this.difference[r] += diff[i];
      if (x < this.minX[r]) this.minX[r] = x;
      if (x > this.maxX[r]) this.maxX[r] = x;
      if (y < this.minY[r]) this.minY[r] = y;
      if (y > this.maxY[r]) this.maxY[r] = y;
    }
  }
}
