import type { MotionResult } from '../../core/motion/detector';
import { MotionEventTracker, type MotionTransition } from '../../core/motion/lifecycle';

const quiet: MotionResult = { motion: false, boxes: [], changedFraction: 0, zones: [], calibrating: false, score: 0 };

function moving(changedFraction: number, extra: Partial<MotionResult> = {}): MotionResult {
  return {
    motion: true,
    boxes: [{ x: 0.1, y: 0.2, width: changedFraction, height: 0.3 }],
    changedFraction,
    zones: [],
    calibrating: false,
    score: 0.2,
    ...extra,
  };
}

/** Feeds one result per 100 ms from `from`, with the timestamp as the frame reference; returns the transitions. */
function drive(tracker: MotionEventTracker<number>, results: MotionResult[], from = 0): MotionTransition<number>[] {
  return results.flatMap((result, i) => tracker.feed(result, from + i * 100, from + i * 100));
}

describe('motion event lifecycle', () => {
  test('starts once motion has lasted minDurationMs, dated from its first frame', () => {
    const tracker = new MotionEventTracker<number>({ minDurationMs: 200, quietMs: 1000 });
    const transitions = drive(tracker, [quiet, moving(0.01), moving(0.02), moving(0.03)]);
    expect(transitions.map((t) => [t.type, t.event.startedAt])).toEqual([['start', 100]]);
    expect(transitions[0].event).toMatchObject({ id: 1, frames: 3, endedAt: null, best: { frame: 300, changedFraction: 0.03 } });
    expect(tracker.event?.id).toBe(1);
  });

  test('motion that stops before minDurationMs is no event at all', () => {
    const tracker = new MotionEventTracker<number>({ minDurationMs: 300, quietMs: 1000 });
    expect(drive(tracker, [moving(0.1), moving(0.1), quiet, moving(0.1), quiet, quiet])).toEqual([]);
    expect(tracker.event).toBeNull();
  });

  test('updates when the best frame, the score or the zones get better, and not otherwise', () => {
    const tracker = new MotionEventTracker<number>({ minDurationMs: 0, quietMs: 1000 });
    const transitions = drive(tracker, [
      moving(0.05),
      moving(0.04),
      moving(0.08),
      moving(0.02, { score: 0.5 }),
      moving(0.02, { zones: ['porch'] }),
      moving(0.02, { zones: ['porch', 'gate'] }),
      moving(0.02, { zones: ['gate'] }),
    ]);
    expect(transitions.map((t) => `${t.type}@${t.event.lastMotionAt}`)).toEqual(['start@0', 'update@200', 'update@300', 'update@400', 'update@500']);
    const last = transitions[transitions.length - 1].event;
    expect(last).toMatchObject({ maxScore: 0.5, zones: ['porch', 'gate'], best: { frame: 200, timestamp: 200, changedFraction: 0.08 } });
    expect(last.best.boxes).toEqual([{ x: 0.1, y: 0.2, width: 0.08, height: 0.3 }]);
  });

  test('ends after quietMs without motion, however the quiet frames are spaced', () => {
    const tracker = new MotionEventTracker<number>({ minDurationMs: 0, quietMs: 1000 });
    drive(tracker, [moving(0.1), moving(0.1)]);
    expect(tracker.feed(quiet, 1000, 1000)).toEqual([]);
    const [end] = tracker.feed(quiet, 1100, 1100);
    expect(end).toMatchObject({ type: 'end', event: { startedAt: 0, lastMotionAt: 100, endedAt: 1100, frames: 2 } });
    expect(tracker.event).toBeNull();
  });

  test('motion within quietMs carries the event on; after an end the next event has the next id', () => {
    const tracker = new MotionEventTracker<number>({ minDurationMs: 0, quietMs: 500 });
    const first = drive(tracker, [moving(0.1), quiet, quiet, quiet, moving(0.1), quiet, quiet, quiet, quiet, quiet, quiet]);
    expect(first.map((t) => `${t.type}@${t.event.endedAt ?? t.event.startedAt}`)).toEqual(['start@0', 'end@900']);
    const second = drive(tracker, [moving(0.2)], 5000);
    expect(second[0]).toMatchObject({ type: 'start', event: { id: 2, startedAt: 5000 } });
  });

  test('calibrating results are quiet frames', () => {
    const tracker = new MotionEventTracker<number>({ minDurationMs: 100, quietMs: 1000 });
    expect(drive(tracker, [moving(0.1), { ...quiet, calibrating: true }, moving(0.1)])).toEqual([]);
  });

  test('transitions are copies: later frames do not change an event already handed out', () => {
    const tracker = new MotionEventTracker<number>({ minDurationMs: 0, quietMs: 1000 });
    const [start] = drive(tracker, [moving(0.1, { zones: ['a'] })]);
    drive(tracker, [moving(0.5, { zones: ['b'] })], 100);
    expect(start.event).toMatchObject({ zones: ['a'], frames: 1, best: { changedFraction: 0.1 } });
  });

  test('finish ends the event under way, for a camera that stopped sending frames', () => {
    const tracker = new MotionEventTracker<number>({ minDurationMs: 0, quietMs: 60000 });
    drive(tracker, [moving(0.1)]);
    expect(tracker.finish(2500)).toMatchObject([{ type: 'end', event: { endedAt: 2500 } }]);
    expect(tracker.finish(2600)).toEqual([]);
  });

  test('a clock that steps back neither starts nor ends anything early', () => {
    const tracker = new MotionEventTracker<number>({ minDurationMs: 200, quietMs: 1000 });
    expect(tracker.feed(moving(0.1), 5000, 1)).toEqual([]);
    expect(tracker.feed(moving(0.1), 4000, 2)).toEqual([]);
    expect(tracker.feed(moving(0.1), 5200, 3).map((t) => t.type)).toEqual(['start']);
  });

  test('refuses negative durations', () => {
    expect(() => new MotionEventTracker({ quietMs: -1 })).toThrow('quietMs -1 is invalid: expected milliseconds, 0 or more');
  });
});
