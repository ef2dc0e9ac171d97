import { Type, type Static } from '@sinclair/typebox';
import { CAMERA_ID_PATTERN, ID_EXPECTED } from '../ids';
import { messageCheck } from './check';
import { GateSchema } from './gate';

const Time = Type.Number({ minimum: 0, expected: 'milliseconds since the epoch' });
const TimeOrText = Type.Union([Time, Type.String({ minLength: 1 })], { expected: 'milliseconds since the epoch, or an ISO 8601 time' });

/**
 * The fields of `msg.event` cap-alert reads: a journal event as the event node sends it (`id`, times as ISO text and
 * milliseconds, `hasSnapshot`) or a motion node's lifecycle event (`key`, `phase`, times in ms). Others pass untouched.
 */
export const AlertEventSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, expected: 'the id of a journal event (text)' })),
    key: Type.Optional(Type.String({ minLength: 1, maxLength: 512, expected: 'a key that ties the phases of one event together (text)' })),
    phase: Type.Optional(
      Type.Union([Type.Literal('start'), Type.Literal('update'), Type.Literal('end')], { expected: 'the phase: "start", "update" or "end"' }),
    ),
    camera: Type.String({ pattern: CAMERA_ID_PATTERN.source, expected: `a camera id: ${ID_EXPECTED}` }),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 64, expected: 'the kind of event (text): motion, tamper, rule, …' })),
    startTime: Type.Optional(TimeOrText),
    startTimeMs: Type.Optional(Time),
    endTime: Type.Optional(Type.Union([Time, Type.String({ minLength: 1 }), Type.Null()], { expected: 'the end (ms or ISO 8601), or null while it lasts' })),
    endTimeMs: Type.Optional(Type.Union([Time, Type.Null()], { expected: 'the end in milliseconds since the epoch, or null while it lasts' })),
    zones: Type.Optional(Type.Array(Type.String(), { expected: 'a list of zone names' })),
    score: Type.Optional(Type.Number({ expected: 'a number from 0 to 1' })),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { expected: 'a JSON object' })),
  },
  { expected: 'an event object (camera, type, startTime, …) from an event or motion node' },
);

/** What cap-alert takes in: an event, with ai-describe's msg.ai and a rule gate's msg.gate when the flow has them. */
export const AlertInputSchema = Type.Object({ event: AlertEventSchema, ai: Type.Optional(Type.Unknown()), gate: Type.Optional(GateSchema) });

export type AlertEventFields = Static<typeof AlertEventSchema>;
export type AlertInput = Static<typeof AlertInputSchema>;

export const checkAlertInput = messageCheck(AlertInputSchema, 'an event message from an event or motion node');
