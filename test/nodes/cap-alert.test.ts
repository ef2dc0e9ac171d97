import path from 'node:path';
import sharp from 'sharp';
import type { StoredAlert } from '../../core/alerts';
import { parseCap, validateCapXml } from '../../core/alerts/cap';
import { eventJson } from '../../core/store/event-json';
import capAlertNode from '../../nodes/cap-alert/cap-alert';
import eventNode from '../../nodes/event/event';
import { openTestAlertService, type TestAlertService } from '../support/alerts';
import { collect, loggedErrors, nextMessage, statusesOf, type Msg } from '../support/flow';
import { glimpserHandlesWithJournal, helper, type FlowNode, type HandlesWithJournal } from '../support/node-red-helper';
import { eventually } from '../support/tools';

/** motion (lifecycle messages) → event → cap-alert → out, as in the default flow. */
const flow = (settings: Record<string, unknown> = {}): FlowNode[] => [
  { id: 'e1', type: 'event', eventType: 'motion', snapshot: true, wires: [['c1']] },
  { id: 'c1', type: 'cap-alert', version: 1, sender: 'glimpser.test', ...settings, wires: [['out']] },
  { id: 'out', type: 'helper' },
];

const alertOf = (msg: Msg) => msg.alert as StoredAlert;

describe('cap-alert node in the Glimpser runtime', () => {
  let glimpser: HandlesWithJournal;
  let alerts: TestAlertService;
  let jpeg: Buffer;

  beforeAll(async () => {
    glimpser = await glimpserHandlesWithJournal();
    // Snapshot paths are relative to the data dir the journal and the outbox share.
    alerts = openTestAlertService({ dataDir: path.dirname(path.dirname(glimpser.journal.file)), keepDataDir: true });
    glimpser.handles.alerts = alerts.service;
    helper.settings({ glimpser: glimpser.handles });
    jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
  });

  afterEach(async () => {
    await helper.unload();
  });

  afterAll(async () => {
    helper.settings({});
    await alerts.close();
    await glimpser.close();
  });

  const lifecycle = (key: string, phase: 'start' | 'update' | 'end', startTime: number) => ({
    payload: jpeg,
    event: { key, phase, camera: 'yard', type: 'motion', startTime, endTime: phase === 'end' ? startTime + 5000 : null, score: 0.3, zones: ['gate'] },
  });

  it('turns start, update and end into Alert, Update and Cancel referencing the first, each stored and valid CAP', async () => {
    await helper.load([eventNode, capAlertNode], flow({ updateEverySeconds: 0 }));
    expect(statusesOf('c1').at(-1)).toMatchObject({ fill: 'blue', text: 'ready' });
    const start = Date.now();
    const sent: StoredAlert[] = [];
    for (const phase of ['start', 'update', 'end'] as const) {
      const next = nextMessage('out');
      helper.getNode('e1').receive(lifecycle('k-1', phase, start));
      const msg = await next;
      expect(msg.cap).toBe(alertOf(msg).capXml);
      expect(msg.payload).toEqual(jpeg);
      sent.push(alertOf(msg));
    }
    const [alert, update, cancel] = sent;
    expect(sent.map((a) => a.msgType)).toEqual(['Alert', 'Update', 'Cancel']);
    expect(alert).toMatchObject({ references: null, camera: 'yard', snapshotMissing: null, snapshot: { bytes: jpeg.length } });
    const reference = `glimpser.test,${alert.identifier},${(await parseCap(alert.capXml)).sent}`;
    expect(update.references).toBe(reference);
    expect(cancel.references).toBe(reference);
    expect(new Set(sent.map((a) => a.identifier)).size).toBe(3);
    for (const stored of sent) {
      expect(await validateCapXml(stored.capXml)).toEqual([]);
      expect(alerts.service.getAlert(stored.id)).toMatchObject({ identifier: stored.identifier, msgType: stored.msgType });
    }
    expect(statusesOf('c1').at(-1)).toMatchObject({ fill: 'green', text: '3 alerts · last Cancel for yard' });
  });

  it('holds updates back within updateEverySeconds, and always sends the end', async () => {
    await helper.load([eventNode, capAlertNode], flow({ updateEverySeconds: 3600 }));
    const out = collect('out');
    const start = Date.now();
    let next = nextMessage('out');
    helper.getNode('e1').receive(lifecycle('k-2', 'start', start));
    await next;
    for (let i = 0; i < 3; i++) helper.getNode('e1').receive(lifecycle('k-2', 'update', start));
    await eventually(
      async () => (statusesOf('c1').filter((s) => s.text === 'update for yard held back (one per 3600 s)').length === 3 ? true : undefined),
      10000,
      'three held-back updates',
    );
    next = nextMessage('out');
    helper.getNode('e1').receive(lifecycle('k-2', 'end', start));
    await next;
    expect(out.map((msg) => alertOf(msg).msgType)).toEqual(['Alert', 'Cancel']);
  });

  it('waits for the snapshot the journal has not written yet', async () => {
    await helper.load(
      [capAlertNode],
      [
        { id: 'c1', type: 'cap-alert', snapshotWaitSeconds: 60, wires: [['out']] },
        { id: 'out', type: 'helper' },
      ],
    );
    const stored = glimpser.journal.insert({ camera: 'porch', type: 'motion', startTime: Date.now() });
    const next = nextMessage('out');
    helper.getNode('c1').receive({ event: eventJson(stored) });
    // The alert is not sent before the snapshot exists: the journal announces the write, and the alert carries it.
    await glimpser.journal.saveSnapshot(stored.id, jpeg);
    const alert = alertOf(await next);
    expect(alert).toMatchObject({ eventId: stored.id, msgType: 'Alert', snapshotMissing: null, snapshot: { bytes: jpeg.length } });
    expect((await parseCap(alert.capXml)).info?.[0].resource?.[0]).toMatchObject({ mimeType: 'image/jpeg', size: jpeg.length });
  });

  it.each([
    [{ payload: 'no event' }, 'msg.event: expected an event object'],
    [{ event: { camera: 'Bad Camera!' } }, 'msg.event.camera: expected a camera id'],
    [{ event: { camera: 'porch', phase: 'later' } }, 'msg.event.phase: expected the phase: "start", "update" or "end", got "later"'],
  ])('fails %j with a status naming the field, and alerts on the next good event', async (bad, message) => {
    await helper.load(
      [capAlertNode],
      [
        { id: 'c1', type: 'cap-alert', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ],
    );
    const out = collect('out');
    helper.getNode('c1').receive(bad);
    await eventually(async () => (loggedErrors('c1').length === 1 ? true : undefined), 5000, 'an error for the bad message');
    expect(loggedErrors('c1')[0]).toContain(message);
    const field = message.slice(0, message.indexOf(':'));
    expect(statusesOf('c1').at(-1)).toMatchObject({ fill: 'red' });
    expect(statusesOf('c1').at(-1)?.text?.startsWith(`${field}:`)).toBe(true);

    const next = nextMessage('out');
    helper.getNode('c1').receive({ event: { camera: 'porch', type: 'door', startTime: Date.now() } });
    expect(alertOf(await next)).toMatchObject({ msgType: 'Alert', camera: 'porch', snapshotMissing: expect.stringMatching(/no journal id/) });
    expect(out).toHaveLength(1);
    expect(statusesOf('c1').at(-1)?.fill).toBe('green');
  });

  it('refuses invalid settings with a status naming the setting', async () => {
    await helper.load([capAlertNode], [{ id: 'c1', type: 'cap-alert', scope: 'Restricted', restriction: '', wires: [] }]);
    expect(loggedErrors('c1')[0]).toMatch(/^cap-alert setting "restriction": expected the rule that limits a Restricted alert/);
    expect(statusesOf('c1').at(-1)).toMatchObject({ fill: 'red', text: expect.stringMatching(/^cap-alert setting "restriction"/) });
  });
});

describe('cap-alert node outside the Glimpser runtime', () => {
  it('still builds and sends alerts, and says in its status that they are not stored', async () => {
    helper.settings({});
    await helper.load(
      [capAlertNode],
      [
        { id: 'c1', type: 'cap-alert', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ],
    );
    expect(statusesOf('c1').at(-1)).toMatchObject({ text: 'ready · alerts are not stored (no Glimpser runtime)' });
    const next = nextMessage('out');
    helper.getNode('c1').receive({ event: { id: 'E1', camera: 'porch', type: 'door', startTime: Date.now() } });
    const alert = alertOf(await next);
    expect(alert).toMatchObject({ msgType: 'Alert', snapshotMissing: expect.stringMatching(/no event journal/) });
    expect(await validateCapXml(alert.capXml)).toEqual([]);
    expect(statusesOf('c1').at(-1)).toMatchObject({ fill: 'green', text: '1 alerts (not stored) · last Alert for porch' });
    await helper.unload();
  });
});
