import { RuleGate, type Condition, type Operator } from '../../core/rules';

/** A one-rule gate on a condition: passes when the condition matches, blocks (default) when it does not. */
function matches(when: Condition, msg: Record<string, unknown>): boolean {
  return new RuleGate({ version: 1, rules: [{ name: 'r', when }], default: 'block' }).decide(msg).passed;
}

const event = {
  camera: 'front-door',
  type: 'motion',
  subtype: null,
  startTime: 1_000,
  endTime: 13_500,
  score: 0.72,
  zones: ['door', 'path'],
  boxes: [
    { x: 0, y: 0, width: 0.5, height: 0.2 },
    { x: 0.5, y: 0.5, width: 0.1, height: 0.1 },
  ],
  data: { ai: { caption: 'A person at the door', description: 'A man in a red coat', tags: ['person', 'package'], severity: 'high', confidence: 0.91 } },
};
const msg = { event, motion: { changedFraction: 0.031 }, payload: { items: [{ name: 'parcel' }] }, topic: 'cameras/front-door/motion' };

const leaf = (path: string, op: Operator = 'exists', value?: unknown): Condition => (value === undefined ? { path, op } : { path, op, value });

describe('rule operators', () => {
  it.each([
    ['eq on a string', leaf('event.type', 'eq', 'motion'), leaf('event.type', 'eq', 'tamper')],
    ['eq on a number', leaf('event.score', 'eq', 0.72), leaf('event.score', 'eq', 0.7)],
    ['eq on an array', leaf('event.zones', 'eq', ['door', 'path']), leaf('event.zones', 'eq', ['path', 'door'])],
    ['ne on a string', leaf('event.camera', 'ne', 'garden'), leaf('event.camera', 'ne', 'front-door')],
    ['ne on a missing value', leaf('event.nothing', 'ne', 'x'), leaf('event.subtype', 'ne', null)],
    ['gt on a number', leaf('event.score', 'gt', 0.5), leaf('event.score', 'gt', 0.72)],
    ['gte on a number', leaf('event.score', 'gte', 0.72), leaf('event.score', 'gte', 0.73)],
    ['lt on a number', leaf('motion.changedFraction', 'lt', 0.05), leaf('motion.changedFraction', 'lt', 0.031)],
    ['lte on a number', leaf('motion.changedFraction', 'lte', 0.031), leaf('motion.changedFraction', 'lte', 0.03)],
    ['gt on severity ranks', leaf('event.data.ai.severity', 'gt', 'medium'), leaf('event.data.ai.severity', 'gt', 'high')],
    ['gte on severity ranks', leaf('event.data.ai.severity', 'gte', 'high'), leaf('event.data.ai.severity', 'gte', 'critical')],
    ['lt on severity ranks', leaf('event.data.ai.severity', 'lt', 'critical'), leaf('event.data.ai.severity', 'lt', 'medium')],
    ['lte on severity ranks', leaf('event.data.ai.severity', 'lte', 'high'), leaf('event.data.ai.severity', 'lte', 'low')],
    ['gt on strings (code-point order)', leaf('event.camera', 'gt', 'a'), leaf('event.camera', 'gt', 'z')],
    ['gt across kinds is false', leaf('event.score', 'gte', 0), leaf('event.score', 'gt', '0.1')],
    ['in on a string', leaf('event.camera', 'in', ['front-door', 'garage']), leaf('event.camera', 'in', ['garage'])],
    ['in on a number', leaf('event.score', 'in', [0.72, 1]), leaf('event.score', 'in', [1])],
    ['in on an array (any item)', leaf('event.zones', 'in', ['door', 'gate']), leaf('event.zones', 'in', ['gate'])],
    ['in on severities', leaf('event.data.ai.severity', 'in', ['high', 'critical']), leaf('event.data.ai.severity', 'in', ['low'])],
    ['nin on a string', leaf('event.type', 'nin', ['tamper']), leaf('event.type', 'nin', ['motion', 'tamper'])],
    ['nin on an array (no item)', leaf('event.zones', 'nin', ['street']), leaf('event.zones', 'nin', ['street', 'path'])],
    ['contains on an array', leaf('event.zones', 'contains', 'door'), leaf('event.zones', 'contains', 'street')],
    [
      'contains every item of an array',
      leaf('event.data.ai.tags', 'contains', ['person', 'package']),
      leaf('event.data.ai.tags', 'contains', ['person', 'car']),
    ],
    ['contains on a string', leaf('event.data.ai.caption', 'contains', 'person'), leaf('event.data.ai.caption', 'contains', 'Person')],
    ['matches on a string', leaf('topic', 'matches', '^cameras/front-'), leaf('topic', 'matches', '^cameras/back-')],
    ['matches with flags', leaf('event.data.ai.description', 'matches', '/RED COAT/i'), leaf('event.data.ai.description', 'matches', 'RED COAT')],
    ['matches on an array (any item)', leaf('event.data.ai.tags', 'matches', '^pack'), leaf('event.data.ai.tags', 'matches', '^car$')],
    ['exists', leaf('event.data.ai'), leaf('event.data.face')],
    ['exists false', leaf('event.data.face', 'exists', false), leaf('event.data.ai.tags', 'exists', false)],
    ['exists on null', leaf('event.camera', 'exists', true), leaf('event.subtype', 'exists', true)],
    ['a path with an index', leaf('payload.items[0].name', 'eq', 'parcel'), leaf('payload.items[1].name', 'exists')],
    ['event.duration in seconds', leaf('event.duration', 'eq', 12.5), leaf('event.duration', 'lt', 10)],
    ['event.area of its boxes', { all: [leaf('event.area', 'gt', 0.109), leaf('event.area', 'lt', 0.111)] }, leaf('event.area', 'gt', 0.2)],
    ['the length of an array', leaf('event.zones.length', 'eq', 2), leaf('event.zones.length', 'gt', 2)],
    ['confidence', leaf('event.data.ai.confidence', 'gte', 0.9), leaf('event.data.ai.confidence', 'gte', 0.95)],
  ])('%s', (_name, yes, no) => {
    expect(matches(yes, msg)).toBe(true);
    expect(matches(no, msg)).toBe(false);
  });

  it('reads event.duration from the journal shape (ISO times plus milliseconds) too', () => {
    const journal = {
      event: { camera: 'c', type: 'motion', startTime: '2026-01-01T00:00:00.000Z', startTimeMs: 0, endTime: '2026-01-01T00:00:04.000Z', endTimeMs: 4000 },
    };
    expect(matches(leaf('event.duration', 'eq', 4), journal)).toBe(true);
    expect(matches(leaf('event.duration', 'exists'), { event: { ...event, endTime: null } })).toBe(false);
  });

  it('does not reach the prototype through constructor or __proto__', () => {
    expect(matches(leaf('event.constructor', 'exists'), msg)).toBe(false);
    expect(matches(leaf('event.toString', 'exists'), msg)).toBe(false);
    expect(matches(leaf('event.__proto__', 'exists'), msg)).toBe(false);
  });
});

