import { parseRuleSet, RuleSetError, validateRuleSet } from '../../core/rules';

const rule = (extra: Record<string, unknown> = {}) => ({ name: 'r', when: { path: 'event.type', op: 'eq', value: 'motion' }, ...extra });
const ruleSet = (rules: unknown[], extra: Record<string, unknown> = {}) => ({ version: 1, rules, default: 'block', ...extra });

function errorOf(input: unknown): { path: string; message: string } {
  try {
    validateRuleSet(input);
  } catch (err) {
    expect(err).toBeInstanceOf(RuleSetError);
    return { path: (err as RuleSetError).path, message: (err as Error).message };
  }
  throw new Error('expected the rule set to be refused');
}

describe('rule set schema', () => {
  it('accepts a full rule set', () => {
    const full = ruleSet(
      [
        rule({
          name: 'night intruder',
          when: {
            all: [
              { path: 'event.zones', op: 'contains', value: 'door' },
              { any: [{ path: 'event.data.ai.severity', op: 'gte', value: 'high' }, { none: [{ path: 'motion.changedFraction', op: 'lt', value: 0.01 }] }] },
            ],
          },
          quietHours: [{ from: '22:00', to: '06:00', days: ['mon', 'sun'] }],
          activeWindows: [{ from: '00:00', to: '00:00' }],
          dedupe: { key: ['camera', 'msg.topic'], seconds: 60 },
          cooldown: { seconds: 0, per: 'rule' },
          rateLimit: { count: 5, perSeconds: 60 },
          action: 'pass',
        }),
        rule({ name: 'exists', when: { path: 'payload.items[0]', op: 'exists' } }),
      ],
      { timeZone: 'America/New_York' },
    );
    expect(validateRuleSet(full)).toBe(full);
  });

  it.each([
    [
      'an unknown operator',
      ruleSet([rule(), rule(), rule({ name: 'x', when: { all: [{ path: 'event.type', op: 'approx', value: 1 }] } })]),
      'rules[2].when.all[0].op: unknown operator "approx"; expected one of eq, ne, gt, gte, lt, lte, in, nin, contains, matches, exists',
    ],
    ['a number given as a string', ruleSet([rule({ cooldown: { seconds: '5' } })]), 'rules[0].cooldown.seconds: expected a number ≥ 0, got "5"'],
    ['a negative number', ruleSet([rule({ dedupe: { seconds: -1 } })]), 'rules[0].dedupe.seconds: expected a number ≥ 0, got -1'],
    [
      'an unknown key in a rule',
      ruleSet([rule({ colour: 'red' })]),
      'rules[0]: unknown key "colour"; expected one of name, when, quietHours, activeWindows, dedupe, cooldown, rateLimit, action',
    ],
    ['an unknown key at the top', { ...ruleSet([]), rule: [] }, '$: unknown key "rule"; expected one of version, timeZone, rules, default'],
    [
      'an unknown key in a leaf',
      ruleSet([rule({ when: { path: 'event.type', op: 'eq', value: 1, negate: true } })]),
      'rules[0].when: unknown key "negate"; expected one of path, op, value',
    ],
    [
      'two group keys in one condition',
      ruleSet([rule({ when: { all: [rule().when], any: [rule().when] } })]),
      'rules[0].when: unknown key "any"; expected one of all',
    ],
    [
      'not a condition',
      ruleSet([rule({ when: { any: [{ op: 'eq' }] } })]),
      'rules[0].when.any[0]: expected a condition: {"all": […]}, {"any": […]}, {"none": […]} or {"path", "op", "value"}, got an object',
    ],
    ['an empty group', ruleSet([rule({ when: { none: [] } })]), 'rules[0].when.none: expected at least 1 item, got 0'],
    ['a missing rule name', ruleSet([{ when: rule().when }]), 'rules[0]: missing key "name"'],
    ['a wrong version', { ...ruleSet([]), version: 2 }, 'version: expected 1, got 2'],
    ['a wrong default', { ...ruleSet([]), default: 'allow' }, 'default: unknown default "allow"; expected one of pass, block'],
    [
      'a bad time',
      ruleSet([rule({ quietHours: [{ from: '22:00', to: '24:00' }] })]),
      'rules[0].quietHours[0].to: expected a time "HH:MM" from 00:00 to 23:59, got "24:00"',
    ],
    [
      'a bad day',
      ruleSet([rule({ activeWindows: [{ from: '08:00', to: '18:00', days: ['monday'] }] })]),
      'rules[0].activeWindows[0].days[0]: unknown day "monday"; expected one of mon, tue, wed, thu, fri, sat, sun',
    ],
    [
      'a bad cooldown scope',
      ruleSet([rule({ cooldown: { seconds: 5, per: 'zone' } })]),
      'rules[0].cooldown.per: unknown cooldown scope "zone"; expected one of camera, rule',
    ],
    [
      'a fractional rate count',
      ruleSet([rule({ rateLimit: { count: 1.5, perSeconds: 60 } })]),
      'rules[0].rateLimit.count: expected a whole number ≥ 1, got 1.5',
    ],
    [
      'a bad path',
      ruleSet([rule({ when: { path: 'event..type', op: 'eq', value: 1 } })]),
      'rules[0].when.path: expected a message path like "event.zones" or "payload.items[0].name", got "event..type"',
    ],
    ['rules not an array', { ...ruleSet([]), rules: {} }, 'rules: expected an array, got an object'],
    [
      'an unknown time zone',
      ruleSet([], { timeZone: 'Mars/Olympus' }),
      'timeZone: unknown time zone "Mars/Olympus"; expected an IANA name like "Europe/Paris"',
    ],
    ['a duplicate rule name', ruleSet([rule(), rule()]), 'rules[1].name: duplicate rule name "r"; names label decisions and cooldowns, so each must be unique'],
    [
      'a bad regular expression',
      ruleSet([rule({ when: { path: 'topic', op: 'matches', value: '(' } })]),
      'rules[0].when.value: not a valid regular expression (Invalid regular expression: /(/: Unterminated group)',
    ],
    [
      'in without an array',
      ruleSet([rule({ when: { any: [{ path: 'event.camera', op: 'in', value: 'a' }] } })]),
      'rules[0].when.any[0].value: operator "in" expects an array of values, got "a"',
    ],
    [
      'a comparison with an object',
      ruleSet([rule({ when: { path: 'event.score', op: 'gt', value: {} } })]),
      'rules[0].when.value: operator "gt" expects a number, a string or a severity (low, medium, high, critical), got an object',
    ],
    [
      'exists with a string',
      ruleSet([rule({ when: { path: 'event.score', op: 'exists', value: 'yes' } })]),
      'rules[0].when.value: operator "exists" expects true, false or no value, got "yes"',
    ],
    ['a missing value', ruleSet([rule({ when: { path: 'event.score', op: 'eq' } })]), 'rules[0].when: missing key "value" (operator "eq" compares with it)'],
  ])('refuses %s, naming its JSON path', (_name, input, message) => {
    expect(errorOf(input).message).toBe(message);
  });

  it('puts the path on the error object for callers that show it apart', () => {
    expect(errorOf(ruleSet([rule({ cooldown: { seconds: '5' } })])).path).toBe('rules[0].cooldown.seconds');
  });

  it('reports text that is not JSON at the root', () => {
    expect(() => parseRuleSet('{"version": 1,')).toThrow(/^\$: not valid JSON/);
    expect(parseRuleSet('{"version":1,"rules":[],"default":"pass"}').default).toBe('pass');
  });
});
