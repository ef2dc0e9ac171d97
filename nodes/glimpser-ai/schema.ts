import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';
import { OPENAI_BASE_URL } from '../../core/describe/openai-provider';

/** glimpser-ai config node configuration, version 1. The editor's validators mirror these limits. */
export const AiConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    baseUrl: Type.String({ pattern: '^https?://[^\\s/]+(/\\S*)?$', maxLength: 2048 }),
    model: Type.String({ minLength: 1, maxLength: 256 }),
    timeout: Type.Number({ minimum: 0.1, maximum: 600 }),
    maxConcurrent: Type.Integer({ minimum: 1, maximum: 64 }),
    requestsPerHour: Type.Integer({ minimum: 0 }),
    requestsPerDay: Type.Integer({ minimum: 0 }),
    tokensPerHour: Type.Integer({ minimum: 0 }),
    tokensPerDay: Type.Integer({ minimum: 0 }),
    inputPrice: Type.Number({ minimum: 0 }),
    outputPrice: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export type AiConfig = Static<typeof AiConfigSchema>;

export const AI_DEFAULTS: AiConfig = { version: 1, name: '', baseUrl: OPENAI_BASE_URL, model: 'gpt-4o-mini', timeout: 30, maxConcurrent: 2, requestsPerHour: 0, requestsPerDay: 0, tokensPerHour: 0, tokensPerDay: 0, inputPrice: 0, outputPrice: 0 };
const NUMERIC = new Set(['version', 'timeout', 'maxConcurrent', 'requestsPerHour', 'requestsPerDay', 'tokensPerHour', 'tokensPerDay', 'inputPrice', 'outputPrice']);
const NODE_RED_KEYS = new Set(['id', 'type', 'z', 'g', 'x', 'y', 'wires', 'info', '_users', 'credentials']);
const check = new Ajv({ strict: false }).compile<AiConfig>(AiConfigSchema);

const HINTS: Record<string, string> = {
  baseUrl: ' (expected an http(s) URL such as https://api.openai.com/v1 or http://localhost:11434/v1)',
  model: ' (expected a model name such as gpt-4o-mini or llava)',
};

/** Reads and validates a stored glimpser-ai definition (missing settings get their defaults); errors name the setting. */
export function aiConfigFrom(def: Record<string, unknown>): AiConfig {
  const out: Record<string, unknown> = { ...AI_DEFAULTS };
  for (const [key, value] of Object.entries(def)) {
    if (NODE_RED_KEYS.has(key) || value === undefined) continue;
    out[key] = NUMERIC.has(key) && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  }
  if (typeof out.baseUrl === 'string') out.baseUrl = out.baseUrl.trim().replace(/\/+$/, '');
  if (check(out)) return out;
  const error = check.errors?.[0];
  const field = error?.instancePath.replace(/^\//, '') || String(error?.params.additionalProperty ?? 'config');
  throw new Error(`glimpser-ai setting "${field}" ${error?.message ?? 'is invalid'}${HINTS[field] ?? ''}`);
}
