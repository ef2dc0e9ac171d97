import type { Frame } from '../../core/frames/frame';
import { checkLifecycleMessage, checkMotionEventMessage } from '../../core/messages';
import type { MotionEvent } from '../../core/motion/lifecycle';
import { motionEventMessage, noPicture, tamperEventMessage } from '../../core/motion/lifecycle-message';

const picture: Frame = {
  jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  meta: { camera: 'yard', timestamp: 1500, sequence: 4, width: 320, height: 180, bytes: 4 },
};
const event = (frame: Frame, overrides: Partial<MotionEvent<Frame>> = {}): MotionEvent<Frame> => ({
  id: 2,
  startedAt: 1000,
  lastMotionAt: 1500,
  endedAt: null,
  frames: 6,
  maxScore: 1.3,
  zones: ['door'],
  best: { frame, timestamp: 1500, changedFraction: 0.2, boxes: [{ x: 0.1, y: 0.2, width: 0.3, height: 0.4 }] },
  ...overrides,
});

describe('motion event messages', () => {
  it('makes one phase of a motion event with its best frame, a key stable for the event, and the score within 0..1', () => {
    const msg = motionEventMessage({ source: 'n1', camera: 'yard', scene: false, transition: { type: 'start', event: event(picture) } });
    expect(msg).toEqual({
      topic: 'cameras/yard/motion',
      payload: picture.jpeg,
      frame: picture.meta,
      event: {
        key: 'n1:yard:motion:2:1000',
        phase: 'start',
        camera: 'yard',
        type: 'motion',
        subtype: undefined,
        startTime: 1000,
        endTime: null,
        score: 1,
        boxes: [{ x: 0.1, y: 0.2, width: 0.3, height: 0.4 }],
        zones: ['door'],
      },
    });
    expect(checkMotionEventMessage(msg)).toBe(msg);
    expect(checkLifecycleMessage(msg)).toBe(msg);
    const end = motionEventMessage({ source: 'n1', camera: 'yard', scene: false, transition: { type: 'end', event: event(picture, { endedAt: 4000 }) } });
    expect(end.event).toMatchObject({ key: msg.event.key, phase: 'end', endTime: 4000 });
  });

  it('names a scene change by its subtype and key, and leaves the picture out when the camera gave none', () => {
    const msg = motionEventMessage({ source: 'n1', camera: 'yard', scene: true, transition: { type: 'start', event: event(noPicture('yard', 1000)) } });
    expect(msg).not.toHaveProperty('payload');
    expect(msg).not.toHaveProperty('frame');
    expect(msg.event).toMatchObject({ key: 'n1:yard:scene:2:1000', subtype: 'scene_change' });
  });

  it('makes the start and end of a tamper event, its kind as subtype', () => {
    const start = tamperEventMessage({
      source: 'n1',
      camera: 'yard',
      frame: picture,
      tamper: { kind: 'covered', phase: 'start', startedAt: 2000, endedAt: null, timestamp: 5000, value: -3 },
    });
    expect(start).toEqual({
      topic: 'cameras/yard/tamper',
      payload: picture.jpeg,
      frame: picture.meta,
      event: {
        key: 'n1:yard:tamper:covered:2000',
        phase: 'start',
        camera: 'yard',
        type: 'tamper',
        subtype: 'covered',
        startTime: 2000,
        endTime: null,
        score: 1,
        boxes: [],
        zones: [],
      },
    });
    const end = tamperEventMessage({
      source: 'n1',
      camera: 'yard',
      frame: noPicture('yard', 9000),
      tamper: { kind: 'covered', phase: 'end', startedAt: 2000, endedAt: 9000, timestamp: 9000, value: 0.25 },
    });
    expect(end).toEqual({ topic: 'cameras/yard/tamper', event: { ...start.event, phase: 'end', endTime: 9000, score: 0.25 } });
  });
});
