import type { GreyFrame } from '../../core/frames/grey';
import type { DetectorReset } from '../../core/motion/detector';
import { TamperDetector, type TamperEvent } from '../../core/motion/tamper';

const W = 160;
const H = 96;

/** Broad shapes with fine grain on them; `seed` picks another part of the world, as a moved camera sees. */
function texture(seed: number): Uint8Array {
  let state = seed;
  return Uint8Array.from({ length: W * H }, (_, i) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const x = i % W;
    const y = (i - x) / W;
    return 125 + 60 * Math.sin(x / 11 + seed * 2) * Math.cos(y / 9 - seed) + ((state % 61) - 30);
  });
}

/** A 7x7 box blur: what an out-of-focus lens does to fine grain. */
function defocus(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let sum = 0;
      let n = 0;
      for (let dy = -3; dy <= 3; dy++) {
        for (let dx = -3; dx <= 3; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
          sum += src[yy * W + xx];
          n++;
        }
      }
      out[y * W + x] = sum / n;
    }
  }
  return out;
}

const view = texture(1);
const elsewhere = texture(2);
const blurred = defocus(view);
const dark = new Uint8Array(W * H).map((_, i) => 12 + (i % 3));
const brighter = view.map((v) => (v * 1.3 > 255 ? 255 : v * 1.3));

/** Feeds `data` at 10 fps from `fromMs` to before `toMs`; returns what the detector reported. */
function feed(detector: TamperDetector, data: Uint8Array, fromMs: number, toMs: number, width = W, height = H): TamperEvent[] {
  const events: TamperEvent[] = [];
  for (let t = fromMs; t < toMs; t += 100) events.push(...detector.update({ width, height, data, timestamp: t, sequence: t / 100 }));
  return events;
}

function summary(events: TamperEvent[]): string[] {
  return events.map((e) => `${e.kind} ${e.phase} @${e.timestamp} since ${e.startedAt}`);
}

const options = { coveredAfterMs: 1000, movedAfterMs: 2000, defocusedAfterMs: 2000, clearAfterMs: 500, learnMs: 1000 };

describe('tamper detection', () => {
  test('covered: a flat picture for coveredAfterMs starts it, dated from when it went flat; the view back ends it', () => {
    const detector = new TamperDetector(options);
    feed(detector, view, 0, 2000);
    expect(summary(feed(detector, dark, 2000, 3500))).toEqual(['covered start @3000 since 2000']);
    expect(detector.active()).toEqual(['covered']);
    expect(summary(feed(detector, view, 3500, 4500))).toEqual(['covered end @4000 since 2000']);
    expect(detector.active()).toEqual([]);
  });

  test('moved: another view that stays starts it, from when it settled; the old view back ends it', () => {
    const detector = new TamperDetector(options);
    feed(detector, view, 0, 2000);
    expect(summary(feed(detector, elsewhere, 2000, 5000))).toEqual(['moved start @4100 since 2100']);
    expect(summary(feed(detector, view, 5000, 6000))).toEqual(['moved end @5500 since 2100']);
  });

  test('moved: a view kept for relearnAfterMs becomes the expected one', () => {
    const detector = new TamperDetector({ ...options, relearnAfterMs: 3000 });
    feed(detector, view, 0, 2000);
    expect(summary(feed(detector, elsewhere, 2000, 8000))).toEqual(['moved start @4100 since 2100', 'moved end @5100 since 2100']);
    expect(detector.active()).toEqual([]);
  });

  test('defocused: fine detail gone against the learnt baseline', () => {
    const detector = new TamperDetector(options);
    feed(detector, view, 0, 2000);
    const events = feed(detector, blurred, 2000, 4500);
    expect(summary(events)).toEqual(['defocused start @4000 since 2000']);
    expect(events[0].value).toBeLessThan(0.4);
  });

  test('a brighter picture is none of them', () => {
    const detector = new TamperDetector(options);
    feed(detector, view, 0, 2000);
    expect(feed(detector, brighter, 2000, 8000)).toEqual([]);
  });

  test('nothing but covered is judged while the view is being learnt', () => {
    const detector = new TamperDetector({ ...options, learnMs: 5000 });
    feed(detector, view, 0, 1000);
    expect(feed(detector, elsewhere, 1000, 4000)).toEqual([]);
  });

  test('a frame of another size ends open events, starts over and reports it; malformed frames are skipped', () => {
    const resets: DetectorReset[] = [];
    const detector = new TamperDetector({ ...options, onReset: (reset) => resets.push(reset) });
    feed(detector, view, 0, 2000);
    feed(detector, dark, 2000, 3500);
    const small = new Uint8Array(80 * 48).fill(100);
    expect(summary(feed(detector, small, 3500, 3600, 80, 48))).toEqual(['covered end @3500 since 2000']);
    expect(resets).toEqual([{ reason: 'size', from: { width: W, height: H }, to: { width: 80, height: 48 } }]);
    const broken: GreyFrame = { width: W, height: H, data: new Uint8Array(3), timestamp: 4000, sequence: 40 };
    expect(() => detector.update(broken)).not.toThrow();
    expect(detector.update(broken)).toEqual([]);
  });

  test('refuses options out of range, naming them', () => {
    expect(() => new TamperDetector({ movedFraction: 1.5 })).toThrow('movedFraction 1.5 is invalid: expected a number above 0 and at most 1');
    expect(() => new TamperDetector({ coveredAfterMs: -5 })).toThrow('coveredAfterMs -5 is invalid');
  });
});
