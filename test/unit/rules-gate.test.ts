import { InMemoryRuleMemory, RuleGate, type Rule, type RuleSet } from '../../core/rules';

/** A clock the test moves by hand. */
function fakeClock(start: string) {
  let now = Date.parse(start);
  return { now: () => now, advance: (seconds: number) => (now += seconds * 1000), set: (iso: string) => (now = Date.parse(iso)) };
}

const motionAt = (camera: string, zones: string[] = ['door']) => ({ event: { camera, type: 'motion', zones, startTime: 0, endTime: null, score: 0.8 } });
const isMotion = { path: 'event.type', op: 'eq', value: 'motion' } as const;

function gate(
  rule: Omit<Rule, 'when'> & { when?: Rule['when'] },
  clock: ReturnType<typeof fakeClock>,
  timeZone = 'Europe/Paris',
  memory = new InMemoryRuleMemory(),
) {
  const ruleSet: RuleSet = { version: 1, timeZone, rules: [{ when: isMotion, ...rule }], default: 'block' };
  return new RuleGate(ruleSet, { now: clock.now, memory });
}

describe('rule gate decisions', () => {
  const nightIntruder: RuleSet = {
    version: 1,
    timeZone: 'Europe/Paris',
    rules: [
      { name: 'ignore cats', when: { path: 'event.data.ai.tags', op: 'contains', value: 'cat' }, action: 'block' },
      {
        name: 'night intruder',
        when: { all: [isMotion, { path: 'event.zones', op: 'contains', value: 'door' }] },
        quietHours: [{ from: '22:00', to: '06:00' }],
      },
    ],
    default: 'block',
  };

  it('passes on the first matching rule and explains it', () => {
    const clock = fakeClock('2026-06-01T10:00:00Z');
    expect(new RuleGate(nightIntruder, clock).decide(motionAt('front-door'))).toEqual({
      passed: true,
      rule: 'night intruder',
      reason: 'rule "night intruder": all of [event.type eq "motion" ✓, event.zones contains "door" ✓] matched → pass',
    });
  });

  it('blocks on a matching block rule before later rules are tried', () => {
    const msg = { event: { ...motionAt('front-door').event, data: { ai: { tags: ['cat'] } } } };
    expect(new RuleGate(nightIntruder, fakeClock('2026-06-01T10:00:00Z')).decide(msg)).toEqual({
      passed: false,
      rule: 'ignore cats',
      reason: 'rule "ignore cats": event.data.ai.tags contains "cat" ✓ matched → block',
    });
  });

  it('falls back to the default when no rule matches', () => {
    const clock = fakeClock('2026-06-01T10:00:00Z');
    expect(new RuleGate(nightIntruder, clock).decide(motionAt('front-door', ['street']))).toEqual({
      passed: false,
      rule: null,
      reason: 'no rule matched → default block',
    });
    expect(new RuleGate({ ...nightIntruder, default: 'pass' }, clock).decide({ payload: 1 })).toEqual({
      passed: true,
      rule: null,
      reason: 'no rule matched → default pass',
    });
  });

  it('blocks in quiet hours across midnight, in the rule set time zone', () => {
    const clock = fakeClock('2026-06-01T21:14:00Z'); // 23:14 in Paris (CEST, UTC+2)
    const rules = new RuleGate(nightIntruder, clock);
    expect(rules.decide(motionAt('front-door'))).toEqual({
      passed: false,
      rule: 'night intruder',
      reason: 'rule "night intruder" matched but blocked: quiet hours 22:00–06:00 Europe/Paris (now 23:14)',
    });
    clock.set('2026-06-02T03:59:00Z'); // 05:59
    expect(rules.decide(motionAt('front-door')).reason).toBe('rule "night intruder" matched but blocked: quiet hours 22:00–06:00 Europe/Paris (now 05:59)');
    clock.set('2026-06-02T04:00:00Z'); // 06:00
    expect(rules.decide(motionAt('front-door')).passed).toBe(true);
    clock.set('2026-06-01T19:59:00Z'); // 21:59
    expect(rules.decide(motionAt('front-door')).passed).toBe(true);
  });

  it('takes quiet hours with days from the evening they start', () => {
    const clock = fakeClock('2026-06-06T01:00:00Z'); // Saturday 03:00 in Paris, inside Friday's night
    const rules = gate({ name: 'weekend', quietHours: [{ from: '22:00', to: '06:00', days: ['fri'] }] }, clock);
    expect(rules.decide(motionAt('c')).reason).toBe('rule "weekend" matched but blocked: quiet hours fri 22:00–06:00 Europe/Paris (now 03:00)');
    clock.set('2026-06-07T01:00:00Z'); // Sunday 03:00: Saturday night is not quiet
    expect(rules.decide(motionAt('c')).passed).toBe(true);
  });

  it('passes only inside active windows', () => {
    const clock = fakeClock('2026-06-01T17:02:00Z'); // Monday 19:02 in Paris
    const rules = gate({ name: 'office', activeWindows: [{ from: '08:00', to: '18:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] }] }, clock);
    expect(rules.decide(motionAt('c')).reason).toBe(
      'rule "office" matched but blocked: outside active hours mon, tue, wed, thu, fri 08:00–18:00 Europe/Paris (now 19:02)',
    );
    clock.set('2026-06-01T06:00:00Z'); // 08:00
    expect(rules.decide(motionAt('c')).passed).toBe(true);
    clock.set('2026-06-06T10:00:00Z'); // Saturday noon
    expect(rules.decide(motionAt('c')).passed).toBe(false);
  });
});

describe('quiet hours over daylight-saving changes (2026)', () => {
  const quiet = (clock: ReturnType<typeof fakeClock>, timeZone: string) => gate({ name: 'q', quietHours: [{ from: '01:30', to: '03:30' }] }, clock, timeZone);
  const quietAt = (iso: string, timeZone: string) => !quiet(fakeClock(iso), timeZone).decide(motionAt('c')).passed;
  const wallAt = (iso: string, timeZone: string) => /now (\d\d:\d\d)/.exec(quiet(fakeClock(iso), timeZone).decide(motionAt('c')).reason)?.[1];

  it('Europe/Paris spring forward, 29 March: 02:00 CET jumps to 03:00 CEST, so 01:30–03:30 lasts one hour', () => {
    expect(quietAt('2026-03-29T00:29:00Z', 'Europe/Paris')).toBe(false); // 01:29 CET
    expect(quietAt('2026-03-29T00:30:00Z', 'Europe/Paris')).toBe(true); // 01:30 CET
    expect(wallAt('2026-03-29T00:59:00Z', 'Europe/Paris')).toBe('01:59');
    expect(wallAt('2026-03-29T01:00:00Z', 'Europe/Paris')).toBe('03:00'); // 03:00 CEST, the clock jumped
    expect(quietAt('2026-03-29T01:29:00Z', 'Europe/Paris')).toBe(true); // 03:29 CEST
    expect(quietAt('2026-03-29T01:30:00Z', 'Europe/Paris')).toBe(false); // 03:30 CEST
  });

  it('America/New_York spring forward, 8 March: 02:00 EST jumps to 03:00 EDT', () => {
    expect(quietAt('2026-03-08T06:29:00Z', 'America/New_York')).toBe(false); // 01:29 EST
    expect(quietAt('2026-03-08T06:30:00Z', 'America/New_York')).toBe(true); // 01:30 EST
    expect(wallAt('2026-03-08T07:00:00Z', 'America/New_York')).toBe('03:00'); // 03:00 EDT
    expect(quietAt('2026-03-08T07:29:00Z', 'America/New_York')).toBe(true); // 03:29 EDT
    expect(quietAt('2026-03-08T07:30:00Z', 'America/New_York')).toBe(false); // 03:30 EDT
  });

  it('America/New_York fall back, 1 November: 01:30 happens twice and both are quiet', () => {
    expect(quietAt('2026-11-01T05:29:00Z', 'America/New_York')).toBe(false); // 01:29 EDT
    expect(wallAt('2026-11-01T05:30:00Z', 'America/New_York')).toBe('01:30'); // 01:30 EDT
    expect(quietAt('2026-11-01T05:30:00Z', 'America/New_York')).toBe(true);
    expect(wallAt('2026-11-01T06:30:00Z', 'America/New_York')).toBe('01:30'); // 01:30 EST, an hour later
    expect(quietAt('2026-11-01T06:30:00Z', 'America/New_York')).toBe(true);
    expect(quietAt('2026-11-01T08:29:00Z', 'America/New_York')).toBe(true); // 03:29 EST
    expect(quietAt('2026-11-01T08:30:00Z', 'America/New_York')).toBe(false); // 03:30 EST
  });

  it('Europe/Paris fall back, 25 October: 02:00–03:00 happens twice', () => {
    expect(wallAt('2026-10-25T00:30:00Z', 'Europe/Paris')).toBe('02:30'); // CEST
    expect(wallAt('2026-10-25T01:30:00Z', 'Europe/Paris')).toBe('02:30'); // CET
    expect(quietAt('2026-10-25T02:29:00Z', 'Europe/Paris')).toBe(true); // 03:29 CET
    expect(quietAt('2026-10-25T02:30:00Z', 'Europe/Paris')).toBe(false); // 03:30 CET
  });
});

describe('dedupe, cooldown and rate limit', () => {
  it('blocks a duplicate within the window, by the dedupe key', () => {
    const clock = fakeClock('2026-06-01T10:00:00Z');
    const rules = gate({ name: 'dup', dedupe: { key: ['camera', 'type', 'zones'], seconds: 60 } }, clock);
    expect(rules.decide(motionAt('front-door')).passed).toBe(true);
    clock.advance(12);
    expect(rules.decide(motionAt('front-door'))).toEqual({
      passed: false,
      rule: 'dup',
      reason: 'rule "dup" matched but blocked: duplicate of an event 12 s ago (key front-door|motion|door, window 60 s)',
    });
    expect(rules.decide(motionAt('front-door', ['door', 'path'])).passed).toBe(true);
    expect(rules.decide(motionAt('garage')).passed).toBe(true);
    clock.advance(48);
    expect(rules.decide(motionAt('front-door')).passed).toBe(true);
  });

  it('reads dedupe keys from the message with "msg."', () => {
    const clock = fakeClock('2026-06-01T10:00:00Z');
    const rules = gate({ name: 'dup', dedupe: { key: ['msg.topic'], seconds: 30 } }, clock);
    expect(rules.decide({ ...motionAt('a'), topic: 't1' }).passed).toBe(true);
    expect(rules.decide({ ...motionAt('b'), topic: 't1' }).reason).toBe('rule "dup" matched but blocked: duplicate of an event 0 s ago (key t1, window 30 s)');
  });

  it('holds a cooldown per camera', () => {
    const clock = fakeClock('2026-06-01T10:00:00Z');
    const rules = gate({ name: 'cool', cooldown: { seconds: 60, per: 'camera' } }, clock);
    expect(rules.decide(motionAt('front-door')).passed).toBe(true);
    clock.advance(20);
    expect(rules.decide(motionAt('front-door'))).toEqual({
      passed: false,
      rule: 'cool',
      reason: 'rule "cool" matched but blocked: cooldown for camera front-door, 40 s left',
    });
    expect(rules.decide(motionAt('garage')).passed).toBe(true);
    clock.advance(40);
    expect(rules.decide(motionAt('front-door')).passed).toBe(true);
  });

  it('holds a cooldown per rule across cameras', () => {
    const clock = fakeClock('2026-06-01T10:00:00Z');
    const rules = gate({ name: 'cool', cooldown: { seconds: 300, per: 'rule' } }, clock);
    expect(rules.decide(motionAt('front-door')).passed).toBe(true);
    clock.advance(10.5);
    expect(rules.decide(motionAt('garage')).reason).toBe('rule "cool" matched but blocked: cooldown for rule "cool", 290 s left');
  });

  it('a blocked event does not restart the cooldown', () => {
    const clock = fakeClock('2026-06-01T10:00:00Z');
    const rules = gate({ name: 'cool', cooldown: { seconds: 60 } }, clock);
    rules.decide(motionAt('c'));
    clock.advance(59);
    expect(rules.decide(motionAt('c')).passed).toBe(false);
    clock.advance(1);
    expect(rules.decide(motionAt('c')).passed).toBe(true);
  });

  it('limits passes to count per sliding window', () => {
    const clock = fakeClock('2026-06-01T10:00:00Z');
    const rules = gate({ name: 'burst', rateLimit: { count: 5, perSeconds: 60 } }, clock);
    for (let i = 0; i < 5; i++) {
      expect(rules.decide(motionAt(`cam${i}`)).passed).toBe(true);
      clock.advance(10);
    }
    expect(rules.decide(motionAt('cam9'))).toEqual({ passed: false, rule: 'burst', reason: 'rule "burst" matched but blocked: rate limit 5 per 60 s reached' });
    clock.advance(10); // the first pass is now 60 s old and leaves the window
    expect(rules.decide(motionAt('cam9')).passed).toBe(true);
    expect(rules.decide(motionAt('cam9')).passed).toBe(false);
  });

  it('keeps its memory bounded, forgetting expired keys first and then the oldest', () => {
    const clock = fakeClock('2026-06-01T10:00:00Z');
    const memory = new InMemoryRuleMemory(100);
    const rules = gate({ name: 'dup', dedupe: { key: ['camera'], seconds: 60 } }, clock, 'UTC', memory);
    for (let i = 0; i < 1000; i++) rules.decide(motionAt(`cam${i}`));
    expect(memory.size).toBeLessThanOrEqual(100);
    expect(rules.decide(motionAt('cam999')).passed).toBe(false);
    clock.advance(61);
    rules.decide(motionAt('fresh'));
    expect(memory.size).toBe(1);
    expect(memory.times('x', clock.now())).toEqual([]);
  });
});
