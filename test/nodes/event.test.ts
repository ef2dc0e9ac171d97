import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { BrowserPoolLease } from '../../core/capture/browser-lease';
import { CameraRegistry } from '../../core/capture/registry';
import { silentLogger } from '../../core/log/logger';
import { checkEventMessage, checkLifecycleMessage, type LifecycleMessage } from '../../core/messages';
import type { EventJson } from '../../core/store/event-json';
import { EventJournal } from '../../core/store/journal';
import eventNode from '../../nodes/event/event';
import { collect, loggedErrors, nextMessage, statusesOf } from '../support/flow';
import { helper, type FlowNode } from '../support/node-red-helper';
import { eventually } from '../support/tools';

const flow = (def: Record<string, unknown> = {}): FlowNode[] => [
  { id: 'e1', type: 'event', eventType: 'door', ...def, wires: [['stored']] },
  { id: 'stored', type: 'helper' },
];

const storedEvent = (msg: Record<string, unknown>) => msg.event as EventJson;

describe('event node', () => {
  let journal: EventJournal;

  beforeAll(() => {
    journal = new EventJournal({ dataDir: mkdtempSync(path.join(tmpdir(), 'glimpser-journal-')) });
    journal.open();
    helper.settings({ glimpser: { cameras: new CameraRegistry(), browsers: new BrowserPoolLease(), ffmpegPath: 'ffmpeg', logger: silentLogger, journal } });
  });

  afterEach(async () => {
    await helper.unload();
  });

  afterAll(async () => {
    helper.settings({});
    await journal.close();
  });

  it('shows ready, then the count and the last stored event', async () => {
    await helper.load([eventNode], flow());
    expect(statusesOf('e1').at(-1)).toMatchObject({ fill: 'blue', text: 'ready' });
    const stored = nextMessage('stored');
    helper.getNode('e1').receive({ event: { camera: 'porch', startTime: Date.now() } });
    expect(storedEvent(await stored)).toMatchObject({ camera: 'porch', type: 'door' });
    expect(statusesOf('e1').at(-1)).toMatchObject({ fill: 'green', text: '1 stored · last door on porch' });
  });

  it.each([
    [
      { event: { camera: 'porch', startTime: 'yesterday' } },
      'msg.event.startTime: expected milliseconds since the epoch (a whole number from 0), got "yesterday"',
    ],
    [
      { event: { camera: 'porch', startTime: 1, boxes: [{ x: 0, y: 0, width: 2, height: 0.5 }] } },
      'msg.event.boxes[0].width: expected a fraction of the picture from 0 to 1, got 2',
    ],
    [{ event: { startTime: 1 } }, 'msg.event.camera: expected a camera id'],
    [
      { event: { key: 'k9', phase: 'update', camera: 'porch' } },
      'msg.event.startTime: expected milliseconds since the epoch (a whole number from 0), got nothing',
    ],
    [{ event: { id: 'e-1', phase: 'later' } }, 'msg.event.phase: expected the phase: "start", "update" or "end", got "later"'],
    [{ payload: 'no event' }, 'msg.event: expected an event object'],
  ])('fails %j with a status naming the field, and stores the next good event', async (bad, message) => {
    await helper.load([eventNode], flow());
    const stored = collect('stored');
    helper.getNode('e1').receive(bad);
    await eventually(async () => (loggedErrors('e1').length === 1 ? true : undefined), 5000, 'an error for the bad message');
    expect(loggedErrors('e1')[0]).toContain(message);
    const field = message.slice(0, message.indexOf(':'));
    expect(statusesOf('e1').at(-1)).toMatchObject({ fill: 'red', text: expect.stringMatching(/^msg\.event\S*:/) });
    expect(statusesOf('e1').at(-1)?.text?.startsWith(`${field}:`)).toBe(true);

    const next = nextMessage('stored');
    helper.getNode('e1').receive({ event: { camera: 'porch', startTime: 2 } });
    expect(storedEvent(await next)).toMatchObject({ camera: 'porch', startTimeMs: 2 });
    expect(stored).toHaveLength(1);
    expect(statusesOf('e1').at(-1)?.fill).toBe('green');
  });

  it("stores a motion node's lifecycle event and its JPEG, then updates it by id", async () => {
    await helper.load([eventNode], flow());
    const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    const now = Date.now();
    const lifecycle: LifecycleMessage = {
      payload: jpeg,
      event: {
        key: 'm1:yard:motion:1',
        phase: 'start',
        camera: 'yard',
        type: 'motion',
        startTime: now,
        endTime: null,
        score: 0.4,
        boxes: [{ x: 0.1, y: 0.1, width: 0.2, height: 0.2 }],
        zones: ['left'],
      },
    };
    expect(() => checkLifecycleMessage(lifecycle)).not.toThrow();
    expect(() => checkEventMessage(lifecycle)).not.toThrow();

    let next = nextMessage('stored');
    helper.getNode('e1').receive(lifecycle);
    const first = storedEvent(await next);
    expect(first).toMatchObject({ camera: 'yard', type: 'motion', hasSnapshot: true, zones: ['left'] });

    next = nextMessage('stored');
    helper.getNode('e1').receive({ event: { id: first.id, endTime: now + 1000, data: { note: 'checked' } } });
    expect(storedEvent(await next)).toMatchObject({ id: first.id, endTimeMs: now + 1000, data: { note: 'checked' } });
    expect(journal.get(first.id)).toMatchObject({ endTime: now + 1000, data: { note: 'checked' } });
  });
});

describe('event node outside the Glimpser runtime', () => {
  it('says it needs the journal, in the log and a red status, and refuses messages', async () => {
    helper.settings({});
    await helper.load([eventNode], flow());
    expect(loggedErrors('e1')[0]).toBe('no event journal: the event node needs the Glimpser runtime');
    expect(statusesOf('e1').at(-1)).toMatchObject({ fill: 'red', text: 'no event journal: the event node needs the Glimpser runtime' });
    helper.getNode('e1').receive({ event: { camera: 'porch', startTime: 1 } });
    await eventually(async () => (loggedErrors('e1').length === 2 ? true : undefined), 5000, 'an error for the message');
    expect(loggedErrors('e1')[1]).toMatch(/not configured/);
    await helper.unload();
  });
});
