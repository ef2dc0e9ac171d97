import { Type, type Static } from '@sinclair/typebox';
import { CAMERA_ID_PATTERN, ID_EXPECTED } from '../ids';
import { BufferType, messageCheck } from './check';
import { FrameMetaSchema } from './frame';

const SEVERITY_EXPECTED = '"low", "medium", "high" or "critical"';
export const SeveritySchema = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')], {
  expected: SEVERITY_EXPECTED,
});

export const TokenUsageSchema = Type.Object({
  prompt: Type.Integer({ minimum: 0 }),
  completion: Type.Integer({ minimum: 0 }),
  total: Type.Integer({ minimum: 0 }),
});

/** `msg.ai` when ai-describe made a description. */
export const DescriptionSchema = Type.Object({
  caption: Type.String({ expected: 'one sentence (text)' }),
  description: Type.String(),
  tags: Type.Array(Type.String()),
  severity: SeveritySchema,
  confidence: Type.Number({ minimum: 0, maximum: 1, expected: 'a number from 0 to 1' }),
  model: Type.String(),
  /** Tokens this call paid for: zero when the description came from the cache. */
  tokens: TokenUsageSchema,
  latencyMs: Type.Number({ minimum: 0 }),
  cached: Type.Boolean(),
});

/** Why no description (or summary) was made; none of these sent a request except `refused` (the model answered, uselessly). */
export const SkippedSchema = Type.Union([
  Type.Object({ skipped: Type.Literal('budget'), resetsAt: Type.Number(), reason: Type.String() }),
  Type.Object({ skipped: Type.Literal('rate_limited'), until: Type.Number(), reason: Type.String() }),
  Type.Object({ skipped: Type.Literal('refused'), reason: Type.String() }),
]);

/** The glimpser-ai node cannot be asked yet (no API key for OpenAI, or none picked): messages pass through. */
export const NotConfiguredSchema = Type.Object({ skipped: Type.Literal('not_configured'), reason: Type.String() });

/** What ai-describe adds as `msg.ai`: a description, or why there is none; the message goes on either way. */
export const AiResultSchema = Type.Union([DescriptionSchema, ...SkippedSchema.anyOf, NotConfiguredSchema]);

const Camera = Type.String({ pattern: CAMERA_ID_PATTERN.source, expected: `a camera id: ${ID_EXPECTED}` });

/** What ai-summary reads of a description: its caption and severity (other fields pass untouched). */
const CaptionSchema = Type.Object({ caption: Type.String({ expected: 'the caption (text)' }), severity: Type.Optional(SeveritySchema) });

/**
 * The fields of `msg.event` the AI nodes read: a motion node's lifecycle event (time in ms) or an event node's
 * journal event (`id`, times as ISO text and ms). Other fields pass untouched.
 */
export const DescribedEventSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, expected: 'the id of a journal event (text)' })),
    key: Type.Optional(Type.String({ expected: 'a key that ties the phases of one event together (text)' })),
    phase: Type.Optional(Type.String({ expected: 'the phase: "start", "update" or "end"' })),
    camera: Type.Optional(Camera),
    type: Type.Optional(Type.String({ minLength: 1, expected: 'the kind of event (text): motion, tamper, rule, …' })),
    subtype: Type.Optional(Type.Union([Type.String(), Type.Null()], { expected: 'a subtype (text) or null' })),
    startTime: Type.Optional(Type.Union([Type.Number(), Type.String()], { expected: 'the start: milliseconds since the epoch, or an ISO 8601 time' })),
    startTimeMs: Type.Optional(Type.Number({ expected: 'the start in milliseconds since the epoch' })),
    zones: Type.Optional(Type.Array(Type.String(), { expected: 'a list of zone names' })),
    data: Type.Optional(Type.Object({ ai: Type.Optional(Type.Partial(CaptionSchema)) }, { expected: 'a JSON object' })),
  },
  { expected: 'an event object (camera, type, startTime, …)' },
);

/** What ai-describe takes in: a frame message, or an event message with its JPEG. */
export const DescribeInputSchema = Type.Object({
  payload: BufferType({ expected: 'a JPEG Buffer (a frame from a capture node, or an event from a motion node)' }),
  frame: Type.Optional(Type.Partial(FrameMetaSchema)),
  event: Type.Optional(DescribedEventSchema),
  topic: Type.Optional(Type.String()),
});

/**
 * What ai-summary takes in: a description (msg.ai), an event (msg.event), or both, to collect; or msg.topic
 * "summarize", which closes the window. Its picture in msg.payload, when it has one, is not read.
 */
export const SummaryInputSchema = Type.Object({
  topic: Type.Optional(Type.String()),
  payload: Type.Optional(Type.Unknown()),
  frame: Type.Optional(Type.Partial(FrameMetaSchema)),
  ai: Type.Optional(
    Type.Union([CaptionSchema, Type.Object({ skipped: Type.String(), reason: Type.Optional(Type.String()) })], {
      expected: 'a description from ai-describe ({caption, severity, …}) or why it made none ({skipped, reason})',
    }),
  ),
  event: Type.Optional(DescribedEventSchema),
});

export type Severity = Static<typeof SeveritySchema>;
export type TokenUsage = Static<typeof TokenUsageSchema>;
export type Description = Static<typeof DescriptionSchema>;
export type Skipped = Static<typeof SkippedSchema>;
export type NotConfigured = Static<typeof NotConfiguredSchema>;
export type AiResult = Static<typeof AiResultSchema>;
export type DescribedEvent = Static<typeof DescribedEventSchema>;
export type DescribeInput = Static<typeof DescribeInputSchema>;
/** What ai-describe sends: what came in, with msg.ai (and a described event's data.ai). */
export type DescribedMessage = DescribeInput & { ai: AiResult };
export type SummaryInput = Static<typeof SummaryInputSchema>;

export const checkDescribeInput = messageCheck(DescribeInputSchema, 'a frame from a capture node, or an event from a motion node, with its JPEG');
export const checkSummaryInput = messageCheck(SummaryInputSchema, 'a description from ai-describe, an event, or msg.topic "summarize"');
