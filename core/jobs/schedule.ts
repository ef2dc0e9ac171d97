import { Cron } from 'croner';

/**
 * When a job runs: a cron expression read in an IANA time zone (so "02:30 every day" means 02:30 on the wall clock
 * there, across daylight-saving changes), or a fixed interval counted from the previous scheduled time.
 *
 * Daylight saving, as croner defines it and test/unit/jobs-dst.test.ts checks: a local time that does not exist (02:30
 * on the spring-forward day in Europe/Berlin) runs once at the first valid time after the gap (03:00 local); a local
 * time that exists twice (02:30 on the fall-back day) runs once, at its first occurrence (summer time). So a daily job
 * runs once per local day, and an hourly job runs 23 times on the 23-hour day and 25 times on the 25-hour day (every
 * real hour, the repeated 02:00 included).
 */
export type JobSchedule = { kind: 'cron'; expression: string; timeZone: string } | { kind: 'interval'; everyMs: number };

/** A job definition or schedule that cannot be used; `field` names the input that was wrong (`schedule.timeZone`). */
export class JobValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'JobValidationError';
  }
}

/** Below one second an interval job is a busy loop, not a schedule. */
export const MIN_INTERVAL_MS = 1000;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Checks a schedule from any source (API body, node config, stored JSON) and returns it typed, or throws JobValidationError. */
export function parseSchedule(input: unknown): JobSchedule {
  if (typeof input !== 'object' || input === null) throw new JobValidationError('schedule', 'expected an object with kind "cron" or "interval"');
  const s = input as Record<string, unknown>;
  if (s.kind === 'interval') {
    const everyMs = s.everyMs;
    if (typeof everyMs !== 'number' || !Number.isInteger(everyMs) || everyMs < MIN_INTERVAL_MS) {
      throw new JobValidationError(
        'schedule.everyMs',
        `expected a whole number of milliseconds of at least ${MIN_INTERVAL_MS}, got ${JSON.stringify(everyMs)}`,
      );
    }
    return { kind: 'interval', everyMs };
  }
  if (s.kind !== 'cron') throw new JobValidationError('schedule.kind', `expected "cron" or "interval", got ${JSON.stringify(s.kind)}`);
  const { expression, timeZone } = s;
  if (typeof timeZone !== 'string' || timeZone === '' || !isTimeZone(timeZone)) {
    throw new JobValidationError('schedule.timeZone', `expected an IANA time zone such as "Europe/Berlin" or "UTC", got ${JSON.stringify(timeZone)}`);
  }
  if (typeof expression !== 'string') throw new JobValidationError('schedule.expression', `expected a cron expression, got ${JSON.stringify(expression)}`);
  try {
    // Croner checks the pattern when it is built; an expression that never matches (30 2 31 2 *) is refused too.
    if (new Cron(expression, { timezone: timeZone, paused: true }).nextRun() === null) throw new Error('it never matches a date');
  } catch (err) {
    throw new JobValidationError('schedule.expression', `${JSON.stringify(expression)} is not a valid cron expression: ${(err as Error).message}`);
  }
  return { kind: 'cron', expression, timeZone };
}

/**
 * The schedule's times strictly after `after` (ms since the epoch), at most `count` of them and none after `until`.
 * Intervals count from `after`, which the scheduler sets to the previous scheduled time. Croner is asked with an
 * explicit start date, never its own clock, so an injected clock decides what "now" is.
 */
export function scheduledTimes(schedule: JobSchedule, after: number, count: number, until = Number.POSITIVE_INFINITY): number[] {
  const times: number[] = [];
  if (schedule.kind === 'interval') {
    for (let t = after + schedule.everyMs; times.length < count && t <= until; t += schedule.everyMs) times.push(t);
    return times;
  }
  const cron = new Cron(schedule.expression, { timezone: schedule.timeZone, paused: true });
  let from = new Date(after);
  while (times.length < count) {
    const next = cron.nextRun(from);
    if (next === null || next.getTime() > until) break;
    times.push(next.getTime());
    from = next;
  }
  return times;
}
