import type { GreyFrame } from '../../core/frames/grey';
import { SceneChangeDetector } from '../../core/motion/scene-change';
import { SsimWindows, windowSsim } from '../../core/motion/ssim';

const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/** A reproducible textured picture: neighbouring pixels differ, as in any real scene. */
function texture(width: number, height: number, seed = 1): Uint8Array {
  let state = seed;
  return Uint8Array.from({ length: width * height }, () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return 40 + (state % 170);
  });
}

function frame(data: Uint8Array, width: number, height: number, timestamp = 0): GreyFrame {
  return { width, height, data, timestamp, sequence: timestamp };
}

/** Mean SSIM over every window, as SceneChangeDetector takes it. */
function meanSsim(a: Uint8Array, b: Uint8Array, width: number, height: number, ignore: Uint8Array | null = null): number {
  const windows = new SsimWindows(width, height);
  windows.load(a, b, ignore);
  let sum = 0;
  let count = 0;
  for (let y = 0; y < windows.rows; y++) {
    for (let x = 0; x < windows.columns; x++) {
      const value = windows.at(x, y);
      if (Number.isNaN(value)) continue;
      sum += value;
      count++;
    }
  }
  return sum / count;
}

describe('SSIM (Wang et al. 2004)', () => {
  test('identical pictures have an SSIM of exactly 1, flat ones included', () => {
    const picture = texture(32, 24);
    expect(meanSsim(picture, picture, 32, 24)).toBe(1);
    const flat = new Uint8Array(32 * 24).fill(77);
    expect(meanSsim(flat, flat, 32, 24)).toBe(1);
  });

  test('two flat windows differ by luminance only: (2 μa μb + C1) / (μa² + μb² + C1)', () => {
    const n = 64;
    expect(windowSsim(n, 100 * n, 110 * n, 100 * 100 * n, 110 * 110 * n, 100 * 110 * n)).toBeCloseTo((2 * 100 * 110 + C1) / (100 ** 2 + 110 ** 2 + C1), 12);
  });

  test('a pattern against its negative has negative structure: SSIM below 0', () => {
    // Half the window 0 and half 255, against the same with 0 and 255 swapped.
    const n = 64;
    const mean = 127.5;
    const variance = (n * 127.5 ** 2) / (n - 1);
    const expected = ((2 * mean * mean + C1) * (-2 * variance + C2)) / ((2 * mean * mean + C1) * (2 * variance + C2));
    const sumSquares = (n / 2) * 255 * 255;
    expect(windowSsim(n, mean * n, mean * n, sumSquares, sumSquares, 0)).toBeCloseTo(expected, 12);
    expect(expected).toBeLessThan(-0.99);
  });

  test('noise lowers SSIM by more the stronger it is', () => {
    const clean = texture(40, 40, 3);
    const noisy = (amount: number): Uint8Array => clean.map((v, i) => v + (((i * 7919) % 11) - 5) * amount);
    const weak = meanSsim(clean, noisy(1), 40, 40);
    const strong = meanSsim(clean, noisy(4), 40, 40);
    expect(weak).toBeLessThan(1);
    expect(strong).toBeLessThan(weak);
  });

  test('windows that include an ignored pixel are left out', () => {
    const a = texture(24, 24, 5);
    const b = Uint8Array.from(a);
    const ignore = new Uint8Array(24 * 24);
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 6; x++) {
        b[y * 24 + x] = 255 - b[y * 24 + x];
        ignore[y * 24 + x] = 1;
      }
    }
    expect(meanSsim(a, b, 24, 24)).toBeLessThan(0.99);
    expect(meanSsim(a, b, 24, 24, ignore)).toBe(1);
  });
});

