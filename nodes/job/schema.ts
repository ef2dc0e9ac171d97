import { Type, type Static } from '@sinclair/typebox';
import { localTimeZone } from '../../core/capture/sampler';
import { JobValidationError, parseSchedule, type JobSchedule } from '../../core/jobs/schedule';
import { nodeConfig, readNodeConfig, Settings } from '../shared/config';
import { JOB_HISTORY } from './migrations';

/** job node configuration, version 1. */
export const JobConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Settings.name(),
    scheduleKind: Type.Union([Type.Literal('cron'), Type.Literal('interval')]),
    cron: Type.String({ maxLength: 128 }),
    /** Empty: the machine's zone. */
    timeZone: Settings.timeZone(),
    /** Seconds between runs (interval schedules). */
    interval: Type.Number({ maximum: 31_536_000 }),
    /** After runs were missed while Glimpser was down, run once on start. */
    catchUp: Type.Boolean(),
    /** Seconds the flow has to report a run's outcome before the run is recorded as failed. */
    timeout: Type.Number({ minimum: 1, maximum: 86_400 }),
  },
  { additionalProperties: false },
);

export type JobConfig = Static<typeof JobConfigSchema>;

/** The setting each schedule field comes from, so a wrong schedule names what the user typed. */
const SETTING_OF: Record<string, string> = { 'schedule.expression': 'cron', 'schedule.timeZone': 'timeZone', 'schedule.everyMs': 'interval' };

/** The node's schedule, checked by the scheduler's own parser; an error names the node setting that is wrong. */
export function jobScheduleOf(config: JobConfig): JobSchedule {
  const input =
    config.scheduleKind === 'interval'
      ? { kind: 'interval', everyMs: Math.round(config.interval * 1000) }
      : { kind: 'cron', expression: config.cron, timeZone: config.timeZone || localTimeZone() };
  try {
    return parseSchedule(input);
  } catch (err) {
    if (!(err instanceof JobValidationError)) throw err;
    const setting = SETTING_OF[err.field] ?? 'scheduleKind';
    if (setting === 'interval') throw new Error(`job setting "interval" must be at least 1 second, got ${JSON.stringify(config.interval)}`);
    if (setting === 'timeZone') throw new Error(`job setting "timeZone": ${JSON.stringify(config.timeZone)} is not an IANA zone like "Europe/Paris"`);
    throw new Error(`job setting "${setting}": ${err.message.slice(err.field.length + 2)}`);
  }
}

export const jobConfig = nodeConfig('job', JobConfigSchema, JOB_HISTORY, { check: (config) => void jobScheduleOf(config) });

/** Reads and validates a stored job definition (missing settings get their defaults); errors name the setting. */
export function jobConfigFrom(def: Record<string, unknown>): JobConfig {
  return readNodeConfig(jobConfig, def);
}
