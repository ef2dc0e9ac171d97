/**
 * Jobs: every scheduled thing in Glimpser (captures, AI summaries, retention, sweeps, flows' own `job` nodes) is one
 * job in a persisted store (store.ts) that a scheduler (scheduler.ts) runs: never two runs of a job at once, pause and
 * resume that survive a restart, run-now, runs missed while Glimpser was down recorded on start, and a run history.
 * This file is the interface every part builds against; implementations sit beside it.
 */
import type { JobSchedule } from './schedule';

export { JobValidationError, MIN_INTERVAL_MS, parseSchedule, scheduledTimes } from './schedule';
export type { JobSchedule } from './schedule';

/** Why a run happened: its schedule came due, someone asked (API, MQTT, a flow), or it makes up for missed runs on start. */
export type RunTrigger = 'schedule' | 'manual' | 'catch-up';

/** skipped: due while the previous run was still going; missed: due while Glimpser was not running. */
export type RunOutcome = 'ok' | 'failed' | 'skipped' | 'missed';

/** What registers a job. The scheduler keeps `paused` and the run history from the store across restarts. */
export interface JobDefinition {
  /** Stable across restarts (a node id, `retention.journal`): the history and pause state hang off it. */
  id: string;
  /** What sort of work it is (capture, ai-summary, retention, alert-sweep, flow): metrics and API filters use it. */
  kind: string;
  /** Who defined it: a node id, or `system` for Glimpser's own jobs. */
  owner: string;
  camera?: string | null;
  schedule: JobSchedule;
  /** After runs were missed while Glimpser was down, run once on start to make up for them. */
  catchUp?: boolean;
}

export interface StoredJob {
  id: string;
  kind: string;
  owner: string;
  camera: string | null;
  schedule: JobSchedule;
  paused: boolean;
  catchUp: boolean;
  /** When the last run that did work (ok or failed) started; null before the first. */
  lastRunAt: number | null;
  lastOutcome: 'ok' | 'failed' | null;
  /** The last scheduled time the scheduler dealt with (ran, skipped or recorded as missed): missed runs count from it. */
  lastScheduledFor: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface JobRun {
  id: number;
  jobId: string;
  trigger: RunTrigger;
  /** The scheduled time the run was for; null for a manual run. */
  scheduledFor: number | null;
  startedAt: number;
  endedAt: number | null;
  /** null while the run is going. */
  outcome: RunOutcome | null;
  error: string | null;
  /** What the task returned, cut to 1 KiB. */
  output: string | null;
}

export interface RunQuery {
  jobId: string;
  /** 1-500, default 50. */
  limit?: number;
  /** The `next` of a previous page. */
  cursor?: string;
}

export interface RunPage {
  runs: JobRun[];
  /** Pass as `cursor` for older runs; null on the last page. */
  next: string | null;
}

/** What a task is handed: its abort signal (aborted on close or unregister), why it runs and for which scheduled time. */
export interface JobContext {
  signal: AbortSignal;
  trigger: RunTrigger;
  scheduledFor: number | null;
}

/** The work of a job. A returned string is kept as the run's short output; a throw records the run as failed. */
export type JobTask = (ctx: JobContext) => Promise<string | void>;

export type JobStatus = 'idle' | 'running' | 'paused';

/** A job as the API and MQTT show it. */
export interface JobState extends StoredJob {
  status: JobStatus;
  /** The next scheduled times (ms since the epoch); empty while paused. */
  nextRuns: number[];
}

/** Time as the scheduler sees it: the real clock in Glimpser, a hand-moved one in tests. */
export interface JobClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: JobClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
