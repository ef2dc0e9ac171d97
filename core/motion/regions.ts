import { ZONE_NAME_PATTERN } from '../ids';

/**
 * Masks (areas motion ignores: a clock overlay, a road, a tree) and zones (named areas motion is reported in)
 * as polygons in normalised coordinates, so one configuration fits every stream size of a camera.
 */

/** `[x, y]`, each 0..1 from the left and top edges. */
export type Point = readonly [number, number];
export type Polygon = readonly Point[];

export interface ZoneConfig {
  name: string;
  points: Polygon;
}

export interface RegionConfig {
  masks?: readonly Polygon[];
  zones?: readonly ZoneConfig[];
}

export interface CheckedRegions {
  masks: Polygon[];
  zones: ZoneConfig[];
}

/**
 * Checks masks and zones; errors count polygons and points from 1 as a person reading the config would, e.g.
 * `mask 2 point 3: x=1.4 is outside 0..1`.
 */
export function checkRegions(config: RegionConfig = {}): CheckedRegions {
  const masks = listOf(config.masks, 'masks').map((polygon, i) => checkPolygon(polygon, `mask ${i + 1}`));
  const seen = new Map<string, number>();
  const zones = listOf(config.zones, 'zones').map((zone, i) => {
    const { name, points } = (zone ?? {}) as Partial<ZoneConfig>;
    if (typeof name !== 'string' || !ZONE_NAME_PATTERN.test(name)) {
      throw new Error(
        `zone ${i + 1} name ${JSON.stringify(name)} is invalid: expected 1-64 characters of a-z, 0-9, "_" or "-", starting with a letter or digit`,
      );
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) throw new Error(`zone ${i + 1} name "${name}" is already used by zone ${earlier}: names must be unique`);
    seen.set(name, i + 1);
    return { name, points: checkPolygon(points, `zone "${name}"`) };
  });
  return { masks, zones };
}

function listOf<T>(value: readonly T[] | undefined, field: string): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${field} is invalid: expected a list`);
  return value;
}

function checkPolygon(polygon: unknown, label: string): Polygon {
  if (!Array.isArray(polygon)) throw new Error(`${label} is invalid: expected a list of [x, y] points`);
  if (polygon.length < 3) throw new Error(`${label} has ${polygon.length} point${polygon.length === 1 ? '' : 's'}: expected at least 3`);
  return polygon.map((point: unknown, i): Point => {
    const where = `${label} point ${i + 1}`;
    if (!Array.isArray(point) || point.length !== 2 || typeof point[0] !== 'number' || typeof point[1] !== 'number') {
      throw new Error(`${where}: expected [x, y] with two numbers, got ${JSON.stringify(point)}`);
    }
    const [x, y] = point as [number, number];
    for (const [axis, value] of [
      ['x', x],
      ['y', y],
    ] as const) {
      if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${where}: ${axis}=${value} is outside 0..1`);
    }
    return [x, y];
  });
}

/**
 * Marks with 1 the pixels whose centres lie inside any of the polygons (even-odd rule within each polygon, so a
 * self-crossing outline leaves its doubly wound parts open), leaving the others as they are.
 */
export function fillPolygons(polygons: readonly Polygon[], width: number, height: number, into = new Uint8Array(width * height)): Uint8Array {
  const crossings: number[] = [];
  for (const polygon of polygons) {
    const xs = polygon.map(([x]) => x * width);
    const ys = polygon.map(([, y]) => y * height);
    for (let row = 0; row < height; row++) {
      const cy = row + 0.5;
      crossings.length = 0;
      for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) {
        // Half-open in y, so a vertex on the scan line is counted once, by one of its two edges.
        if (ys[i] <= cy !== ys[j] <= cy) crossings.push(xs[i] + ((cy - ys[i]) * (xs[j] - xs[i])) / (ys[j] - ys[i]));
      }
      crossings.sort((a, b) => a - b);
      for (let k = 0; k + 1 < crossings.length; k += 2) {
        const from = Math.max(0, Math.ceil(crossings[k] - 0.5));
        const to = Math.min(width, Math.ceil(crossings[k + 1] - 0.5));
        if (to > from) into.fill(1, row * width + from, row * width + to);
      }
    }
  }
  return into;
}

/** A zone rasterised for one picture size, with a summed-area table to test a box against it in constant time. */
export interface ZoneMap {
  name: string;
  bitmap: Uint8Array;
  /** (width + 1) x (height + 1) running sums of the bitmap. */
  sums: Int32Array;
}

/** Masks and zones rasterised for one picture size; made once per size, not per frame. */
export class RegionMaps {
  /** 1 where motion is ignored; null when there is no mask. */
  readonly mask: Uint8Array | null;
  /** Pixels outside every mask. */
  readonly unmasked: number;
  readonly zones: ZoneMap[];

  constructor(
    regions: CheckedRegions,
    readonly width: number,
    readonly height: number,
  ) {
    this.mask = regions.masks.length > 0 ? fillPolygons(regions.masks, width, height) : null;
    let masked = 0;
    if (this.mask !== null) for (let i = 0; i < this.mask.length; i++) masked += this.mask[i];
    this.unmasked = width * height - masked;
    this.zones = regions.zones.map(({ name, points }) => {
      const bitmap = fillPolygons([points], width, height);
      return { name, bitmap, sums: summedArea(bitmap, width, height) };
    });
  }

  /** Pixels of the zone inside the box from (x0, y0) to (x1, y1), both corners included. */
  zonePixelsIn(zone: ZoneMap, x0: number, y0: number, x1: number, y1: number): number {
    const stride = this.width + 1;
    const { sums } = zone;
    return sums[(y1 + 1) * stride + x1 + 1] - sums[y0 * stride + x1 + 1] - sums[(y1 + 1) * stride + x0] + sums[y0 * stride + x0];
  }
}

function summedArea(bitmap: Uint8Array, width: number, height: number): Int32Array {
  const stride = width + 1;
  const sums = new Int32Array(stride * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += bitmap[y * width + x];
      sums[(y + 1) * stride + x + 1] = sums[y * stride + x + 1] + row;
    }
  }
  return sums;
}
