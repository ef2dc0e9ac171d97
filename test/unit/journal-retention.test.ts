import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../../core/log/logger';
import type { EventInput } from '../../core/store/event';
import { EventJournal, type EventJournalOptions } from '../../core/store/journal';
import { journalMetrics } from '../../core/store/journal-metrics';
import { eventually } from '../support/tools';

const DAY = 86400000;
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const MiB = 1024 ** 2;

let dataDir: string;
const open: EventJournal[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'glimpser-journal-retention-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((journal) => journal.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

function openJournal(options: Partial<EventJournalOptions> = {}): EventJournal {
  const journal = new EventJournal({ dataDir, now: () => T0, ...options });
  open.push(journal);
  journal.open();
  return journal;
}

function event(startTime: number, fields: Partial<EventInput> = {}): EventInput {
  return { camera: 'porch', type: 'motion', startTime, ...fields };
}

function jpeg(size: number): Buffer {
  const bytes = Buffer.alloc(size, 0x55);
  bytes.set([0xff, 0xd8]);
  return bytes;
}

/** What the journal really occupies: every file under <dataDir>/events, counted by the file system, not by it. */
function bytesOnDisk(): number {
  const root = path.join(dataDir, 'events');
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(path.join(entry.parentPath, entry.name)).size, 0);
}

