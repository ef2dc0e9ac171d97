import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { EventValidationError, type EventInput } from '../../core/store/event';
import { EVENT_ID_PATTERN } from '../../core/store/event-id';
import { EventJournal, type EventChange, type EventJournalOptions } from '../../core/store/journal';

const T0 = Date.UTC(2024, 4, 1, 23, 0, 0);

let dataDir: string;
const open: EventJournal[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'glimpser-journal-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((journal) => journal.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

function openJournal(options: Partial<EventJournalOptions> = {}): EventJournal {
  // A clock next to the events keeps the default 30-day age limit out of tests about other things.
  const journal = new EventJournal({ dataDir, now: () => T0 + 1000, ...options });
  open.push(journal);
  journal.open();
  return journal;
}

function motion(fields: Partial<EventInput> = {}): EventInput {
  return { camera: 'porch', type: 'motion', startTime: T0, ...fields };
}

function jpeg(size: number, fill = 7): Buffer {
  const bytes = Buffer.alloc(size, fill);
  bytes.set([0xff, 0xd8, 0xff, 0xe0]);
  return bytes;
}

function errorOf(action: () => unknown): EventValidationError {
  try {
    action();
  } catch (err) {
    if (err instanceof EventValidationError) return err;
    throw err;
  }
  throw new Error('expected an EventValidationError, but nothing was thrown');
}

describe('EventJournal storage', () => {
  it('stores an event with defaults filled in and reads the same event back', () => {
    const journal = openJournal();
    const stored = journal.insert(motion({ score: 0.4, zones: ['yard'], boxes: [{ x: 0.1, y: 0.2, width: 0.3, height: 0.4 }] }));
    expect(stored).toEqual({
      id: expect.stringMatching(EVENT_ID_PATTERN),
      camera: 'porch',
      type: 'motion',
      subtype: null,
      startTime: T0,
      endTime: null,
      score: 0.4,
      boxes: [{ x: 0.1, y: 0.2, width: 0.3, height: 0.4 }],
      zones: ['yard'],
      snapshot: null,
      kept: false,
      data: {},
      createdAt: T0 + 1000,
      updatedAt: T0 + 1000,
    });
    expect(journal.get(stored.id)).toEqual(stored);
    expect(journal.get('01HXXXXXXXXXXXXXXXXXXXXXXX')).toBeNull();
    expect(journal.get('../../etc/passwd')).toBeNull();
  });

  it('gives ids that sort like the events start, whatever order they are written in', () => {
    const journal = openJournal();
    const late = journal.insert(motion({ startTime: T0 + 5000 }));
    const early = journal.insert(motion({ startTime: T0 }));
    const same = journal.insert(motion({ startTime: T0 }));
    expect(early.id < late.id && same.id < late.id).toBe(true);
    // The first 10 characters are the start time; the other 16 are random, so events of the same instant differ.
    expect(early.id.slice(0, 10)).toBe(same.id.slice(0, 10));
    expect(early.id).not.toBe(same.id);
  });

  it('keeps the database at <dataDir>/events/journal.db in WAL mode with incremental auto-vacuum', () => {
    const journal = openJournal({ synchronous: 'full' });
    journal.insert(motion());
    expect(journal.file).toBe(path.join(dataDir, 'events', 'journal.db'));
    const raw = new Database(journal.file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('auto_vacuum', { simple: true })).toBe(2);
    } finally {
      raw.close();
    }
    expect(journal.stats()).toMatchObject({ events: 1, keptEvents: 0, oldest: T0, newest: T0, synchronous: 'full' });
  });

  it('finds every event and the counts again after a close and a reopen', async () => {
    const first = openJournal();
    const a = first.insert(motion({ kept: true }));
    const [b, c] = first.insertMany([motion({ camera: 'garage' }), motion({ type: 'tamper', data: { why: 'covered' } })]);
    await first.close();
    const second = openJournal();
    expect([a, b, c].map((e) => second.get(e.id))).toEqual([a, b, c]);
    expect(second.stats()).toMatchObject({ events: 3, keptEvents: 1 });
  });

  it('refuses an unknown schema version instead of guessing', async () => {
    openJournal();
    await open.splice(0)[0].close();
    const raw = new Database(path.join(dataDir, 'events', 'journal.db'));
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => openJournal()).toThrow(/journal.db could not be opened: schema version 99 is newer than this Glimpser understands \(1\): upgrade Glimpser/);
  });

  it('names the file when it is not a database', () => {
    mkdirSync(path.join(dataDir, 'events'));
    writeFileSync(path.join(dataDir, 'events', 'journal.db'), 'not a database, just text '.repeat(100));
    expect(() => openJournal()).toThrow(/events\/journal\.db could not be opened: file is not a database/);
  });
});

