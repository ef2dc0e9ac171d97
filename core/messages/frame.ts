import { Type, type Static } from '@sinclair/typebox';
import { CAMERA_ID_PATTERN, ID_EXPECTED } from '../ids';
import { BufferType, messageCheck } from './check';

/** What `msg.frame` says about the JPEG in `msg.payload`. */
export const FrameMetaSchema = Type.Object({
  camera: Type.String({ pattern: CAMERA_ID_PATTERN.source, expected: `a camera id: ${ID_EXPECTED}` }),
  timestamp: Type.Number({ minimum: 0, expected: 'the capture time in milliseconds since the epoch' }),
  sequence: Type.Integer({ minimum: 0, expected: 'the frame counter, a whole number from 0' }),
  width: Type.Integer({ minimum: 0, expected: 'the width in pixels' }),
  height: Type.Integer({ minimum: 0, expected: 'the height in pixels' }),
  bytes: Type.Integer({ minimum: 0, expected: 'the JPEG size in bytes' }),
});

/** A frame message, as capture nodes send it: the JPEG and what it is. Other fields pass along untouched. */
export const FrameMessageSchema = Type.Object({
  payload: BufferType({ minByteLength: 4, expected: 'a JPEG Buffer' }),
  frame: FrameMetaSchema,
  topic: Type.Optional(Type.String()),
});

export type FrameMeta = Static<typeof FrameMetaSchema>;
export type FrameMessage = Static<typeof FrameMessageSchema>;

export const checkFrameMessage = messageCheck(FrameMessageSchema, 'a frame message from a capture node');
