import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';
import { DEFAULT_MAX_SIDE } from '../../core/describe/image';
import { checkTemplate, checkTimeZone, DEFAULT_PROMPT } from '../../core/describe/prompt';

/** ai-describe node configuration, version 1. */
export const AiDescribeConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    ai: Type.String({ maxLength: 64 }),
    prompt: Type.String({ maxLength: 4000 }),
    notes: Type.String({ maxLength: 2000 }),
    timeZone: Type.String({ maxLength: 64 }),
    maxSide: Type.Integer({ minimum: 64, maximum: 4096 }),
    maxKB: Type.Integer({ minimum: 16, maximum: 20480 }),
  },
  { additionalProperties: false },
);

export type AiDescribeConfig = Static<typeof AiDescribeConfigSchema>;

export const AI_DESCRIBE_DEFAULTS: AiDescribeConfig = { version: 1, name: '', ai: '', prompt: DEFAULT_PROMPT, notes: '', timeZone: '', maxSide: DEFAULT_MAX_SIDE, maxKB: 1024 };
const NUMERIC = new Set(['version', 'maxSide', 'maxKB']);
const NODE_RED_KEYS = new Set(['id', 'type', 'z', 'g', 'x', 'y', 'wires', 'info', '_users']);
const check = new Ajv({ strict: false }).compile<AiDescribeConfig>(AiDescribeConfigSchema);

/** Reads and validates a stored ai-describe definition (missing settings get their defaults); errors name the setting. */
export function aiDescribeConfigFrom(def: Record<string, unknown>): AiDescribeConfig {
  const out: Record<string, unknown> = { ...AI_DESCRIBE_DEFAULTS };
  for (const [key, value] of Object.entries(def)) {
    if (NODE_RED_KEYS.has(key) || value === undefined) continue;
    out[key] = NUMERIC.has(key) && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  }
  if (out.prompt === '') out.prompt = DEFAULT_PROMPT;
  if (!check(out)) {
    const error = check.errors?.[0];
    const field = error?.instancePath.replace(/^\//, '') || String(error?.params.additionalProperty ?? 'config');
    throw new Error(`ai-describe setting "${field}" ${error?.message ?? 'is invalid'}`);
  }
  checkTemplate(out.prompt);
  checkTimeZone(out.timeZone);
  return out;
}
