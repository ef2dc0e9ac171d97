import type { GreyFrame, GreyPlane } from '../../core/frames/grey';
import type { Logger } from '../../core/log/logger';
import type { DetectorReset, MotionResult } from '../../core/motion/detector';
import { VideoMotionDetector, type VideoMotionOptions } from '../../core/motion/video-motion';

const W = 160;
const H = 90;

/** A static textured scene (smooth blobs plus fine grain), the same for every frame. */
const scene = Uint8Array.from({ length: W * H }, (_, i) => {
  const x = i % W;
  const y = Math.floor(i / W);
  return Math.round(120 + 50 * Math.sin(x / 9) * Math.cos(y / 7) + 25 * Math.sin((x + 2 * y) / 3));
});

interface Square {
  x: number;
  y: number;
  size: number;
  level: number;
}

let sequence = 0;
/** The scene with sensor-like noise, optionally a square drawn on it and every pixel scaled by `gain`. */
function frame(square: Square | null = null, gain = 1, width = W, height = H): GreyFrame {
  sequence++;
  const data = new Uint8Array(width * height);
  // No Math.* per pixel: under jest each is a slow call into another context.
  for (let i = 0; i < data.length; i++) {
    const x = i % width;
    const y = (i - x) / width;
    const inside = square !== null && x >= square.x && x < square.x + square.size && y >= square.y && y < square.y + square.size;
    const value = (inside ? square.level : scene[(y % H) * W + (x % W)]) * gain + (((i * 31 + sequence * 17) % 7) - 3);
    data[i] = value < 0 ? 0 : value > 255 ? 255 : value + 0.5;
  }
  return { width, height, data, timestamp: sequence * 100, sequence };
}

/** Results for `count` frames made by `make(i)`. */
function run(detector: VideoMotionDetector, count: number, make: (i: number) => GreyFrame): MotionResult[] {
  return Array.from({ length: count }, (_, i) => detector.detect(make(i)));
}

function calibrated(options: VideoMotionOptions = {}): VideoMotionDetector {
  const detector = new VideoMotionDetector(options);
  run(detector, 12, () => frame());
  return detector;
}

