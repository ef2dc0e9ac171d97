import { register } from 'prom-client';
import { checkGateMessage } from '../../core/messages';
import ruleGateNode from '../../nodes/rule-gate/rule-gate';
import { collect, logged, nextMessage, statusesOf } from '../support/flow';
import { helper, type FlowNode } from '../support/node-red-helper';
import { eventually } from '../support/tools';
import { expectProblem } from '../support/problem';

const rules = JSON.stringify({
  version: 1,
  rules: [
    { name: 'ignore tamper', when: { path: 'event.type', op: 'eq', value: 'tamper' }, action: 'block' },
    {
      name: 'door',
      when: {
        all: [
          { path: 'event.type', op: 'eq', value: 'motion' },
          { path: 'event.zones', op: 'contains', value: 'door' },
        ],
      },
      cooldown: { seconds: 3600, per: 'camera' },
    },
  ],
  default: 'block',
});

const flow = (def: Record<string, unknown>): FlowNode[] => [
  { id: 'gate1', type: 'rule-gate', name: 'gate', ...def, wires: [['passed'], ['blocked']] },
  { id: 'passed', type: 'helper' },
  { id: 'blocked', type: 'helper' },
];

const eventMsg = (camera: string, type: string, zones: string[]) => ({
  topic: `cameras/${camera}/motion`,
  event: { camera, type, zones, startTime: 1, endTime: null, score: 0.5 },
});

/** The helper's supertest client on the editor's admin routes (its type declaration leaves it out). */
interface AdminRequest {
  post(url: string): { send(body: unknown): PromiseLike<{ status: number; body: unknown; text: string; headers: Record<string, string> }> };
}
const admin = () => (helper as unknown as { request(): AdminRequest }).request();

async function decisions(rule: string, outcome: string): Promise<number> {
  const metric = (await register.getSingleMetric('glimpser_rule_decisions_total')?.get())?.values ?? [];
  return metric.find((v) => v.labels.rule === rule && v.labels.outcome === outcome)?.value ?? 0;
}

