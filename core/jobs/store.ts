import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { JobDefinition, JobRun, RunOutcome, RunPage, RunQuery, RunTrigger, StoredJob } from './index';
import { JobValidationError, parseSchedule } from './schedule';
import { openJobsDb, type JobRow, type RunRow } from './store-db';

/** A run's output is a status line for people, not a log: longer output is cut here. */
export const MAX_OUTPUT_BYTES = 1024;

export interface RunRetention {
  /** Runs kept per job, newest first. */
  keepPerJob: number;
  /** Runs that started longer ago than this are deleted, however few a job has. */
  maxAgeMs: number;
}

export const DEFAULT_RETENTION: RunRetention = { keepPerJob: 500, maxAgeMs: 30 * 24 * 3600 * 1000 };

export interface JobFilter {
  kind?: string;
  camera?: string;
}

function cut(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= MAX_OUTPUT_BYTES
    ? text
    : bytes
        .subarray(0, MAX_OUTPUT_BYTES - 3)
        .toString('utf8')
        .replace(/\uFFFD$/, '') + '...';
}

function toJob(row: JobRow): StoredJob {
  return {
    id: row.id,
    kind: row.kind,
    owner: row.owner,
    camera: row.camera,
    schedule: parseSchedule(JSON.parse(row.schedule)),
    paused: row.paused === 1,
    catchUp: row.catch_up === 1,
    lastRunAt: row.last_run_at,
    lastOutcome: row.last_outcome as StoredJob['lastOutcome'],
    lastScheduledFor: row.last_scheduled_for,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRun(row: RunRow): JobRun {
  return {
    id: row.id,
    jobId: row.job_id,
    trigger: row.trigger as RunTrigger,
    scheduledFor: row.scheduled_for,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    outcome: row.outcome as RunOutcome | null,
    error: row.error,
    output: row.output,
  };
}

/** Jobs and their run history in `<dataDir>/jobs/jobs.db`. Synchronous: every call is one short SQLite statement. */
export class JobStore {
  private constructor(
    private readonly db: Database.Database,
    private readonly retention: RunRetention,
  ) {}

  /**
   * Opens the store; a run left without an outcome was going when Glimpser stopped, so it is closed as failed —
   * a history never shows a run as going that nothing runs.
   */
  static open(dataDir: string, retention: RunRetention = DEFAULT_RETENTION, now = Date.now()): JobStore {
    const dir = path.join(dataDir, 'jobs');
    mkdirSync(dir, { recursive: true });
    const db = openJobsDb(path.join(dir, 'jobs.db'));
    db.prepare("UPDATE runs SET outcome = 'failed', ended_at = @now, error = 'interrupted: Glimpser stopped during the run' WHERE outcome IS NULL").run({
      now,
    });
    return new JobStore(db, retention);
  }

  /** Writes a job's definition, keeping what belongs to the store (pause state, last run, schedule cursor, created). */
  upsertJob(def: JobDefinition, now: number): StoredJob {
    if (typeof def.id !== 'string' || def.id === '') throw new JobValidationError('id', 'expected a non-empty job id');
    if (typeof def.kind !== 'string' || def.kind === '') throw new JobValidationError('kind', 'expected a non-empty job kind');
    const schedule = parseSchedule(def.schedule);
    this.db
      .prepare(
        `INSERT INTO jobs (id, kind, owner, camera, schedule, catch_up, created_at, updated_at)
         VALUES (@id, @kind, @owner, @camera, @schedule, @catchUp, @now, @now)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, owner = excluded.owner, camera = excluded.camera,
           schedule = excluded.schedule, catch_up = excluded.catch_up, updated_at = excluded.updated_at`,
      )
      .run({ id: def.id, kind: def.kind, owner: def.owner, camera: def.camera ?? null, schedule: JSON.stringify(schedule), catchUp: def.catchUp ? 1 : 0, now });
    return this.getJob(def.id) as StoredJob;
  }

  getJob(id: string): StoredJob | null {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  listJobs(filter: JobFilter = {}): StoredJob[] {
    const rows = this.db
      .prepare('SELECT * FROM jobs WHERE (@kind IS NULL OR kind = @kind) AND (@camera IS NULL OR camera = @camera) ORDER BY id')
      .all({ kind: filter.kind ?? null, camera: filter.camera ?? null }) as JobRow[];
    return rows.map(toJob);
  }

  /** Forgets a job and its history (a node deleted from the flows, not one stopped for a redeploy). */
  deleteJob(id: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM runs WHERE job_id = ?').run(id);
      this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
    })();
  }

  setPaused(id: string, paused: boolean, now: number): void {
    this.db.prepare('UPDATE jobs SET paused = ?, updated_at = ? WHERE id = ?').run(paused ? 1 : 0, now, id);
  }

  /** Moves the schedule cursor: the scheduled times up to `scheduledFor` are dealt with. */
  setCursor(id: string, scheduledFor: number): void {
    this.db.prepare('UPDATE jobs SET last_scheduled_for = MAX(COALESCE(last_scheduled_for, 0), ?) WHERE id = ?').run(scheduledFor, id);
  }

  /** Records a run as started (outcome null until finishRun). */
  startRun(jobId: string, trigger: RunTrigger, scheduledFor: number | null, startedAt: number): JobRun {
    const row = this.db
      .prepare('INSERT INTO runs (job_id, trigger, scheduled_for, started_at) VALUES (?, ?, ?, ?) RETURNING *')
      .get(jobId, trigger, scheduledFor, startedAt) as RunRow;
    this.db.prepare('UPDATE jobs SET last_run_at = ? WHERE id = ?').run(startedAt, jobId);
    return toRun(row);
  }

  finishRun(runId: number, outcome: 'ok' | 'failed', endedAt: number, error: string | null, output: string | null): JobRun {
    const row = this.db
      .prepare('UPDATE runs SET outcome = ?, ended_at = ?, error = ?, output = ? WHERE id = ? RETURNING *')
      .get(outcome, endedAt, cut(error), cut(output), runId) as RunRow;
    this.db.prepare('UPDATE jobs SET last_outcome = ? WHERE id = ?').run(outcome, row.job_id);
    this.prune(row.job_id, endedAt);
    return toRun(row);
  }

  /** Records a run that did not happen: skipped (the previous one was going) or missed (Glimpser was down). */
  recordNotRun(jobId: string, trigger: RunTrigger, scheduledFor: number | null, outcome: 'skipped' | 'missed', at: number, reason: string): JobRun {
    const row = this.db
      .prepare('INSERT INTO runs (job_id, trigger, scheduled_for, started_at, ended_at, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *')
      .get(jobId, trigger, scheduledFor, at, at, outcome, reason) as RunRow;
    this.prune(jobId, at);
    return toRun(row);
  }

  /** A job's runs, newest first, paged by run id (keyset: a page stays right while new runs are added). */
  runs(query: RunQuery): RunPage {
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new JobValidationError('limit', `expected a whole number from 1 to 500, got ${limit}`);
    let before = Number.MAX_SAFE_INTEGER;
    if (query.cursor !== undefined) {
      const match = /^r(\d{1,16})$/.exec(Buffer.from(query.cursor, 'base64url').toString('latin1'));
      if (!match) throw new JobValidationError('cursor', `expected the "next" value of a previous page, got ${JSON.stringify(query.cursor)}`);
      before = Number(match[1]);
    }
    const rows = this.db.prepare('SELECT * FROM runs WHERE job_id = ? AND id < ? ORDER BY id DESC LIMIT ?').all(query.jobId, before, limit + 1) as RunRow[];
    const more = rows.length > limit;
    const runs = rows.slice(0, limit).map(toRun);
    return { runs, next: more ? Buffer.from(`r${runs[runs.length - 1].id}`, 'latin1').toString('base64url') : null };
  }

  /** Keeps a job's newest `keepPerJob` runs and drops runs older than `maxAgeMs` (a run still going is kept). */
  prune(jobId: string, now: number): void {
    const { keepPerJob, maxAgeMs } = this.retention;
    this.db
      .prepare(
        `DELETE FROM runs WHERE job_id = @jobId AND outcome IS NOT NULL AND (started_at < @oldest OR id <= COALESCE(
           (SELECT id FROM runs WHERE job_id = @jobId ORDER BY id DESC LIMIT 1 OFFSET @keep), -1))`,
      )
      .run({ jobId, oldest: now - maxAgeMs, keep: keepPerJob });
  }

  close(): void {
    this.db.close();
  }
}
