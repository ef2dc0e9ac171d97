import type { StoredAlert } from '../../core/alerts';
import type { Gate } from '../../core/messages';
import capAlertNode from '../../nodes/cap-alert/cap-alert';
import { collect, loggedErrors, nextMessage, statusesOf, type Msg } from '../support/flow';
import { helper, type FlowNode } from '../support/node-red-helper';
import { eventually } from '../support/tools';

/** cap-alert on its own, fed motion lifecycle messages (no runtime: alerts are built and sent on, not stored). */
const flow = (settings: Record<string, unknown>): FlowNode[] => [
  { id: 'c1', type: 'cap-alert', version: 2, sender: 'glimpser.test', snapshotWaitSeconds: 0, updateEverySeconds: 0, ...settings, wires: [['out']] },
  { id: 'out', type: 'helper' },
];

const gate = (rule: string | null): Gate => ({ passed: true, rule, reason: rule ? `rule ${rule} matched` : 'default' });

const lifecycle = (key: string, phase: 'start' | 'update' | 'end', camera: string, rule: string | null = null) => ({
  event: { key, phase, camera, type: 'person', startTime: Date.now(), endTime: phase === 'end' ? Date.now() + 1 : null },
  gate: gate(rule),
});

/** Sends one message and waits until cap-alert has handled it: a message out or a new status. */
async function send(msg: ReturnType<typeof lifecycle>): Promise<void> {
  const before = statusesOf('c1').length + collect('out').length;
  helper.getNode('c1').receive(msg);
  await eventually(async () => (statusesOf('c1').length + collect('out').length > before ? true : undefined), 10000, 'cap-alert handled it');
}

describe('cap-alert cooldowns', () => {
  afterEach(async () => {
    await helper.unload();
  });

  it('holds new alerts for the same camera back within cooldownSeconds, and the held event sends nothing later', async () => {
    await helper.load([capAlertNode], flow({ cooldownSeconds: 3600 }));
    const out = collect('out');
    const first = nextMessage('out');
    helper.getNode('c1').receive(lifecycle('a', 'start', 'porch'));
    expect(((await first).alert as StoredAlert).msgType).toBe('Alert');
    await send(lifecycle('b', 'start', 'porch'));
    expect(statusesOf('c1').at(-1)?.text).toMatch(/^porch: new alert held \(camera cooldown, \d+ s\)$/);
    await send(lifecycle('b', 'update', 'porch'));
    await send(lifecycle('b', 'end', 'porch'));
    expect(statusesOf('c1').at(-1)?.text).toBe('porch: event held by a cooldown, nothing sent');
    // Another camera is not held back, and the first event's update and end still go.
    await send(lifecycle('c', 'start', 'garage'));
    await send(lifecycle('a', 'update', 'porch'));
    await send(lifecycle('a', 'end', 'porch'));
    expect(out.map((msg: Msg) => [(msg.alert as StoredAlert).camera, (msg.alert as StoredAlert).msgType])).toEqual([
      ['porch', 'Alert'],
      ['garage', 'Alert'],
      ['porch', 'Update'],
      ['porch', 'Cancel'],
    ]);
    expect(loggedErrors('c1')).toEqual([]);
  });

  it('holds new alerts decided by the same rule (msg.gate.rule) back within ruleCooldownSeconds, on any camera', async () => {
    await helper.load([capAlertNode], flow({ ruleCooldownSeconds: 3600 }));
    const out = collect('out');
    await send(lifecycle('a', 'start', 'porch', 'night-person'));
    await send(lifecycle('b', 'start', 'garage', 'night-person'));
    expect(statusesOf('c1').at(-1)?.text).toMatch(/^garage: new alert held \(night-person cooldown, \d+ s\)$/);
    await send(lifecycle('c', 'start', 'garage', 'parcel'));
    await send(lifecycle('d', 'start', 'porch', null));
    expect(out.map((msg: Msg) => (msg.alert as StoredAlert).camera)).toEqual(['porch', 'garage', 'porch']);
  });

  it('sends every new alert with both cooldowns off (the default)', async () => {
    await helper.load([capAlertNode], flow({}));
    const out = collect('out');
    for (const key of ['a', 'b', 'c']) await send(lifecycle(key, 'start', 'porch', 'night-person'));
    expect(out).toHaveLength(3);
  });
});
