import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { Logger } from '../log/logger';
import { deleteZones, type JournalStatements } from './journal-db';
import { journalMetrics } from './journal-metrics';
import type { JournalBytes, JournalRetentionRule, RetentionTarget, Victim } from './retention';
import type { SnapshotFiles } from './snapshots';

/**
 * What the journal holds and occupies: event counts and snapshot bytes, kept in memory (counted once on open)
 * so a size check costs three stat() calls rather than a scan, and the one way events leave the journal.
 */
export class JournalSpace implements RetentionTarget {
  /** Retention passes that deleted events: part of the journal's version (EventJournal.version). */
  deletions = 0;
  events: number;
  keptEvents: number;
  private snapshotBytes: number;

  constructor(
    readonly db: Database.Database,
    private readonly statements: JournalStatements,
    private readonly snapshots: SnapshotFiles,
    private readonly file: string,
    private readonly log: Logger,
  ) {
    const counts = statements.count.get()!;
    this.events = counts.events;
    this.snapshotBytes = counts.snapshotBytes ?? 0;
    this.keptEvents = statements.keptCount.get()!.kept;
  }

  measure(): JournalBytes {
    const size = (file: string) => statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    const database = size(this.file);
    const wal = size(`${this.file}-wal`) + size(`${this.file}-shm`);
    return { database, wal, snapshots: this.snapshotBytes, total: database + wal + this.snapshotBytes };
  }

  bytesPerEvent(): number {
    const pages = (this.db.pragma('page_count', { simple: true }) as number) - (this.db.pragma('freelist_count', { simple: true }) as number);
    return (pages * (this.db.pragma('page_size', { simple: true }) as number)) / Math.max(1, this.events);
  }

  /**
   * Snapshot files go first: a crash between the two steps leaves rows whose snapshot is missing, which the
   * next pass deletes anyway, rather than files no row accounts for, which would never be deleted.
   */
  deleteEvents(victims: Victim[], reason: JournalRetentionRule): void {
    this.deletions++;
    for (const victim of victims) if (victim.snapshot !== null) this.dropSnapshot(victim.snapshot, victim.snapshot_bytes);
    this.db.transaction(() => {
      for (const victim of victims) {
        deleteZones(this.statements, victim);
        this.statements.deleteEvent.run(victim.seq);
      }
    })();
    this.events -= victims.length;
    journalMetrics.deletionsTotal.inc({ reason }, victims.length);
    journalMetrics.journalEvents.set(this.events);
  }

  /** Counts a snapshot written (or rewritten: `replaced` is the size of the one it replaced). */
  addSnapshot(bytes: number, replaced: number): void {
    this.snapshotBytes += bytes - replaced;
  }

  dropSnapshot(name: string, bytes: number): void {
    this.snapshotBytes -= bytes;
    try {
      this.snapshots.remove(name);
    } catch (err) {
      this.log.warn({ snapshot: name, err: (err as Error).message }, 'event journal: could not delete a snapshot');
    }
  }
}