describe('EventJournal validation', () => {
  const at = (field: string) => new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: expected `);

  it.each<[string, unknown, string, RegExp]>([
    ['a missing camera', { type: 'motion', startTime: T0 }, 'event.camera', /expected a camera id: .*, got nothing$/],
    ['a camera id with spaces', motion({ camera: 'Front Door' }), 'event.camera', /got "Front Door"$/],
    ['a type with capitals', motion({ type: 'Motion' }), 'event.type', /expected an event type: 1-32 characters of a-z or "_"/],
    ['a negative start', motion({ startTime: -1 }), 'event.startTime', /expected milliseconds since the epoch .*, got -1$/],
    ['a start in seconds with a fraction', motion({ startTime: 1714.5 }), 'event.startTime', /got 1714.5$/],
    ['a start as a string', { ...motion(), startTime: '2024-05-01' }, 'event.startTime', /got "2024-05-01"$/],
    ['an end before the start', motion({ endTime: T0 - 1 }), 'event.endTime', /expected a time at or after startTime/],
    [
      'an end that is not a time',
      { ...motion(), endTime: 'soon' },
      'event.endTime',
      /expected milliseconds since the epoch, or null while the event lasts, got "soon"$/,
    ],
    ['a score above 1', motion({ score: 7 }), 'event.score', /expected a number from 0 to 1, got 7$/],
    ['a score that is not a number', motion({ score: Number.NaN }), 'event.score', /got NaN$/],
    ['a box leaving the picture', motion({ boxes: [{ x: 0.9, y: 0, width: 0.2, height: 0.1 }] }), 'event.boxes[0]', /x \+ width at most 1/],
    [
      'a box in pixels',
      motion({
        boxes: [
          { x: 0, y: 0, width: 0.1, height: 0.1 },
          { x: 0, y: 0, width: 640, height: 0.1 },
        ],
      }),
      'event.boxes[1].width',
      /expected a fraction of the picture from 0 to 1, got 640$/,
    ],
    ['a box without a height', { ...motion(), boxes: [{ x: 0, y: 0, width: 0.1 }] }, 'event.boxes[0].height', /got nothing$/],
    ['a zone name with a space', motion({ zones: ['front yard'] }), 'event.zones[0]', /expected a zone name/],
    ['the same zone twice', motion({ zones: ['yard', 'yard'] }), 'event.zones', /expected a list of at most 32 different zone names/],
    ['data that is a list', { ...motion(), data: [1, 2] }, 'event.data', /expected a JSON object, got \[1,2\]$/],
    ['data over 64 KiB', motion({ data: { text: 'x'.repeat(70000) } }), 'event.data', /expected at most 64 KiB of JSON/],
    ['data that is not JSON', motion({ data: { big: BigInt(1) } }), 'event.data', /expected a JSON object \(.*BigInt/],
    ['an unknown property', { ...motion(), colour: 'red' }, 'event.colour', /expected one of the known properties \(camera, type, .*\), got "red"$/],
    ['an id chosen by the caller', { ...motion(), id: 'mine' }, 'event.id', /known properties/],
    ['not an object', null, 'event', /expected an event object, got null$/],
  ])('refuses %s, naming the field', (_what, input, field, message) => {
    const journal = openJournal();
    const err = errorOf(() => journal.insert(input));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(at(field));
    expect(err.message).toMatch(message);
    expect(journal.stats().events).toBe(0);
  });

  it('stores none of a batch when one of its events is wrong, and names which one', () => {
    const journal = openJournal();
    const err = errorOf(() => journal.insertMany([motion(), motion({ camera: 'Bad' }), motion()]));
    expect(err.message).toMatch(/^events\[1\]\.camera: expected a camera id/);
    expect(errorOf(() => journal.insertMany({ not: 'a list' })).message).toBe('events: expected a list of events, got {"not":"a list"}');
    expect(journal.stats().events).toBe(0);
    expect(journal.insertMany([])).toEqual([]);
  });

  it('refuses wrong patches, naming the field', () => {
    const journal = openJournal();
    const { id } = journal.insert(motion());
    expect(errorOf(() => journal.update(id, {})).message).toBe(
      'patch: expected a patch with at least one of endTime, score, boxes, zones, data, snapshot, got {}',
    );
    expect(errorOf(() => journal.update(id, { endTime: T0 - 5 })).message).toMatch(/^patch\.endTime: expected a time at or after the event's startTime/);
    expect(errorOf(() => journal.update(id, { camera: 'garage' })).field).toBe('patch.camera');
    expect(errorOf(() => journal.update(id, { snapshot: 'porch/2024-05-01/x.jpg' })).message).toMatch(
      /^patch\.snapshot: expected null \(to drop the snapshot; saveSnapshot\(\) sets one\)/,
    );
    expect(errorOf(() => journal.keep(id, 'yes' as unknown as boolean)).message).toBe('kept: expected true or false, got "yes"');
  });
});

describe('EventJournal updates, keep and changes', () => {
  it('updates an event, merges its data (RFC 7396) and announces new, update and end', () => {
    let now = T0 + 1000;
    const journal = openJournal({ now: () => now });
    const changes: EventChange[] = [];
    journal.onChange((change) => changes.push(change));
    const event = journal.insert(motion({ data: { ai: { label: 'person', confidence: 0.5 }, note: 'x' } }));
    now += 10;
    const scored = journal.update(event.id, { score: 0.8, data: { ai: { confidence: 0.9 }, note: null } })!;
    expect(scored.before).toEqual(event);
    expect(scored.after).toEqual({ ...event, score: 0.8, data: { ai: { label: 'person', confidence: 0.9 } }, updatedAt: T0 + 1010 });
    now += 10;
    const ended = journal.update(event.id, { endTime: T0 + 500 })!;
    const reEnded = journal.update(event.id, { endTime: T0 + 600 })!;
    expect(journal.get(event.id)).toEqual(reEnded.after);
    expect(changes.map((c) => c.type)).toEqual(['new', 'update', 'end', 'update']);
    expect(changes[2]).toEqual({ type: 'end', before: scored.after, after: ended.after });
    expect(journal.update('01HZZZZZZZZZZZZZZZZZZZZZZZ', { score: 1 })).toBeNull();
  });

  it('marks events kept and released, announcing only real changes', () => {
    const journal = openJournal();
    const changes: EventChange[] = [];
    journal.onChange((change) => changes.push(change));
    const { id } = journal.insert(motion());
    expect(journal.keep(id, true)).toMatchObject({ id, kept: true });
    expect(journal.keep(id, true)).toMatchObject({ kept: true });
    expect(journal.stats().keptEvents).toBe(1);
    expect(journal.keep(id, false)).toMatchObject({ kept: false });
    expect(journal.stats().keptEvents).toBe(0);
    expect(changes.map((c) => c.type)).toEqual(['new', 'update', 'update']);
    expect(journal.keep('01HZZZZZZZZZZZZZZZZZZZZZZZ', true)).toBeNull();
  });

  it('still stores the event when a change listener throws', () => {
    const journal = openJournal();
    journal.onChange(() => {
      throw new Error('listener broke');
    });
    const stored = journal.insert(motion());
    expect(journal.get(stored.id)).toEqual(stored);
  });
});

describe('EventJournal snapshots', () => {
  it('writes the snapshot under snapshots/<camera>/<UTC day>/<id>.jpg and serves its path', async () => {
    const journal = openJournal();
    const event = journal.insert(motion({ startTime: T0 + 2 * 3600 * 1000 }));
    expect(journal.snapshotPath(event.id)).toBeNull();
    const updated = await journal.saveSnapshot(event.id, jpeg(2000));
    const file = path.join(dataDir, 'events', 'snapshots', 'porch', '2024-05-02', `${event.id}.jpg`);
    expect(updated).toMatchObject({ snapshot: `porch/2024-05-02/${event.id}.jpg` });
    expect(journal.snapshotPath(event.id)).toBe(file);
    expect(readFileSync(file).equals(jpeg(2000))).toBe(true);
    await journal.saveSnapshot(event.id, jpeg(3000, 9));
    expect(readFileSync(file).equals(jpeg(3000, 9))).toBe(true);
    expect(journal.stats().bytes.snapshots).toBe(3000);

    journal.update(event.id, { snapshot: null });
    expect(existsSync(file)).toBe(false);
    expect(journal.snapshotPath(event.id)).toBeNull();
    expect(journal.stats().bytes.snapshots).toBe(0);
  });

  it('refuses bytes that are not a JPEG and answers null for an unknown event', async () => {
    const journal = openJournal();
    const { id } = journal.insert(motion());
    expect(() => journal.saveSnapshot(id, Buffer.from('GIF89a'))).toThrow(
      'jpeg: expected a JPEG image (bytes starting with FF D8), got "6 bytes starting 47494638"',
    );
    expect(await journal.saveSnapshot('01HZZZZZZZZZZZZZZZZZZZZZZZ', jpeg(100))).toBeNull();
  });

  it('refuses a snapshot path outside the snapshots folder even when the database names one', async () => {
    const journal = openJournal();
    const { id } = journal.insert(motion());
    await journal.saveSnapshot(id, jpeg(100));
    const raw = new Database(journal.file);
    raw.prepare('UPDATE events SET snapshot = ? WHERE id = ?').run('../../../etc/passwd', id);
    raw.close();
    expect(() => journal.snapshotPath(id)).toThrow(/snapshot name "..\/..\/..\/etc\/passwd" is invalid/);
  });

  it('waits for a snapshot write under way before it closes', async () => {
    const journal = openJournal();
    const { id } = journal.insert(motion());
    const saving = journal.saveSnapshot(id, jpeg(50000));
    await journal.close();
    expect(await saving).toMatchObject({ snapshot: expect.stringMatching(/\.jpg$/) });
    expect(() => journal.insert(motion())).toThrow(/is closed/);
  });
});
