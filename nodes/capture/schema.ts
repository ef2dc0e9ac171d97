import { Type, type Static } from '@sinclair/typebox';
import { CronSettingError, cronSchedule } from '../../core/capture/sampler';
import { nodeConfig, readNodeConfig, Settings } from '../shared/config';
import { CAPTURE_HISTORY } from './migrations';

/** capture node configuration, version 2. */
export const CaptureConfigSchema = Type.Object(
  {
    version: Type.Literal(2),
    name: Settings.name(),
    camera: Type.String({ minLength: 1 }),
    mode: Type.Union([Type.Literal('continuous'), Type.Literal('interval'), Type.Literal('cron'), Type.Literal('on-demand')]),
    fps: Type.Number({ exclusiveMinimum: 0, maximum: 60 }),
    interval: Type.Number({ minimum: 0.1, maximum: 86400 }),
    cron: Type.String({ maxLength: 128 }),
    timeZone: Type.String({ maxLength: 64 }),
    timeout: Type.Number({ minimum: 0.5, maximum: 300 }),
    publish: Type.Boolean(),
    archive: Type.Boolean(),
  },
  { additionalProperties: false },
);

export type CaptureConfig = Static<typeof CaptureConfigSchema>;

export const captureConfig = nodeConfig('capture', CaptureConfigSchema, CAPTURE_HISTORY, {
  check: (config) => {
    if (config.mode !== 'cron') return;
    try {
      cronSchedule(config.cron, config.timeZone || undefined);
    } catch (err) {
      if (err instanceof CronSettingError) throw new Error(`capture setting "${err.part === 'timeZone' ? 'timeZone' : 'cron'}": ${err.message}`);
      throw err;
    }
  },
});

/** Migrates a stored capture node definition to the current version and validates it; the error names the setting. */
export function captureConfigFrom(def: Record<string, unknown>): CaptureConfig {
  return readNodeConfig(captureConfig, def);
}
