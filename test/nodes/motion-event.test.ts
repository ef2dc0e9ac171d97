import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EventJournal } from '../../core/store/journal';
import eventNode from '../../nodes/event/event';
import motionNode from '../../nodes/motion/motion';
import type { GlimpserHandles } from '../../nodes/shared/handles';
import type { EmbeddedBroker } from '../../runtime/broker';
import { collect, logged, loggedErrors, LOG, statusesOf } from '../support/flow';
import { glimpserHandles, helper, type FlowNode } from '../support/node-red-helper';
import { eventually } from '../support/tools';

const card = (width: number, height: number, boxX: number | null) =>
  sharp({ create: { width, height, channels: 3, background: '#404040' } })
    .composite([
      {
        input: Buffer.from(
          `<svg width="${width}" height="${height}"><rect x="0" y="0" width="${width / 2}" height="${height}" fill="#909090"/><rect x="${width / 4}" y="${height / 4}" width="${width / 8}" height="${height / 8}" fill="#202020"/></svg>`,
        ),
      },
      ...(boxX === null
        ? []
        : [
            {
              input: Buffer.from(`<svg width="${width / 5}" height="${height / 3}"><rect width="100%" height="100%" fill="#ff8800"/></svg>`),
              left: boxX,
              top: Math.round(height / 3),
            },
          ]),
    ])
    .jpeg()
    .toBuffer();

const frameMsg = (jpeg: Buffer, sequence: number, timestamp: number, camera = 'yard') => ({
  payload: jpeg,
  frame: { camera, sequence, timestamp, width: 320, height: 180, bytes: jpeg.length },
});