describe('scene change between snapshots', () => {
  const W = 120;
  const H = 80;

  test('the first snapshot is kept, not a change; an identical one is no change', () => {
    const detector = new SceneChangeDetector();
    const picture = texture(W, H);
    expect(detector.compare(frame(picture, W, H))).toMatchObject({ changed: false, reason: 'first', ssim: 1 });
    expect(detector.compare(frame(Uint8Array.from(picture), W, H, 1))).toMatchObject({ changed: false, reason: null, ssim: 1, difference: 0 });
  });

  test('compares with the last kept snapshot, so a slow drift adds up until it counts', () => {
    const detector = new SceneChangeDetector({ threshold: 0.05 });
    const base = texture(W, H, 9);
    // Each step replaces another fifth of the columns with other content; any one step alone is small.
    const step = (k: number): Uint8Array => base.map((v, i) => (i % W < (k * W) / 20 ? 255 - v : v));
    detector.compare(frame(base, W, H));
    const results = [1, 2, 3, 4].map((k) => detector.compare(frame(step(k), W, H, k)));
    const firstChange = results.findIndex((r) => r.changed);
    expect(firstChange).toBeGreaterThan(0);
    // After a change the new picture is the one kept: the next small step is measured from it.
    const next = results[firstChange + 1];
    if (next !== undefined) expect(next.difference).toBeLessThan(results[firstChange].difference);
  });

  test('names the zone that changed, and a small change counts in its zone though not over the whole picture', () => {
    const zones = [
      {
        name: 'left',
        points: [
          [0, 0],
          [0.5, 0],
          [0.5, 1],
          [0, 1],
        ] as [number, number][],
      },
      {
        name: 'right',
        points: [
          [0.5, 0],
          [1, 0],
          [1, 1],
          [0.5, 1],
        ] as [number, number][],
      },
    ];
    const detector = new SceneChangeDetector({ zones, threshold: 0.04 });
    const base = texture(W, H, 4);
    detector.compare(frame(base, W, H));
    const changed = Uint8Array.from(base);
    for (let y = 35; y < 45; y++) for (let x = 80; x < 90; x++) changed[y * W + x] = 255 - base[y * W + x];
    const result = detector.compare(frame(changed, W, H, 1));
    expect(result.difference).toBeLessThan(0.04);
    expect(result).toMatchObject({ changed: true, reason: 'content', changedZones: ['right'] });
    expect(result.zones[0]).toEqual({ name: 'left', ssim: 1, changed: false });
  });

  test('masked areas are ignored', () => {
    const detector = new SceneChangeDetector({
      masks: [
        [
          [0.6, 0.3],
          [0.9, 0.3],
          [0.9, 0.7],
          [0.6, 0.7],
        ],
      ],
    });
    const base = texture(W, H, 6);
    detector.compare(frame(base, W, H));
    const blink = Uint8Array.from(base);
    for (let y = 30; y < 50; y++) for (let x = 80; x < 100; x++) blink[y * W + x] = 0;
    expect(detector.compare(frame(blink, W, H, 1))).toMatchObject({ changed: false, ssim: 1 });
  });

  test('large pictures are shrunk to the working height; a picture of another shape is a change', () => {
    const detector = new SceneChangeDetector({ workingHeight: 50 });
    const big = texture(400, 200, 2);
    detector.compare(frame(big, 400, 200));
    expect(detector.compare(frame(Uint8Array.from(big), 400, 200, 1)).ssim).toBe(1);
    expect(detector.compare(frame(texture(200, 200), 200, 200, 2))).toMatchObject({ changed: true, reason: 'size' });
  });

  test('a malformed frame is skipped without throwing, and keeps nothing', () => {
    const detector = new SceneChangeDetector();
    expect(detector.compare(frame(new Uint8Array(10), W, H))).toMatchObject({ changed: false, reason: null });
    expect(detector.compare(frame(texture(W, H), W, H))).toMatchObject({ reason: 'first' });
  });

  test('refuses a threshold outside (0, 1]', () => {
    expect(() => new SceneChangeDetector({ threshold: 0 })).toThrow('threshold 0 is invalid');
    expect(() => new SceneChangeDetector({ threshold: 1.5 })).toThrow('threshold 1.5 is invalid');
  });
});
