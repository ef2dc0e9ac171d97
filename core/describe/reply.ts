import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';

/** What the model must answer (the system prompt states the same contract in words). */
export const ReplySchema = Type.Object(
  {
    caption: Type.String({ maxLength: 200 }),
    description: Type.String({ maxLength: 2000 }),
    tags: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 }),
    severity: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')]),
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
  },
  // Models add keys such as "objects" or "notes"; they are dropped rather than failing an otherwise good reply.
  { additionalProperties: true },
);

export type Reply = Static<typeof ReplySchema>;

const check = new Ajv({ strict: false, allErrors: false }).compile<Reply>(ReplySchema);

export type ParsedReply = { ok: true; reply: Reply } | { ok: false; problem: string };

/** Parses a model's message content; the problem names the field that was wrong and what was expected. */
export function parseReply(content: string): ParsedReply {
  // Some local models wrap JSON in a markdown fence even in JSON mode.
  const text = content.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/i, '$1');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `reply is not JSON (${(err as Error).message}); it began ${JSON.stringify(text.slice(0, 60))}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, problem: 'reply is JSON but not an object with caption, description, tags, severity and confidence' };
  if (!check(value)) {
    const error = check.errors?.[0];
    const field = error?.instancePath.replace(/^\//, '').replace(/\//g, '.') || String(error?.params.missingProperty ?? 'reply');
    const allowed = error?.keyword === 'anyOf' || error?.keyword === 'const' ? ' (expected "low", "medium", "high" or "critical")' : '';
    return { ok: false, problem: `reply field "${field}" ${error?.message ?? 'is invalid'}${allowed}` };
  }
  const { caption, description, tags, severity, confidence } = value;
  return { ok: true, reply: { caption: caption.trim(), description: description.trim(), tags, severity, confidence } };
}
