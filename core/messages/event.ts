import { Type, type Static } from '@sinclair/typebox';
import { EventInputSchema } from '../store/event-schema';
import { BufferType, messageCheck } from './check';

// The journal's own field schemas, so a field is worded the same whether the event node or the journal refuses it.
const field = EventInputSchema.properties;

const Key = Type.String({ minLength: 1, maxLength: 512, expected: 'a key that ties the phases of one event together (text)' });
const Phase = Type.Union([Type.Literal('start'), Type.Literal('update'), Type.Literal('end')], { expected: 'the phase: "start", "update" or "end"' });

/**
 * `msg.event` as the event node accepts it. A new event needs camera and startTime (checkNewEventMessage); an
 * update names its journal event by `id`, or by the `key` of an earlier phase, and may leave them out. Fields the
 * node does not store (an event as the journal shows it carries `hasSnapshot`, `startTimeMs`, …) pass untouched.
 */
export const EventFieldsSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, expected: 'the id of a journal event (text)' })),
    key: Type.Optional(Key),
    phase: Type.Optional(Phase),
    camera: Type.Optional(field.camera),
    type: Type.Optional(field.type),
    subtype: field.subtype,
    startTime: Type.Optional(field.startTime),
    endTime: field.endTime,
    score: field.score,
    boxes: field.boxes,
    zones: field.zones,
    kept: field.kept,
    data: field.data,
  },
  { expected: 'an event object: camera and startTime for a new event, or the id or key of one to update' },
);

/** What an event node takes in: the event, and optionally a JPEG in msg.payload as its snapshot. */
export const EventMessageSchema = Type.Object({ event: EventFieldsSchema, payload: Type.Optional(Type.Unknown()) });

/** A new event: what the journal cannot do without (the event node fills `type` from its settings). */
export const NewEventMessageSchema = Type.Object({
  event: Type.Object({ camera: field.camera, startTime: Type.Optional(field.startTime, false) }, { expected: 'an event object with camera and startTime' }),
});

/**
 * One phase of an event as motion nodes send it: the same `key` from start to end lets the event node update what
 * it inserted. Its time and score fields are those of the journal, so every lifecycle event is an event message.
 */
export const LifecycleEventSchema = Type.Object({
  key: Key,
  phase: Phase,
  camera: field.camera,
  type: Type.Union([Type.Literal('motion'), Type.Literal('tamper')], { expected: 'the kind of event: "motion" or "tamper"' }),
  subtype: field.subtype,
  startTime: Type.Optional(field.startTime, false),
  endTime: Type.Optional(field.endTime, false),
  score: Type.Optional(field.score, false),
  boxes: Type.Optional(field.boxes, false),
  zones: Type.Optional(field.zones, false),
});

/** A motion node's event message: the lifecycle event, with the JPEG of its best frame in msg.payload. */
export const LifecycleMessageSchema = Type.Object({ event: LifecycleEventSchema, payload: Type.Optional(BufferType({ expected: 'a JPEG Buffer' })) });

export type EventFields = Static<typeof EventFieldsSchema>;
export type EventMessage = Static<typeof EventMessageSchema>;
export type LifecycleEvent = Static<typeof LifecycleEventSchema>;
export type LifecycleMessage = Static<typeof LifecycleMessageSchema>;

export const checkEventMessage = messageCheck(EventMessageSchema, 'an event message: msg.event as the event node help describes it');
export const checkNewEventMessage = messageCheck(
  NewEventMessageSchema,
  'a new event; an update names its journal event by id, or by the key of an earlier phase',
);
export const checkLifecycleMessage = messageCheck(LifecycleMessageSchema, 'an event message from a motion node');
