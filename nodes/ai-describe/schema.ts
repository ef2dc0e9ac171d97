import { Type, type Static } from '@sinclair/typebox';
import { checkTemplate, checkTimeZone } from '../../core/describe/prompt';
import { nodeConfig, readNodeConfig, Settings } from '../shared/config';
import { AI_DESCRIBE_HISTORY, coerceAiDescribeSetting } from './migrations';

/** ai-describe node configuration, version 1. */
export const AiDescribeConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Settings.name(),
    /** Empty: no provider picked, so frames pass through (not an error). */
    ai: Settings.configNode(),
    prompt: Type.String({ maxLength: 4000 }),
    notes: Settings.notes(),
    timeZone: Settings.timeZone(),
    maxSide: Type.Integer({ minimum: 64, maximum: 4096 }),
    maxKB: Type.Integer({ minimum: 16, maximum: 20480 }),
  },
  { additionalProperties: false },
);

export type AiDescribeConfig = Static<typeof AiDescribeConfigSchema>;

export const aiDescribeConfig = nodeConfig('ai-describe', AiDescribeConfigSchema, AI_DESCRIBE_HISTORY, {
  coerce: coerceAiDescribeSetting,
  check: (config) => {
    checkTemplate(config.prompt);
    checkTimeZone(config.timeZone);
  },
});

/** Reads and validates a stored ai-describe definition (missing settings get their defaults); errors name the setting. */
export function aiDescribeConfigFrom(def: Record<string, unknown>): AiDescribeConfig {
  return readNodeConfig(aiDescribeConfig, def);
}
