import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RuleGate } from '../../core/rules';
import { ruleGateConfigFrom } from '../../nodes/rule-gate/schema';

const file = path.join(__dirname, '..', '..', 'examples', 'rule-gate', '01-night-intruder.json');
const nodes = JSON.parse(readFileSync(file, 'utf8')) as Array<Record<string, unknown> & { id: string; type: string }>;
const gateNode = nodes.find((n) => n.type === 'rule-gate')!;

describe('examples/rule-gate/01-night-intruder.json', () => {
  it('wires motion events through the rule gate to the event node', () => {
    const motion = nodes.find((n) => n.type === 'motion')!;
    expect((motion.wires as string[][])[1]).toEqual([gateNode.id]);
    const [passed] = gateNode.wires as string[][];
    expect(nodes.find((n) => n.id === passed[0])?.type).toBe('event');
  });

  it('holds a valid rule set that passes door motion at night and holds it back by day and in cooldown', () => {
    const { ruleSet } = ruleGateConfigFrom(gateNode);
    let now = Date.parse('2026-06-01T21:30:00Z'); // 23:30 in Paris
    const gate = new RuleGate(ruleSet, { now: () => now });
    const door = {
      event: {
        phase: 'start',
        camera: 'example-gate',
        type: 'motion',
        zones: ['door'],
        boxes: [{ x: 0.3, y: 0.2, width: 0.2, height: 0.5 }],
        startTime: now,
        endTime: null,
        score: 0.6,
      },
    };
    expect(gate.decide(door)).toMatchObject({ passed: true, rule: 'night intruder' });
    now += 60_000;
    expect(gate.decide(door).reason).toBe('rule "night intruder" matched but blocked: cooldown for camera example-gate, 240 s left');
    now = Date.parse('2026-06-02T08:00:00Z'); // 10:00 in Paris
    expect(gate.decide(door).reason).toBe('rule "night intruder" matched but blocked: quiet hours 07:00–22:00 Europe/Paris (now 10:00)');
    expect(gate.decide({ event: { ...door.event, boxes: [{ x: 0, y: 0, width: 0.05, height: 0.05 }] } })).toMatchObject({
      passed: false,
      rule: 'ignore small motion',
    });
  });
});