async function deletions(reason: string): Promise<number> {
  const { values } = await journalMetrics.deletionsTotal.get();
  return values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('EventJournal retention by age', () => {
  it('deletes unkept events older than maxAgeDays with their snapshots, on open and on enforceRetention()', async () => {
    let now = T0;
    const first = openJournal({ now: () => now, maxAgeDays: 30 });
    const old = first.insert(event(T0 - 40 * DAY));
    const oldKept = first.insert(event(T0 - 40 * DAY, { kept: true }));
    const recent = first.insert(event(T0 - 10 * DAY));
    await first.saveSnapshot(old.id, jpeg(500));
    await first.saveSnapshot(oldKept.id, jpeg(500));
    await first.close();
    const oldSnapshot = path.join(dataDir, 'events', 'snapshots', 'porch', '2024-03-22', `${old.id}.jpg`);
    expect(existsSync(oldSnapshot)).toBe(true);

    const before = await deletions('age');
    const journal = openJournal({ now: () => now, maxAgeDays: 30 });
    expect(journal.get(old.id)).toBeNull();
    expect(existsSync(oldSnapshot)).toBe(false);
    expect(journal.get(oldKept.id)).toMatchObject({ kept: true });
    expect(journal.snapshotPath(oldKept.id)).not.toBeNull();
    expect(journal.get(recent.id)).not.toBeNull();
    expect(await deletions('age')).toBe(before + 1);

    now = T0 + 25 * DAY;
    expect(journal.enforceRetention().deleted).toEqual({ age: 1, size: 0 });
    expect(journal.get(recent.id)).toBeNull();
    expect(journal.stats()).toMatchObject({ events: 1, keptEvents: 1 });
  });

  it('checks after every N inserts rather than after each one', () => {
    const journal = openJournal({ maxAgeDays: 1, cadence: { inserts: 10, ms: Number.POSITIVE_INFINITY } });
    for (let i = 0; i < 9; i++) journal.insert(event(T0 - 2 * DAY));
    expect(journal.stats().events).toBe(9);
    journal.insert(event(T0));
    expect(journal.stats().events).toBe(1);
  });

  it('applies the limits on its timer as well', async () => {
    let now = T0;
    const journal = openJournal({ now: () => now, maxAgeDays: 1, enforceEveryMs: 20 });
    journal.insert(event(T0));
    now = T0 + 2 * DAY;
    await eventually(async () => (journal.stats().events === 0 ? true : undefined), 5000, 'timer retention');
  });
});

describe('EventJournal retention by size', () => {
  it('stays under maxBytes on disk while events with snapshots keep arriving, and never deletes a kept event', async () => {
    const maxBytes = 2 * MiB;
    const journal = openJournal({ maxBytes });
    const kept: string[] = [];
    let largest = 0;
    for (let i = 0; i < 300; i++) {
      const stored = journal.insert(event(T0 + i * 1000, { zones: ['yard'], data: { note: 'x'.repeat(300) }, kept: i < 5 }));
      if (stored.kept) kept.push(stored.id);
      await journal.saveSnapshot(stored.id, jpeg(24 * 1024));
      largest = Math.max(largest, bytesOnDisk());
    }
    expect(largest).toBeLessThanOrEqual(maxBytes);
    const stats = journal.stats();
    expect(stats.bytes.total).toBeLessThanOrEqual(maxBytes);
    // Most of the limit is in use: retention deletes what it must, not everything.
    expect(stats.bytes.total).toBeGreaterThan(maxBytes * 0.6);
    expect(stats.events).toBeGreaterThan(40);
    for (const id of kept) expect(journal.snapshotPath(id)).not.toBeNull();
    for (const id of kept) expect(existsSync(journal.snapshotPath(id)!)).toBe(true);
    // The oldest unkept events went first: what is left is the kept five and an unbroken run of the newest.
    const left = journal
      .query({ limit: 500 })
      .events.filter((e) => !e.kept)
      .map((e) => e.startTime);
    expect(left[0]).toBe(T0 + 299 * 1000);
    expect(left).toEqual(left.map((_, i) => T0 + (299 - i) * 1000));
  });

  it('shrinks the database file when a smaller limit applies (incremental vacuum, no VACUUM)', async () => {
    const big = openJournal({ maxBytes: Number.POSITIVE_INFINITY });
    const keptEvent = big.insert(event(T0 - 1000, { kept: true }));
    for (let batch = 0; batch < 10; batch++) {
      big.insertMany(Array.from({ length: 400 }, (_, i) => event(T0 + batch * 400 + i, { data: { text: 'y'.repeat(1500) }, zones: ['yard', 'gate'] })));
    }
    await big.close();
    const before = statSync(path.join(dataDir, 'events', 'journal.db')).size;
    expect(before).toBeGreaterThan(6 * MiB);

    const small = openJournal({ maxBytes: 2 * MiB });
    expect(bytesOnDisk()).toBeLessThanOrEqual(2 * MiB);
    expect(statSync(small.file).size).toBeLessThan(2 * MiB);
    expect(small.get(keptEvent.id)).toMatchObject({ kept: true });
    expect(small.query({ zone: 'gate', limit: 1 }).events[0].startTime).toBe(T0 + 3999);
  });

  it('warns once, and deletes nothing, when kept events alone exceed the limit', async () => {
    const warnings: string[] = [];
    const logger: Logger = {
      error: () => undefined,
      warn: (_obj: unknown, msg?: string) => warnings.push(msg ?? ''),
      info: () => undefined,
      debug: () => undefined,
      child: () => logger,
    };
    const journal = openJournal({ maxBytes: MiB, logger });
    for (let i = 0; i < 6; i++) {
      const stored = journal.insert(event(T0 + i, { kept: true }));
      await journal.saveSnapshot(stored.id, jpeg(200 * 1024));
    }
    journal.enforceRetention();
    journal.enforceRetention();
    expect(journal.stats()).toMatchObject({ events: 6, keptEvents: 6 });
    expect(warnings).toEqual(['event journal is over its size limit with only kept events left: release some kept events or raise the limit']);
  });
});

describe('EventJournal retention limits', () => {
  it('refuses limits that make no sense', () => {
    expect(() => new EventJournal({ dataDir, maxBytes: 1000 })).toThrow(
      'maxBytes 1000 is invalid: expected a whole number of bytes of at least 1048576 (1 MiB), or Infinity for no limit',
    );
    expect(() => new EventJournal({ dataDir, maxAgeDays: 0 })).toThrow(/maxAgeDays 0 is invalid/);
    expect(() => new EventJournal({ dataDir, synchronous: 'off' as 'full' })).toThrow('synchronous "off" is invalid: expected "normal" or "full"');
    expect(() => new EventJournal({ dataDir, maxBytes: Number.POSITIVE_INFINITY, maxAgeDays: Number.POSITIVE_INFINITY })).not.toThrow();
  });
});
