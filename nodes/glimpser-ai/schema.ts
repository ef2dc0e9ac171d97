import { Type, type Static } from '@sinclair/typebox';
import { nodeConfig, readNodeConfig, Settings } from '../shared/config';
import { AI_HISTORY, coerceAiSetting } from './migrations';

/** glimpser-ai config node configuration, version 1. The editor's validators mirror these limits. */
export const AiConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Settings.name(),
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

export const aiConfig = nodeConfig('glimpser-ai', AiConfigSchema, AI_HISTORY, {
  hints: {
    baseUrl: ' (expected an http(s) URL such as https://api.openai.com/v1 or http://localhost:11434/v1)',
    model: ' (expected a model name such as gpt-4o-mini or llava)',
  },
  coerce: coerceAiSetting,
});

/** Reads and validates a stored glimpser-ai definition (missing settings get their defaults); errors name the setting. */
export function aiConfigFrom(def: Record<string, unknown>): AiConfig {
  return readNodeConfig(aiConfig, def);
}
