import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { EventInput } from '../../core/store/event';
import { EventJournal, type EventQuery, type StoredEvent } from '../../core/store/journal';
import { eventQuerySql } from '../../core/store/journal-query';

const T0 = Date.UTC(2024, 4, 1, 0, 0, 0);
const MINUTE = 60000;

let dataDir: string;
let journal: EventJournal;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'glimpser-journal-query-'));
  journal = new EventJournal({ dataDir, now: () => T0 });
  journal.open();
});

afterEach(async () => {
  await journal.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Newest first, as the journal pages: start time, then the order they were written in. */
function newestFirst(events: StoredEvent[]): string[] {
  const order = new Map(events.map((event, i) => [event.id, i]));
  return [...events].sort((a, b) => b.startTime - a.startTime || order.get(b.id)! - order.get(a.id)!).map((event) => event.id);
}

function allPages(query: Omit<EventQuery, 'cursor'>): { ids: string[]; pages: number } {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = journal.query({ ...query, cursor });
    ids.push(...page.events.map((event) => event.id));
    cursor = page.next ?? undefined;
    pages++;
  } while (cursor !== undefined);
  return { ids, pages };
}

/** 240 events on 3 cameras and 2 types, many sharing a start time, a third of them in zone "yard". */
function seed(): StoredEvent[] {
  const inputs: EventInput[] = [];
  for (let i = 0; i < 240; i++) {
    inputs.push({
      camera: ['porch', 'garage', 'drive'][i % 3],
      type: i % 4 === 0 ? 'tamper' : 'motion',
      // Four events per minute share each start time, so pages often end in the middle of a tie.
      startTime: T0 + Math.floor(i / 4) * MINUTE,
      zones: i % 3 === 0 ? ['yard', 'gate'] : i % 3 === 1 ? ['gate'] : [],
    });
  }
  return journal.insertMany(inputs);
}

describe('EventJournal.query paging', () => {
  it('pages newest first through every event exactly once, whatever the page size', () => {
    const events = seed();
    for (const limit of [1, 7, 50, 240, 500]) {
      const { ids, pages } = allPages({ limit });
      expect(ids).toEqual(newestFirst(events));
      expect(pages).toBe(Math.max(1, Math.ceil(240 / limit)));
    }
  });

  it('neither repeats nor skips events when new ones arrive between pages', () => {
    const events = seed();
    const first = journal.query({ limit: 25 });
    journal.insertMany(Array.from({ length: 30 }, () => ({ camera: 'porch', type: 'motion', startTime: T0 + 500 * MINUTE })));
    // One arrives inside the range still to be read, at the same start time as events on the next page.
    const late = journal.insert({ camera: 'porch', type: 'motion', startTime: first.events[24].startTime - MINUTE });
    const rest = allPagesFrom(first.next!, 25);
    expect([...first.events.map((e) => e.id), ...rest]).toEqual(newestFirst([...events, late]));
  });

  it('pages each filter without gaps or repeats', () => {
    const events = seed();
    const filters: Array<[Omit<EventQuery, 'limit'>, (e: StoredEvent) => boolean]> = [
      [{ camera: 'garage' }, (e) => e.camera === 'garage'],
      [{ type: 'tamper' }, (e) => e.type === 'tamper'],
      [{ zone: 'yard' }, (e) => e.zones.includes('yard')],
      [{ zone: 'gate', camera: 'garage' }, (e) => e.zones.includes('gate') && e.camera === 'garage'],
      [{ from: T0 + 10 * MINUTE, to: T0 + 20 * MINUTE }, (e) => e.startTime >= T0 + 10 * MINUTE && e.startTime < T0 + 20 * MINUTE],
      [{ camera: 'porch', type: 'tamper', from: T0 + 30 * MINUTE }, (e) => e.camera === 'porch' && e.type === 'tamper' && e.startTime >= T0 + 30 * MINUTE],
      [{ zone: 'yard', to: T0 + 5 * MINUTE }, (e) => e.zones.includes('yard') && e.startTime < T0 + 5 * MINUTE],
      [{ camera: 'nowhere' }, () => false],
    ];
    for (const [filter, matches] of filters) {
      const expected = newestFirst(events.filter(matches));
      expect({ filter, ids: allPages({ ...filter, limit: 9 }).ids }).toEqual({ filter, ids: expected });
    }
  });

  it('follows an update of zones in zone queries', () => {
    const event = journal.insert({ camera: 'porch', type: 'motion', startTime: T0, zones: ['gate'] });
    journal.update(event.id, { zones: ['pool'] });
    expect(journal.query({ zone: 'gate', limit: 10 }).events).toEqual([]);
    expect(journal.query({ zone: 'pool', limit: 10 }).events.map((e) => e.id)).toEqual([event.id]);
  });

  it('refuses a bad query, naming the parameter', () => {
    expect(() => journal.query({ limit: 0 })).toThrow('limit: expected a whole number from 1 to 500, got 0');
    expect(() => journal.query({ limit: 501 })).toThrow('limit: expected a whole number from 1 to 500, got 501');
    expect(() => journal.query({ limit: 5, from: 10, to: 10 })).toThrow('from: expected a time before to (10), got 10');
    expect(() => journal.query({ limit: 5, cursor: 'page-2' })).toThrow('cursor: expected the "next" value of a previous page, got "page-2"');
    expect(() => journal.query({ limit: 5, camera: 'Front Door' })).toThrow(/^camera: expected a camera id/);
    expect(() => journal.query({ limit: 5, zone: '../x' })).toThrow(/^zone: expected a zone name/);
    expect(() => journal.query({ limit: 5, colour: 'red' })).toThrow(
      /^colour: expected one of the known properties \(camera, type, zone, from, to, limit, cursor\)/,
    );
  });
});

describe('EventJournal.query plans', () => {
  it.each([
    [['limit']],
    [['camera', 'limit']],
    [['type', 'limit', 'from', 'to']],
    [['camera', 'type', 'limit', 'cursorTime', 'cursorSeq']],
    [['zone', 'limit']],
    [['zone', 'camera', 'from', 'to', 'limit', 'cursorTime', 'cursorSeq']],
  ])('reads %j newest first from an index, with no sort step', (parameters) => {
    const raw = new Database(journal.file, { readonly: true });
    try {
      const values = Object.fromEntries(parameters.map((name) => [name, ['camera', 'type', 'zone'].includes(name) ? 'x' : 1]));
      const plan = raw.prepare(`EXPLAIN QUERY PLAN ${eventQuerySql(parameters)}`).all(values) as Array<{ detail: string }>;
      const details = plan.map((step) => step.detail).join('\n');
      expect(details).not.toMatch(/TEMP B-TREE|SCAN e\b(?! USING)/);
      expect(details).toMatch(/USING (COVERING |PRIMARY KEY|INDEX|INTEGER PRIMARY KEY)/);
    } finally {
      raw.close();
    }
  });
});

function allPagesFrom(cursor: string, limit: number): string[] {
  const ids: string[] = [];
  for (let next: string | null = cursor; next !== null;) {
    const page = journal.query({ limit, cursor: next });
    ids.push(...page.events.map((event) => event.id));
    next = page.next;
  }
  return ids;
}