describe('rule conditions', () => {
  const type = leaf('event.type', 'eq', 'motion');
  const door = leaf('event.zones', 'contains', 'door');
  const street = leaf('event.zones', 'contains', 'street');

  it.each([
    [{ all: [type, door] }, true],
    [{ all: [type, street] }, false],
    [{ any: [street, door] }, true],
    [{ any: [street] }, false],
    [{ none: [street] }, true],
    [{ none: [street, door] }, false],
    [{ all: [type, { any: [street, { none: [street] }] }] }, true],
    [{ any: [{ all: [type, street] }, { none: [type] }] }, false],
  ] as Array<[Condition, boolean]>)('%j → %s', (when, expected) => {
    expect(matches(when, msg)).toBe(expected);
  });

  it('explains every part of a nested condition with a mark', () => {
    const gate = new RuleGate({
      version: 1,
      rules: [{ name: 'door', when: { all: [type, { any: [street, door] }, { none: [leaf('event.data.ai.severity', 'lt', 'medium')] }] } }],
      default: 'block',
    });
    expect(gate.decide(msg).reason).toBe(
      'rule "door": all of [event.type eq "motion" ✓, any of [event.zones contains "street" ✗, event.zones contains "door" ✓], none of [event.data.ai.severity lt "medium" ✗]] matched → pass',
    );
  });
});
