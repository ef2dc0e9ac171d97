import type Database from 'better-sqlite3';
import type { Logger } from '../log/logger';

export interface JournalRetentionLimits {
  /** Events that started longer ago than this are deleted unless kept. Infinity for no limit. */
  maxAgeDays: number;
  /** Bytes of the journal's files (database, WAL, snapshots); the oldest unkept events go first. Infinity for no limit. */
  maxBytes: number;
}

export const DEFAULT_JOURNAL_RETENTION: JournalRetentionLimits = { maxAgeDays: 30, maxBytes: 1024 ** 3 };
/** Below this the WAL and an empty database alone would not fit. */
export const MIN_MAX_BYTES = 1024 ** 2;

export type JournalRetentionRule = 'age' | 'size';

export interface JournalBytes {
  database: number;
  /** The write-ahead log and its index (-wal and -shm). */
  wal: number;
  snapshots: number;
  total: number;
}

/** An event retention may delete: enough to remove it, its zone rows and its snapshot, and to estimate what that frees. */
export interface Victim {
  seq: number;
  start_time: number;
  zones: string;
  snapshot: string | null;
  snapshot_bytes: number;
}

/** What retention needs from the journal: its database, its size on disk, and a way to delete events. */
export interface RetentionTarget {
  readonly db: Database.Database;
  measure(): JournalBytes;
  /** Bytes of database per event, on average; what deleting one event's row frees. */
  bytesPerEvent(): number;
  deleteEvents(victims: Victim[], reason: JournalRetentionRule): void;
}

export interface RetentionResult {
  deleted: Record<JournalRetentionRule, number>;
  bytes: JournalBytes;
}

/** Rows deleted per transaction, so each commit, and the WAL it writes, stays small even for a large backlog. */
const BATCH = 1000;
/**
 * Size retention starts at HIGH_WATER of maxBytes, leaving room for what is written between two checks (a
 * fiftieth of maxBytes by default, plus WAL growth, at most a thirty-second), so the files never pass maxBytes
 * itself; it deletes down to LOW_WATER, so it does not run again after the very next event.
 */
const HIGH_WATER = 0.9;
const LOW_WATER = 0.8;
const MAX_SIZE_ROUNDS = 50;

export function retentionLimits(given: Partial<JournalRetentionLimits>): JournalRetentionLimits {
  const limits = { ...DEFAULT_JOURNAL_RETENTION };
  if (given.maxAgeDays !== undefined) {
    if (typeof given.maxAgeDays !== 'number' || !(given.maxAgeDays > 0))
      throw new Error(`maxAgeDays ${String(given.maxAgeDays)} is invalid: expected a number of days above 0, or Infinity for no limit`);
    limits.maxAgeDays = given.maxAgeDays;
  }
  if (given.maxBytes !== undefined) {
    const value = given.maxBytes;
    if (typeof value !== 'number' || !(value >= MIN_MAX_BYTES) || (Number.isFinite(value) && !Number.isInteger(value))) {
      throw new Error(`maxBytes ${String(value)} is invalid: expected a whole number of bytes of at least ${MIN_MAX_BYTES} (1 MiB), or Infinity for no limit`);
    }
    limits.maxBytes = value;
  }
  return limits;
}

/**
 * Deletes the oldest unkept events until the journal is within its limits. Deleted rows leave free pages in the
 * database; with auto_vacuum=INCREMENTAL, `incremental_vacuum` hands them back and a TRUNCATE checkpoint writes
 * the smaller database out and empties the WAL, so the files on disk really shrink.
 */
export class JournalRetention {
  private readonly aged: Database.Statement<[number, number], Victim>;
  private readonly oldest: Database.Statement<[number], Victim>;
  private overKeptWarned = false;

  constructor(
    readonly limits: JournalRetentionLimits,
    private readonly target: RetentionTarget,
    private readonly log: Logger,
  ) {
    this.aged = target.db.prepare<[number, number], Victim>(
      'SELECT seq, start_time, zones, snapshot, snapshot_bytes FROM events WHERE start_time < ? AND kept = 0 ORDER BY start_time LIMIT ?',
    );
    this.oldest = target.db.prepare<[number], Victim>(
      'SELECT seq, start_time, zones, snapshot, snapshot_bytes FROM events WHERE kept = 0 ORDER BY start_time, seq LIMIT ?',
    );
  }

  run(now: number): RetentionResult {
    const deleted: Record<JournalRetentionRule, number> = { age: 0, size: 0 };
    if (Number.isFinite(this.limits.maxAgeDays)) {
      const cutoff = now - this.limits.maxAgeDays * 86400000;
      for (let batch = this.aged.all(cutoff, BATCH); batch.length > 0; batch = this.aged.all(cutoff, BATCH)) {
        this.target.deleteEvents(batch, 'age');
        deleted.age += batch.length;
      }
    }
    if (deleted.age > 0) this.compact();
    const highWater = this.limits.maxBytes * HIGH_WATER;
    let bytes = this.target.measure();
    for (let round = 0; round < MAX_SIZE_ROUNDS && bytes.total > highWater; round++) {
      const victims = this.chooseBySize(bytes.total - this.limits.maxBytes * LOW_WATER);
      if (victims.length === 0) {
        this.warnOverKept(bytes.total);
        break;
      }
      this.target.deleteEvents(victims, 'size');
      deleted.size += victims.length;
      this.compact();
      bytes = this.target.measure();
    }
    if (bytes.total <= highWater) this.overKeptWarned = false;
    return { deleted, bytes };
  }

  /** The oldest unkept events whose rows and snapshots add up to `excess` bytes, as far as one batch goes. */
  private chooseBySize(excess: number): Victim[] {
    const perEvent = this.target.bytesPerEvent();
    const victims: Victim[] = [];
    let freed = 0;
    for (const victim of this.oldest.all(BATCH)) {
      if (freed >= excess) break;
      victims.push(victim);
      freed += perEvent + victim.snapshot_bytes;
    }
    return victims;
  }

  private compact(): void {
    this.target.db.pragma('incremental_vacuum');
    this.target.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  private warnOverKept(total: number): void {
    if (this.overKeptWarned) return;
    this.overKeptWarned = true;
    this.log.warn(
      { bytes: total, maxBytes: this.limits.maxBytes },
      'event journal is over its size limit with only kept events left: release some kept events or raise the limit',
    );
  }
}

export interface RetentionCadence {
  /** Check after this many inserts... */
  inserts: number;
  /** ...or this many bytes written (rows and snapshots)... */
  bytes: number;
  /** ...or this long since the last check, whichever comes first. */
  ms: number;
}

/** Decides when a write should be followed by a retention pass, so checks cost next to nothing per insert. */
export class RetentionSchedule {
  private inserts = 0;
  private bytes = 0;
  private lastRun: number;

  constructor(
    private readonly cadence: RetentionCadence,
    private readonly clock: () => number,
  ) {
    this.lastRun = clock();
  }

  /** Records a write; true when a pass is due. */
  wrote(inserts: number, bytes: number): boolean {
    this.inserts += inserts;
    this.bytes += bytes;
    return this.inserts >= this.cadence.inserts || this.bytes >= this.cadence.bytes || this.clock() - this.lastRun >= this.cadence.ms;
  }

  ran(): void {
    this.inserts = 0;
    this.bytes = 0;
    this.lastRun = this.clock();
  }
}