describe('video motion detection', () => {
  test('learns the scene first: the first frames are calibrating and never motion, then a static scene is quiet', () => {
    const detector = new VideoMotionDetector({ calibrationFrames: 5 });
    const results = run(detector, 20, () => frame());
    expect(results.slice(0, 5).every((r) => r.calibrating && !r.motion)).toBe(true);
    expect(results.slice(6).every((r) => !r.calibrating && !r.motion && r.changedFraction === 0)).toBe(true);
  });

  test('a square moving across is motion, boxed where it is', () => {
    const detector = calibrated();
    const results = run(detector, 5, (i) => frame({ x: 40 + i * 8, y: 30, size: 20, level: 10 }));
    expect(results.every((r) => r.motion && r.boxes.length >= 1 && r.score > 0)).toBe(true);
    const box = results[4].boxes[0];
    // The square is at x 72..91 now; where it was before matches the background again (frozen under it).
    expect(box.x * W).toBeCloseTo(72, -1);
    expect((box.x + box.width) * W).toBeCloseTo(92, -1);
    expect(box.y * H).toBeCloseTo(30, -1);
    expect(box.height * H).toBeCloseTo(20, -1);
  });

  test('names the zones the motion overlaps', () => {
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
    const detector = calibrated({ zones });
    expect(detector.detect(frame({ x: 100, y: 30, size: 20, level: 10 })).zones).toEqual(['right']);
  });

  test('motion inside a mask is ignored', () => {
    const detector = calibrated({
      masks: [
        [
          [0.5, 0],
          [1, 0],
          [1, 1],
          [0.5, 1],
        ],
      ],
    });
    const results = run(detector, 5, (i) => frame({ x: 100 + i * 6, y: 30, size: 20, level: 10 }));
    expect(results.some((r) => r.motion)).toBe(false);
  });

  test('things smaller than contourArea are not motion', () => {
    const detector = calibrated({ contourArea: 40 });
    expect(detector.detect(frame({ x: 50, y: 50, size: 3, level: 250 })).motion).toBe(false);
    expect(detector.detect(frame({ x: 50, y: 50, size: 12, level: 250 })).motion).toBe(true);
  });

  test('a small change of brightness is compensated; a large one is learnt again, not reported as motion', () => {
    const detector = calibrated();
    expect(detector.detect(frame(null, 1.15))).toMatchObject({ motion: false, calibrating: false });
    const relit = run(detector, 30, () => frame(null, 1.5));
    expect(relit.some((r) => r.motion)).toBe(false);
    expect(relit[0].calibrating).toBe(true);
    expect(relit[relit.length - 1].calibrating).toBe(false);
  });

  test('something that stays is learnt into the background after freezeFrames', () => {
    const detector = calibrated({ freezeFrames: 5, frameAlpha: 0.3 });
    const parked = { x: 60, y: 30, size: 20, level: 10 };
    const results = run(detector, 30, () => frame(parked));
    expect(results[0].motion).toBe(true);
    expect(results[results.length - 1].motion).toBe(false);
  });

  test('a frame of another size mid-stream starts over, reports it once, and never throws', () => {
    const resets: DetectorReset[] = [];
    const detector = calibrated({ onReset: (reset) => resets.push(reset) });
    const small = (): GreyFrame => frame(null, 1, 120, 68);
    expect(() => detector.detect(small())).not.toThrow();
    const after = run(detector, 15, small);
    expect(resets).toEqual([{ reason: 'size', from: { width: W, height: H }, to: { width: 120, height: 68 } }]);
    expect(after[0].calibrating).toBe(true);
    expect(after[after.length - 1]).toMatchObject({ calibrating: false, motion: false });
    expect(detector.detect(frame({ x: 10, y: 10, size: 20, level: 10 }, 1, 120, 68)).motion).toBe(true);
  });

  test('a throwing onReset is logged, not thrown', () => {
    const errors: string[] = [];
    const logger: Logger = {
      error: (_obj: unknown, msg?: string) => void errors.push(String(msg)),
      warn: () => undefined,
      info: () => undefined,
      debug: () => undefined,
      child: () => logger,
    };
    const detector = calibrated({
      onReset: () => {
        throw new Error('listener bug');
      },
      logger,
    });
    expect(() => detector.detect(frame(null, 1, 100, 50))).not.toThrow();
    expect(errors).toEqual(['onReset failed: listener bug']);
  });

  test('malformed frames give a quiet result and one warning, without throwing', () => {
    const warnings: string[] = [];
    const logger: Logger = {
      error: () => undefined,
      warn: (_obj: unknown, msg?: string) => void warnings.push(String(msg)),
      info: () => undefined,
      debug: () => undefined,
      child: () => logger,
    };
    const detector = calibrated({ logger });
    const short = { ...frame(), data: new Uint8Array(10) };
    expect(detector.detect(short)).toMatchObject({ motion: false, boxes: [] });
    expect(detector.detect(short).motion).toBe(false);
    expect(detector.detect({ ...frame(), width: 0, height: 0, data: new Uint8Array(0) }).motion).toBe(false);
    expect(detector.detect({ ...frame(), data: undefined as unknown as Uint8Array }).motion).toBe(false);
    expect(warnings).toEqual([
      'motion detection skipped a frame: frame data has 10 bytes: expected 14400 (160x90, one byte a pixel)',
      'motion detection skipped a frame: frame size 0x0 is invalid: expected whole numbers of at least 3',
      'motion detection skipped a frame: frame data has no byte array: expected 14400 (160x90, one byte a pixel)',
    ]);
    expect(detector.detect(frame()).calibrating).toBe(false);
  });

  test("takes capture's grey planes as they come", () => {
    const detector = new VideoMotionDetector();
    const { data, width, height, timestamp, sequence } = frame();
    const plane: GreyPlane = { camera: 'porch', data, width, height, timestamp, sequence };
    expect(detector.detect(plane).calibrating).toBe(true);
  });

  test('reset forgets the scene', () => {
    const detector = calibrated();
    detector.reset();
    expect(detector.detect(frame({ x: 40, y: 30, size: 20, level: 10 }))).toMatchObject({ calibrating: true, motion: false });
  });

  test('refuses options out of range, naming them', () => {
    expect(() => new VideoMotionDetector({ threshold: 0 })).toThrow('threshold 0 is invalid: expected a number from 1 to 254');
    expect(() => new VideoMotionDetector({ minArea: 2 })).toThrow('minArea 2 is invalid');
    expect(
      () =>
        new VideoMotionDetector({
          masks: [
            [
              [0, 0],
              [1, 0],
              [1, 1.5],
            ],
          ],
        }),
    ).toThrow('mask 1 point 3: y=1.5 is outside 0..1');
  });
});
