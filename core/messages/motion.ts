import { Type, type Static } from '@sinclair/typebox';
import { BoxSchema } from '../store/event-schema';
import { BufferType, messageCheck } from './check';
import { LifecycleEventSchema } from './event';
import { FrameMessageSchema, FrameMetaSchema } from './frame';

const Fraction = (expected: string) => Type.Number({ minimum: 0, maximum: 1, expected });

/** `msg.motion`: what motion detection found in one frame (core/motion/detector's MotionResult). */
export const MotionResultSchema = Type.Object({
  motion: Type.Boolean({ expected: 'true when the frame shows motion' }),
  boxes: Type.Array(BoxSchema, { expected: 'the changed regions as boxes, fractions of the picture' }),
  changedFraction: Fraction('the share of the picture that changed, 0 to 1'),
  zones: Type.Array(Type.String(), { expected: 'the names of the zones motion touched' }),
  calibrating: Type.Boolean({ expected: 'true while the detector learns the scene' }),
  score: Fraction('how strongly the changed regions differ, 0 to 1'),
});

/** A motion node's first output: the frame message, unchanged, with the detection result added. */
export const MotionMessageSchema = Type.Object({ ...FrameMessageSchema.properties, motion: MotionResultSchema });

/**
 * A motion node's second output: one phase of a motion or tamper event (the lifecycle event the event node takes),
 * with the JPEG of the event's best frame and what it is, when the camera gave one in time.
 */
export const MotionEventMessageSchema = Type.Object({
  topic: Type.String({ expected: 'cameras/<id>/motion or cameras/<id>/tamper' }),
  event: LifecycleEventSchema,
  payload: Type.Optional(BufferType({ minByteLength: 4, expected: "the JPEG of the event's best frame" })),
  frame: Type.Optional(FrameMetaSchema),
});

export type MotionMessage = Static<typeof MotionMessageSchema>;
export type MotionEventMessage = Static<typeof MotionEventMessageSchema>;

export const checkMotionMessage = messageCheck(MotionMessageSchema, "a frame message from a motion node's first output");
export const checkMotionEventMessage = messageCheck(MotionEventMessageSchema, "an event message from a motion node's second output");
