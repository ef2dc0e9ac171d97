import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bus } from '../../core/bus/bus';
import type { Logger } from '../../core/log/logger';
import { silentLogger } from '../../core/log/logger';
import { EventJournal } from '../../core/store/journal';
import { journalMetrics } from '../../core/store/journal-metrics';
import { EventPublisher, type EventMessage } from '../../core/store/event-publisher';
import { topics } from '../../core/topics';
import { EmbeddedBroker } from '../../runtime/broker';
import { UserStore } from '../../runtime/stores/users';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

let dataDir: string;
let journal: EventJournal;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'glimpser-journal-publisher-'));
  journal = new EventJournal({ dataDir, now: () => T0 + 5000 });
  journal.open();
});

afterEach(async () => {
  await journal.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function failures(reason: string): Promise<number> {
  const { values } = await journalMetrics.publishFailuresTotal.get();
  return values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

function recordingLogger(lines: string[]): Logger {
  const log: Logger = {
    error: (obj: unknown, msg?: string) => lines.push(`error ${msg ?? String(obj)}`),
    warn: (obj: unknown, msg?: string) => lines.push(`warn ${msg ?? String(obj)}`),
    info: () => undefined,
    debug: () => undefined,
    child: () => log,
  };
  return log;
}

describe('EventPublisher on a real in-process broker', () => {
  let broker: EmbeddedBroker;
  let usersDir: string;

  beforeEach(async () => {
    usersDir = mkdtempSync(path.join(tmpdir(), 'glimpser-publisher-users-'));
    const users = new UserStore(usersDir);
    await users.open();
    broker = await EmbeddedBroker.create(users, silentLogger);
  });

  afterEach(async () => {
    await broker.close();
    rmSync(usersDir, { recursive: true, force: true });
  });

  it('publishes new, update and end on glimpser/events with Frigate-style before and after', async () => {
    const messages: EventMessage[] = [];
    await broker.subscribe(topics.events, (_topic, payload) => messages.push(JSON.parse(payload.toString('utf8')) as EventMessage));
    const publisher = new EventPublisher({ bus: broker, journal });
    const event = journal.insert({ camera: 'porch', type: 'motion', startTime: T0, zones: ['yard'] });
    journal.update(event.id, { score: 0.7 });
    journal.update(event.id, { endTime: T0 + 3000 });
    journal.keep(event.id, true);
    await publisher.flush();

    expect(messages.map((m) => m.type)).toEqual(['new', 'update', 'end', 'update']);
    expect(messages[0]).toEqual({
      type: 'new',
      before: null,
      after: {
        id: event.id,
        camera: 'porch',
        type: 'motion',
        subtype: null,
        startTime: '2024-05-01T12:00:00.000Z',
        startTimeMs: T0,
        endTime: null,
        endTimeMs: null,
        score: 0,
        boxes: [],
        zones: ['yard'],
        hasSnapshot: false,
        kept: false,
        data: {},
        createdAt: '2024-05-01T12:00:05.000Z',
        createdAtMs: T0 + 5000,
        updatedAt: '2024-05-01T12:00:05.000Z',
        updatedAtMs: T0 + 5000,
      },
    });
    expect(messages[2].before).toMatchObject({ score: 0.7, endTime: null });
    expect(messages[2].after).toMatchObject({ score: 0.7, endTime: '2024-05-01T12:00:03.000Z', endTimeMs: T0 + 3000 });
    expect(messages[3].after.kept).toBe(true);
    await publisher.close();
    journal.insert({ camera: 'porch', type: 'motion', startTime: T0 });
    await publisher.flush();
    expect(messages).toHaveLength(4);
  });

  it('publishes at QoS 1 and not retained', async () => {
    const published: Array<{ topic: string; qos?: number; retain?: boolean }> = [];
    const spy: Bus = {
      publish: (topic, payload, options) => {
        published.push({ topic, qos: options?.qos, retain: options?.retain });
        return broker.publish(topic, payload, options);
      },
      subscribe: (filter, handler) => broker.subscribe(filter, handler),
    };
    const publisher = new EventPublisher({ bus: spy, journal });
    journal.insert({ camera: 'porch', type: 'tamper', startTime: T0 });
    await publisher.close();
    expect(published).toEqual([{ topic: 'glimpser/events', qos: 1, retain: undefined }]);
  });
});

describe('EventPublisher failures', () => {
  it('logs and counts a failed publish, keeps the event, and goes on with the next one', async () => {
    const lines: string[] = [];
    let calls = 0;
    const flaky: Bus = {
      publish: () => (++calls === 1 ? Promise.reject(new Error('broker gone')) : Promise.resolve()),
      subscribe: () => Promise.reject(new Error('not used')),
    };
    const before = await failures('error');
    const publisher = new EventPublisher({ bus: flaky, journal, logger: recordingLogger(lines) });
    const first = journal.insert({ camera: 'porch', type: 'motion', startTime: T0 });
    journal.insert({ camera: 'porch', type: 'motion', startTime: T0 + 1 });
    await publisher.close();
    expect(calls).toBe(2);
    expect(await failures('error')).toBe(before + 1);
    expect(lines).toEqual(['warn event not published on the bus']);
    expect(journal.get(first.id)).toEqual(first);
  });

  it('drops, counts and logs changes beyond maxPending while the bus is stalled', async () => {
    const lines: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stalled: Bus = {
      publish: () => gate,
      subscribe: () => Promise.reject(new Error('not used')),
    };
    const before = await failures('overflow');
    const publisher = new EventPublisher({ bus: stalled, journal, logger: recordingLogger(lines), maxPending: 2 });
    journal.insertMany(Array.from({ length: 5 }, (_, i) => ({ camera: 'porch', type: 'motion', startTime: T0 + i })));
    expect(await failures('overflow')).toBe(before + 3);
    expect(lines).toHaveLength(3);
    expect(journal.stats().events).toBe(5);
    release();
    await publisher.close();
  });
});
