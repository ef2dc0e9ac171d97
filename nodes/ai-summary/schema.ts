import { Type, type Static } from '@sinclair/typebox';
import { CronSettingError, cronSchedule } from '../../core/capture/sampler';
import { checkTimeZone } from '../../core/describe/prompt';
import { CAMERA_ID_PATTERN } from '../../core/ids';
import { nodeConfig, readNodeConfig, Settings } from '../shared/config';
import { AI_SUMMARY_HISTORY, coerceAiSummarySetting } from './migrations';

/** ai-summary node configuration, version 1. */
export const AiSummaryConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Settings.name(),
    /** Empty: no provider picked, so nothing is sent (not an error). */
    ai: Settings.configNode(),
    /** Empty: only `msg.topic === 'summarize'` closes a window. */
    schedule: Type.String({ maxLength: 128 }),
    timeZone: Settings.timeZone(),
    /** The camera id the summary events are stored under. */
    source: Type.String({ pattern: CAMERA_ID_PATTERN.source }),
    maxItems: Type.Integer({ minimum: 1, maximum: 5000 }),
    previous: Type.Integer({ minimum: 0, maximum: 10 }),
    fromJournal: Type.Boolean(),
    notes: Settings.notes(),
  },
  { additionalProperties: false },
);

export type AiSummaryConfig = Static<typeof AiSummaryConfigSchema>;

export const aiSummaryConfig = nodeConfig('ai-summary', AiSummaryConfigSchema, AI_SUMMARY_HISTORY, {
  hints: { source: ' (expected a camera id such as "glimpser": 1-64 characters of a-z, 0-9, "_" or "-")' },
  coerce: coerceAiSummarySetting,
  check: (config) => {
    checkTimeZone(config.timeZone);
    if (config.schedule === '') return;
    try {
      cronSchedule(config.schedule, config.timeZone || undefined);
    } catch (err) {
      if (err instanceof CronSettingError) throw new Error(`ai-summary setting "${err.part === 'timeZone' ? 'timeZone' : 'schedule'}": ${err.message}`);
      throw err;
    }
  },
});

/** Reads and validates a stored ai-summary definition (missing settings get their defaults); errors name the setting. */
export function aiSummaryConfigFrom(def: Record<string, unknown>): AiSummaryConfig {
  return readNodeConfig(aiSummaryConfig, def);
}
