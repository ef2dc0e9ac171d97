import { Type, type Static, type TObject } from '@sinclair/typebox';
import Ajv, { type ValidateFunction } from 'ajv';
import { SeveritySchema } from '../messages/description';

/**
 * What the model must answer, for a description and for a summary (the system prompts state the same contracts in
 * words), and the one parser that reads either reply.
 */

// Models add keys such as "objects" or "notes"; they are dropped rather than failing an otherwise good reply.
const LENIENT = { additionalProperties: true };

export const ReplySchema = Type.Object(
  {
    caption: Type.String({ maxLength: 200 }),
    description: Type.String({ maxLength: 2000 }),
    tags: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 }),
    severity: SeveritySchema,
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
  },
  LENIENT,
);

export const SummaryReplySchema = Type.Object(
  {
    summary: Type.String({ minLength: 1, maxLength: 1500 }),
    sources: Type.Array(
      Type.Object({ camera: Type.String({ minLength: 1, maxLength: 64 }), brief: Type.String({ maxLength: 500 }), severity: SeveritySchema }),
      { maxItems: 100 },
    ),
  },
  LENIENT,
);

export type Reply = Static<typeof ReplySchema>;
export type SummaryReply = Static<typeof SummaryReplySchema>;

export type ParsedReply<T = Reply> = { ok: true; reply: T } | { ok: false; problem: string };

/** One reply contract: its schema, what the object must hold (in words), and how a good reply is tidied. */
interface ReplyContract<S extends TObject> {
  check: ValidateFunction<Static<S>>;
  holds: string;
  tidy(reply: Static<S>): Static<S>;
}

const ajv = new Ajv({ strict: false, allErrors: false });

function contract<S extends TObject>(schema: S, holds: string, tidy: (reply: Static<S>) => Static<S>): ReplyContract<S> {
  return { check: ajv.compile<Static<S>>(schema), holds, tidy };
}

const DESCRIPTION = contract(ReplySchema, 'caption, description, tags, severity and confidence', ({ caption, description, tags, severity, confidence }) => ({
  caption: caption.trim(),
  description: description.trim(),
  tags,
  severity,
  confidence,
}));
const SUMMARY = contract(SummaryReplySchema, 'summary and sources', ({ summary, sources }) => ({
  summary: summary.trim(),
  sources: sources.map(({ camera, brief, severity }) => ({ camera, brief: brief.trim(), severity })),
}));

/** Parses a model's message content against a contract; the problem names the field that was wrong and what was expected. */
function parseAgainst<S extends TObject>(content: string, { check, holds, tidy }: ReplyContract<S>): ParsedReply<Static<S>> {
  // Some local models wrap JSON in a markdown fence even in JSON mode.
  const text = content.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/i, '$1');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `reply is not JSON (${(err as Error).message}); it began ${JSON.stringify(text.slice(0, 60))}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, problem: `reply is JSON but not an object with ${holds}` };
  if (!check(value)) {
    const error = check.errors?.[0];
    const field = error?.instancePath.replace(/^\//, '').replace(/\//g, '.') || String(error?.params.missingProperty ?? 'reply');
    const allowed = error?.keyword === 'anyOf' || error?.keyword === 'const' ? ' (expected "low", "medium", "high" or "critical")' : '';
    return { ok: false, problem: `reply field "${field}" ${error?.message ?? 'is invalid'}${allowed}` };
  }
  return { ok: true, reply: tidy(value) };
}

/** A description reply: caption, description, tags, severity, confidence. */
export function parseReply(content: string): ParsedReply<Reply> {
  return parseAgainst(content, DESCRIPTION);
}

/** A summary reply: the brief and one entry per camera. */
export function parseSummaryReply(content: string): ParsedReply<SummaryReply> {
  return parseAgainst(content, SUMMARY);
}
