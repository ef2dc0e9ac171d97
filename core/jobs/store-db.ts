import Database from 'better-sqlite3';
import { openVersionedDb } from '../store/sqlite';

/**
 * The jobs store's own SQLite file (`<dataDir>/jobs/jobs.db`): job definitions with their pause state and schedule
 * cursor, and the run history. Runs are keyed by an increasing integer, so the history pages by id (keyset, newest
 * first) and retention by count per job deletes below the id of the oldest run kept. WAL with synchronous=NORMAL: a
 * killed process loses nothing; a power cut may lose the last run records, which costs at most a re-run on start.
 */
const SCHEMA = `
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  owner TEXT NOT NULL,
  camera TEXT,
  schedule TEXT NOT NULL,
  paused INTEGER NOT NULL DEFAULT 0,
  catch_up INTEGER NOT NULL DEFAULT 0,
  last_run_at INTEGER,
  last_outcome TEXT,
  last_scheduled_for INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'catch-up')),
  scheduled_for INTEGER,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  outcome TEXT CHECK (outcome IN ('ok', 'failed', 'skipped', 'missed')),
  error TEXT,
  output TEXT
);
CREATE INDEX runs_job ON runs (job_id, id);
CREATE INDEX runs_started ON runs (started_at);
`;
const SCHEMA_VERSION = 1;

export function openJobsDb(file: string): Database.Database {
  return openVersionedDb(file, {
    what: 'jobs store',
    schema: SCHEMA,
    version: SCHEMA_VERSION,
    pragmas: (db) => {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
    },
  });
}

export interface JobRow {
  id: string;
  kind: string;
  owner: string;
  camera: string | null;
  schedule: string;
  paused: number;
  catch_up: number;
  last_run_at: number | null;
  last_outcome: string | null;
  last_scheduled_for: number | null;
  created_at: number;
  updated_at: number;
}

export interface RunRow {
  id: number;
  job_id: string;
  trigger: string;
  scheduled_for: number | null;
  started_at: number;
  ended_at: number | null;
  outcome: string | null;
  error: string | null;
  output: string | null;
}
