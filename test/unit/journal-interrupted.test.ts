import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bus } from '../../core/bus/bus';
import { EventPublisher, type EventMessage } from '../../core/store/event-publisher';
import { EventJournal, type EventChange } from '../../core/store/journal';
import { journalMetrics } from '../../core/store/journal-metrics';
import { topics } from '../../core/topics';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

let dataDir: string;
let clock: number;
const open: EventJournal[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'glimpser-journal-interrupted-'));
  clock = T0 + 1000;
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((journal) => journal.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

function openJournal(): EventJournal {
  const journal = new EventJournal({ dataDir, now: () => clock });
  open.push(journal);
  journal.open();
  return journal;
}

async function interrupted(camera: string): Promise<number> {
  const { values } = await journalMetrics.interruptedTotal.get();
  return values.find((v) => v.labels.camera === camera && v.labels.type === 'motion')?.value ?? 0;
}

/** A bus that keeps what is published, in order. */
function recordingBus(published: { topic: string; payload: string }[]): Bus {
  return {
    publish: (topic, payload) => {
      published.push({ topic, payload: payload.toString() });
      return Promise.resolve();
    },
    subscribe: () => Promise.resolve(() => Promise.resolve()),
  };
}

describe('EventJournal.closeInterrupted', () => {
  it('closes the events a killed run left open at their last update and marks them interrupted', async () => {
    const first = openJournal();
    const lasting = first.insert({ camera: 'porch', type: 'motion', startTime: T0, data: { frames: 3 } });
    clock = T0 + 4000;
    first.update(lasting.id, { score: 0.8 });
    const ended = first.insert({ camera: 'porch', type: 'motion', startTime: T0 + 100, endTime: T0 + 200 });
    await first.close();

    clock = T0 + 60_000;
    const journal = openJournal();
    const changes: EventChange[] = [];
    journal.onChange((change) => changes.push(change));
    const before = await interrupted('porch');

    const closed = journal.closeInterrupted();

    expect(closed.map((event) => event.id)).toEqual([lasting.id]);
    expect(closed[0]).toMatchObject({ endTime: T0 + 4000, score: 0.8, data: { frames: 3, interrupted: true }, updatedAt: T0 + 60_000 });
    expect(journal.get(lasting.id)).toEqual(closed[0]);
    expect(journal.get(ended.id)).toMatchObject({ endTime: T0 + 200, data: {} });
    expect(changes).toEqual([{ type: 'end', before: expect.objectContaining({ id: lasting.id, endTime: null }), after: closed[0] }]);
    expect(await interrupted('porch')).toBe(before + 1);
  });

  it('closes nothing the second time, and an event never updated ends at its start', async () => {
    const first = openJournal();
    // Its start lies after the moment it was written (a clock ahead of the journal's): it cannot end before it starts.
    const ahead = first.insert({ camera: 'garage', type: 'motion', startTime: T0 + 5000 });
    await first.close();

    const journal = openJournal();
    expect(journal.closeInterrupted()).toEqual([expect.objectContaining({ id: ahead.id, endTime: T0 + 5000 })]);
    expect(journal.closeInterrupted()).toEqual([]);
  });

  it('publishes each closing on glimpser/events as an end, like any other end', async () => {
    const first = openJournal();
    const lasting = first.insert({ camera: 'porch', type: 'motion', startTime: T0 });
    await first.close();

    const journal = openJournal();
    const published: { topic: string; payload: string }[] = [];
    const publisher = new EventPublisher({ bus: recordingBus(published), journal });
    journal.closeInterrupted();
    await publisher.close();

    expect(published.map((message) => message.topic)).toEqual([topics.events]);
    const message = JSON.parse(published[0].payload) as EventMessage;
    expect(message.type).toBe('end');
    expect(message.before).toMatchObject({ id: lasting.id, endTimeMs: null });
    expect(message.after).toMatchObject({ id: lasting.id, endTimeMs: T0 + 1000, data: { interrupted: true } });
  });
});