describe('motion and event nodes', () => {
  let broker: EmbeddedBroker;
  let handles: GlimpserHandles;
  let journal: EventJournal;

  beforeAll(async () => {
    ({ broker, handles } = await glimpserHandles());
    journal = new EventJournal({ dataDir: mkdtempSync(path.join(tmpdir(), 'glimpser-journal-')) });
    journal.open();
    handles.journal = journal;
    helper.settings({ glimpser: handles });
  });

  afterEach(async () => {
    await helper.unload();
  });

  afterAll(async () => {
    await journal.close();
    await broker.close();
  });

  it('turns a box that crosses a still scene into one motion event with start, updates and end, stored in the journal with its best frame', async () => {
    await helper.load([motionNode, eventNode], [
      { id: 'm1', type: 'motion', minDuration: 0.3, quiet: 1, zones: '{"left":[[0,0],[0.5,0],[0.5,1],[0,1]]}', wires: [['frames'], ['e1']] },
      { id: 'e1', type: 'event', wires: [['stored']] },
      { id: 'frames', type: 'helper' },
      { id: 'stored', type: 'helper' },
    ] as FlowNode[]);
    const frames = collect('frames');
    const stored = collect('stored');
    const motionOn: string[] = [];
    await broker.subscribe('glimpser/cameras/yard/motion', (_t, payload) => motionOn.push(payload.toString()));
    const still = await card(320, 180, null);
    const t0 = Date.now();
    let t = t0;
    const send = async (jpeg: Buffer, seq: number) => {
      helper.getNode('m1').receive(frameMsg(jpeg, seq, t));
      t += 200;
      await eventually(async () => (frames.length >= seq ? true : undefined), 5000, `frame ${seq} through`);
    };
    let seq = 0;
    for (let i = 0; i < 20; i++) await send(still, ++seq);
    for (let x = 0; x < 220; x += 20) await send(await card(320, 180, x), ++seq);
    for (let i = 0; i < 15; i++) await send(still, ++seq);
    await eventually(
      async () => (stored.some((m) => (m.event as { endTimeMs: number | null }).endTimeMs !== null) ? true : undefined),
      5000,
      'event end stored',
    );

    expect(frames.every((m) => typeof (m.motion as { motion: boolean }).motion === 'boolean')).toBe(true);
    expect(frames.slice(0, 20).some((m) => (m.motion as { motion: boolean }).motion)).toBe(false);
    const ids = new Set(stored.map((m) => (m.event as { id: string }).id));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const event = journal.get(id)!;
    expect(event).toMatchObject({ camera: 'yard', type: 'motion' });
    expect(event.zones).toContain('left');
    // The box enters with frame 21: the event's start is that frame's time, give or take one frame.
    expect(event.startTime).toBeGreaterThanOrEqual(t0 + 20 * 200);
    expect(event.startTime).toBeLessThanOrEqual(t0 + 22 * 200);
    expect(event.endTime).not.toBeNull();
    expect(event.snapshot).not.toBeNull();
    await eventually(async () => (motionOn.join(',') === 'ON,OFF' ? true : undefined), 3000, 'motion ON then OFF on MQTT');
  });

  it('answers a payload that is not a JPEG with a clear error and keeps detecting', async () => {
    await helper.load([motionNode], [
      { id: 'm1', type: 'motion', wires: [['frames'], []] },
      { id: 'frames', type: 'helper' },
    ] as FlowNode[]);
    const frames = collect('frames');
    // A whole frame message, so the JPEG decoder (not the message check) is what refuses it.
    helper.getNode('m1').receive(frameMsg(Buffer.from('<html>not a picture</html>'), 1, 1));
    helper.getNode('m1').receive({ payload: 'text', frame: { camera: 'yard', timestamp: 2, sequence: 2 } });
    helper.getNode('m1').receive(frameMsg(await card(320, 180, null), 3, 3));
    await eventually(async () => (frames.length === 1 ? true : undefined), 5000, 'a good frame after bad ones');
    const errors = loggedErrors('m1');
    expect(errors.some((e) => /not a JPEG/.test(e))).toBe(true);
    expect(errors.some((e) => /msg\.payload: expected a JPEG Buffer, got "text"/.test(e))).toBe(true);
  });

  it('fails a message of the wrong shape with a status naming the field, and keeps detecting', async () => {
    await helper.load([motionNode], [
      { id: 'm1', type: 'motion', wires: [['frames'], []] },
      { id: 'frames', type: 'helper' },
    ] as FlowNode[]);
    const frames = collect('frames');
    const good = frameMsg(await card(320, 180, null), 1, 1000);
    helper.getNode('m1').receive({ ...good, frame: { ...good.frame, timestamp: 'noon' } });
    helper.getNode('m1').receive(good);
    await eventually(async () => (frames.length === 1 ? true : undefined), 5000, 'the good frame after the bad one');
    expect(loggedErrors('m1')).toEqual([expect.stringMatching(/msg\.frame\.timestamp: expected the capture time in milliseconds since the epoch, got "noon"/)]);
    expect(statusesOf('m1')).toContainEqual(expect.objectContaining({ fill: 'red', text: expect.stringMatching(/^msg\.frame\.timestamp: expected/) }));
    expect(frames[0]).toMatchObject({ frame: good.frame, motion: { motion: false, calibrating: true } });
  });

  it('starts over with a warning when a frame of another size arrives mid-stream', async () => {
    await helper.load([motionNode], [
      { id: 'm1', type: 'motion', wires: [['frames'], []] },
      { id: 'frames', type: 'helper' },
    ] as FlowNode[]);
    const frames = collect('frames');
    helper.getNode('m1').receive(frameMsg(await card(320, 180, null), 1, 1000));
    helper.getNode('m1').receive(frameMsg(await card(640, 480, null), 2, 1200));
    helper.getNode('m1').receive(frameMsg(await card(640, 480, null), 3, 1400));
    await eventually(async () => (frames.length === 3 ? true : undefined), 5000, 'all three frames through');
    const warnings = logged('m1', LOG.warn);
    expect(warnings.some((w) => /frame size changed from 213×120 to 160×120|frame size changed/.test(w))).toBe(true);
    expect((frames[2].motion as { motion: boolean }).motion).toBe(false);
  });

  it.each([
    ['[[[0,0],[1.4,0],[1,1]]]', '{}', /mask 1 point 2/],
    ['[]', '{"Door!":[[0,0],[1,0],[1,1]]}', /zone/i],
    ['not json', '{}', /motion setting "masks" is not valid JSON/],
  ])('refuses masks %s / zones %s with an error naming the polygon', async (masks, zones, message) => {
    await helper.load([motionNode], [{ id: 'm1', type: 'motion', masks, zones, wires: [[], []] }] as FlowNode[]);
    expect(loggedErrors('m1').join('\n')).toMatch(message);
  });

  it('event node: inserts, updates by key, and names the wrong field of a bad event', async () => {
    await helper.load([eventNode], [
      { id: 'e1', type: 'event', eventType: 'door', wires: [['stored']] },
      { id: 'stored', type: 'helper' },
    ] as FlowNode[]);
    const stored = collect('stored');
    const now = Date.now();
    helper.getNode('e1').receive({ event: { key: 'k1', phase: 'start', camera: 'porch', startTime: now, score: 0.5 } });
    helper.getNode('e1').receive({ event: { key: 'k1', phase: 'end', camera: 'porch', startTime: now, endTime: now + 4000, score: 0.9 } });
    await eventually(async () => (stored.length === 2 ? true : undefined), 5000, 'two stored events').catch((err: Error) => {
      throw new Error(`${err.message}: stored ${stored.length}, errors ${loggedErrors('e1').join('; ')}`);
    });
    const [first, second] = stored.map((m) => m.event as { id: string; type: string; endTimeMs: number | null; score: number });
    expect(second.id).toBe(first.id);
    expect(journal.get(first.id)).toMatchObject({ type: 'door', camera: 'porch', endTime: now + 4000, score: 0.9 });
    helper.getNode('e1').receive({ event: { startTime: 1 } });
    helper.getNode('e1').receive({ event: { camera: 'porch', startTime: 'yesterday' } });
    await eventually(async () => (loggedErrors('e1').length === 2 ? true : undefined), 5000, 'two errors');
    expect(loggedErrors('e1')[0]).toMatch(/camera/);
    expect(loggedErrors('e1')[1]).toMatch(/startTime/);
  });
});
