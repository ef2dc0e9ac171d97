import type { Frame, FrameMeta } from '../frames/frame';
import type { LifecycleEvent, MotionEventMessage } from '../messages';
import type { MotionTransition } from './lifecycle';
import type { TamperEvent } from './tamper';

/**
 * Motion and tamper events as the messages a motion node sends on its second output: the lifecycle event the event
 * node stores, with the JPEG of the event's best frame. Pure: the node decides when to send them.
 */

/** Stands for the JPEG a camera did not deliver in time; a message made with it carries no picture. */
export function noPicture(camera: string, timestamp: number): Frame {
  return { jpeg: Buffer.alloc(0), meta: { camera, timestamp, sequence: 0, width: 0, height: 0, bytes: 0 } };
}

/** An event's picture as a frame message's payload and meta; none for the stand-in of a JPEG that never came. */
function picture(frame: Frame): { payload?: Buffer; frame?: FrameMeta } {
  return frame.jpeg.length > 0 ? { payload: frame.jpeg, frame: frame.meta } : {};
}

/** Scores are 0..1 on the journal; a detector may report a little beyond on a frame that changed everywhere. */
function clampScore(value: number): number {
  return Math.min(1, Math.max(0, value));
}

export interface MotionPhase {
  /** The node that saw it: with the camera, the kind and the event's start, it makes the key unique. */
  source: string;
  camera: string;
  /** A scene change (between snapshots) rather than motion in a video stream. */
  scene: boolean;
  transition: MotionTransition<Frame>;
}

/** One phase of a motion (or scene-change) event; the key stays the same from start to end. */
export function motionEventMessage({ source, camera, scene, transition }: MotionPhase): MotionEventMessage {
  const { event, type } = transition;
  const lifecycle: LifecycleEvent = {
    key: `${source}:${camera}:${scene ? 'scene' : 'motion'}:${event.id}:${event.startedAt}`,
    phase: type,
    camera,
    type: 'motion',
    subtype: scene ? 'scene_change' : undefined,
    startTime: event.startedAt,
    endTime: event.endedAt,
    score: clampScore(event.maxScore),
    boxes: event.best.boxes,
    zones: event.zones,
  };
  return { topic: `cameras/${camera}/motion`, ...picture(event.best.frame), event: lifecycle };
}

export interface TamperPhase {
  source: string;
  camera: string;
  tamper: TamperEvent;
  /** The camera's picture when tampering began or ended, or noPicture. */
  frame: Frame;
}

/** The start or end of a tamper event (covered, moved, defocused); the kind is its subtype. */
export function tamperEventMessage({ source, camera, tamper, frame }: TamperPhase): MotionEventMessage {
  const lifecycle: LifecycleEvent = {
    key: `${source}:${camera}:tamper:${tamper.kind}:${tamper.startedAt}`,
    phase: tamper.phase === 'start' ? 'start' : 'end',
    camera,
    type: 'tamper',
    subtype: tamper.kind,
    startTime: tamper.startedAt,
    endTime: tamper.endedAt,
    score: clampScore(Math.abs(tamper.value)),
    boxes: [],
    zones: [],
  };
  return { topic: `cameras/${camera}/tamper`, ...picture(frame), event: lifecycle };
}
