import type { GreyFrame } from '../../core/frames/grey';
import type { MotionBox } from '../../core/motion/detector';
import { MotionEventTracker, type MotionTransition } from '../../core/motion/lifecycle';
import { TamperDetector, type TamperEvent } from '../../core/motion/tamper';
import { VideoMotionDetector, type VideoMotionOptions } from '../../core/motion/video-motion';
import { CLIP_FPS, CLIP_NAMES, CLOCK_MASK, greyFrames, TRUTH, type ClipName } from '../support/clips';

const QUIET_MS = 2000;
const FRAME_MS = 1000 / CLIP_FPS;
/** Capture's grey output is 100 to 180 rows: both ends are tested. */
const HEIGHTS = [180, 100];
const clips = new Map<string, GreyFrame[]>();

beforeAll(() => {
  // The first run on a machine films the clips with ffmpeg (about 20 s); later runs find them cached.
  for (const rows of HEIGHTS) for (const name of CLIP_NAMES) clips.set(`${name}@${rows}`, greyFrames(name, rows));
}, 180000);

function frames(name: ClipName, rows: number): GreyFrame[] {
  return clips.get(`${name}@${rows}`) as GreyFrame[];
}

/** Motion events of a clip, with each frame's timestamp as its reference. */
function motionEvents(name: ClipName, rows: number, options: VideoMotionOptions = {}): MotionTransition<number>[] {
  const detector = new VideoMotionDetector(options);
  const tracker = new MotionEventTracker<number>({ quietMs: QUIET_MS });
  return frames(name, rows).flatMap((frame) => tracker.feed(detector.detect(frame), frame.timestamp, frame.timestamp));
}

function tamperEvents(name: ClipName, rows: number): TamperEvent[] {
  const detector = new TamperDetector();
  return frames(name, rows).flatMap((frame) => detector.update(frame));
}

/** Where the crossing object of clip `object` is at `ms`, clipped to the picture, in normalised coordinates. */
function objectAt(ms: number): MotionBox {
  const left = (-120 + ((ms / 1000 - TRUTH.object.enterS) * (640 + 120)) / (TRUTH.object.leaveS - TRUTH.object.enterS)) / 640;
  const x = Math.max(0, left);
  return { x, y: 150 / 360, width: Math.min(1, left + 120 / 640) - x, height: 150 / 360 };
}

function overlap(a: MotionBox, b: MotionBox): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

describe.each(HEIGHTS)('on %i-row grey planes', (rows) => {
  describe('motion events on clips with known ground truth', () => {
    test('an object crossing a textured scene starts one event within 0.5 s of entering and ends within the quiet period after leaving', () => {
      const events = motionEvents('object', rows);
      expect(events.map((e) => e.type).filter((type) => type !== 'update')).toEqual(['start', 'end']);
      const start = events[0];
      const end = events[events.length - 1];
      const enterMs = TRUTH.object.enterS * 1000;
      const leaveMs = TRUTH.object.leaveS * 1000;
      // Both when motion was first seen and the frame that declared the event, which waits for minDurationMs.
      expect(start.event.startedAt).toBeGreaterThanOrEqual(enterMs);
      expect(start.event.startedAt - enterMs).toBeLessThanOrEqual(500);
      expect(start.event.lastMotionAt - enterMs).toBeLessThanOrEqual(500);
      expect(Math.abs(end.event.lastMotionAt - leaveMs)).toBeLessThanOrEqual(500);
      expect(end.event.endedAt).toBeGreaterThanOrEqual(leaveMs);
      expect(end.event.endedAt as number).toBeLessThanOrEqual(leaveMs + QUIET_MS + FRAME_MS);
    });

    test('the best frame of the crossing boxes the object where it really was', () => {
      const end = motionEvents('object', rows).find((e) => e.type === 'end') as MotionTransition<number>;
      const { best } = end.event;
      expect(best.boxes).toHaveLength(1);
      expect(overlap(best.boxes[0], objectAt(best.timestamp))).toBeGreaterThan(0.7);
    });

    test('zones touched by the crossing are named, in configuration order', () => {
      const left = {
        name: 'left',
        points: [
          [0, 0],
          [0.3, 0],
          [0.3, 1],
          [0, 1],
        ] as [number, number][],
      };
      const sky = {
        name: 'sky',
        points: [
          [0, 0],
          [1, 0],
          [1, 0.2],
          [0, 0.2],
        ] as [number, number][],
      };
      const end = motionEvents('object', rows, { zones: [sky, left] }).find((e) => e.type === 'end') as MotionTransition<number>;
      expect(end.event.zones).toEqual(['left']);
    });

    test.each<ClipName>(['noise', 'lighting', 'masked-clock'])('no motion event on %s', (name) => {
      expect(motionEvents(name, rows, name === 'masked-clock' ? { masks: [CLOCK_MASK] } : {})).toEqual([]);
    });

    test('the ticking clock is motion when it is not masked, so the mask is what keeps it quiet', () => {
      expect(motionEvents('masked-clock', rows).map((e) => e.type)).toContain('start');
    });
  });

  describe('tamper events on clips with known ground truth', () => {
    test.each([
      ['covered', 'covered', TRUTH.covered.atS],
      ['moved', 'moved', TRUTH.moved.atS],
      ['defocus', 'defocused', TRUTH.defocus.atS],
    ] as const)('%s raises %s, starting from when it happened', (clip, kind, atS) => {
      const events = tamperEvents(clip, rows);
      expect(events.map((e) => `${e.kind} ${e.phase}`)).toEqual([`${kind} start`]);
      expect(events[0].startedAt - atS * 1000).toBeGreaterThanOrEqual(0);
      expect(events[0].startedAt - atS * 1000).toBeLessThanOrEqual(1000);
    });

    test.each<ClipName>(['object', 'noise', 'lighting', 'masked-clock'])('no tamper event on %s', (name) => {
      expect(tamperEvents(name, rows)).toEqual([]);
    });
  });
});