describe('rule-gate node', () => {
  afterEach(async () => {
    await helper.unload();
  });

  it('sends passed messages to the first output and blocked ones to the second, each with msg.gate', async () => {
    await helper.load([ruleGateNode], flow({ rules }));
    const passed = collect('passed');
    const blocked = collect('blocked');
    const doorBefore = await decisions('door', 'pass');
    const gate = helper.getNode('gate1');
    gate.receive(eventMsg('front-door', 'motion', ['door']));
    gate.receive(eventMsg('front-door', 'motion', ['door']));
    gate.receive(eventMsg('front-door', 'tamper', []));
    gate.receive(eventMsg('garage', 'motion', ['street']));
    await eventually(async () => (passed.length + blocked.length === 4 ? true : undefined), 5000, 'four decisions');

    expect(passed).toHaveLength(1);
    expect(passed[0].topic).toBe('cameras/front-door/motion');
    expect(passed[0].gate).toEqual({
      passed: true,
      rule: 'door',
      reason: 'rule "door": all of [event.type eq "motion" ✓, event.zones contains "door" ✓] matched → pass',
    });
    expect(blocked.map((m) => m.gate)).toEqual([
      { passed: false, rule: 'door', reason: expect.stringMatching(/^rule "door" matched but blocked: cooldown for camera front-door, 3600 s left$/) },
      { passed: false, rule: 'ignore tamper', reason: 'rule "ignore tamper": event.type eq "tamper" ✓ matched → block' },
      { passed: false, rule: null, reason: 'no rule matched → default block' },
    ]);
    expect(await decisions('door', 'pass')).toBe(doorBefore + 1);
    expect(await decisions('(default)', 'block')).toBeGreaterThanOrEqual(1);
  });

  it('shows the last decision and the counts in its status', async () => {
    await helper.load([ruleGateNode], flow({ rules }));
    expect(statusesOf('gate1').at(-1)).toMatchObject({ fill: 'blue', text: '2 rules · default block' });
    const blocked = collect('blocked');
    helper.getNode('gate1').receive(eventMsg('garage', 'motion', ['street']));
    await eventually(async () => (blocked.length === 1 ? true : undefined), 5000, 'a blocked message');
    expect(statusesOf('gate1').at(-1)).toMatchObject({ fill: 'grey', text: 'block: default · 0 passed, 1 blocked' });
  });

  it('judges a message of any shape: one without the event its rules read meets the default, and the next event still passes', async () => {
    const passDoor = JSON.stringify({ version: 1, rules: [{ name: 'door', when: { path: 'event.zones', op: 'contains', value: 'door' } }], default: 'block' });
    await helper.load([ruleGateNode], flow({ rules: passDoor, outputs: 2 }));
    let blocked = nextMessage('blocked');
    helper.getNode('gate1').receive({ payload: 'no event', event: 42 });
    const judged = await blocked;
    expect(checkGateMessage(judged).gate).toEqual({ passed: false, rule: null, reason: 'no rule matched → default block' });
    expect(judged.payload).toBe('no event');
    expect(statusesOf('gate1').at(-1)).toMatchObject({ fill: 'grey', text: 'block: default · 0 passed, 1 blocked' });

    const passed = nextMessage('passed');
    helper.getNode('gate1').receive(eventMsg('porch', 'motion', ['door']));
    expect(checkGateMessage(await passed).gate).toMatchObject({ passed: true, rule: 'door' });
    expect(statusesOf('gate1').at(-1)).toMatchObject({ fill: 'green', text: 'pass: door · 1 passed, 1 blocked' });
    blocked = nextMessage('blocked');
    helper.getNode('gate1').receive({ event: { camera: 'porch', zones: ['street'] } });
    expect((await blocked).gate).toMatchObject({ passed: false, rule: null });
    expect(logged('gate1', 20)).toEqual([]);
  });

  it('refuses a rule set with an unknown operator, naming its path in a red status and the log', async () => {
    const bad = JSON.stringify({ version: 1, rules: [{ name: 'x', when: { all: [{ path: 'event.type', op: 'approx', value: 1 }] } }], default: 'pass' });
    await helper.load([ruleGateNode], flow({ rules: bad }));
    expect(logged('gate1', 20)[0]).toBe(
      'rules[0].when.all[0].op: unknown operator "approx"; expected one of eq, ne, gt, gte, lt, lte, in, nin, contains, matches, exists',
    );
    expect(statusesOf('gate1').at(-1)).toEqual({ fill: 'red', shape: 'dot', text: 'rules[0].when.all[0].op: unknown operator "approx"; expec…' });
    helper.getNode('gate1').receive(eventMsg('garage', 'motion', []));
    await eventually(async () => (logged('gate1', 20).length === 2 ? true : undefined), 5000, 'an error for the message');
    expect(logged('gate1', 20)[1]).toMatch(/not configured/);
  });

  it.each([
    [
      '{"version":1,"rules":[{"name":"x","when":{"path":"event.type","op":"eq","value":"motion"},"cooldown":{"seconds":"5"}}],"default":"pass"}',
      'rules[0].cooldown.seconds: expected a number ≥ 0, got "5"',
    ],
    ['{"version":1,"rules":[],"default":"pass",}', /^\$: not valid JSON/],
  ])('names the problem in %s', async (bad, message) => {
    await helper.load([ruleGateNode], flow({ rules: bad }));
    expect(logged('gate1', 20)[0]).toMatch(message);
    expect(statusesOf('gate1').at(-1)?.fill).toBe('red');
  });

  it('checks rules for the editor with the runtime validator, answering the path of the first problem', async () => {
    await helper.load([ruleGateNode], flow({ rules }));
    const check = async (text: unknown) => {
      const res = await admin().post('/glimpser/rule-gate/check').send({ rules: text });
      expect(res.status).toBe(200);
      return res.body as Record<string, unknown>;
    };
    expect(await check(rules)).toEqual({ valid: true, rules: 2 });
    expect(await check('{"version":1,"rules":[{"name":"a","when":{"any":[{"path":"event.type","op":"approx","value":1}]}}],"default":"pass"}')).toMatchObject({
      valid: false,
      path: 'rules[0].when.any[0].op',
      message: expect.stringMatching(/^rules\[0\]\.when\.any\[0\]\.op: unknown operator "approx"/),
    });
    expect(await check('{')).toMatchObject({ valid: false, path: '$' });
    // A request that is not a check at all is an RFC 9457 problem like every Glimpser error answer.
    const wrong = await admin().post('/glimpser/rule-gate/check').send({ rules: 42 });
    expectProblem({ status: wrong.status, headers: wrong.headers, body: wrong.text }, 400, {
      detail: /^body\.rules: expected the rule set as JSON text/,
      field: 'body.rules',
    });
  });
});
