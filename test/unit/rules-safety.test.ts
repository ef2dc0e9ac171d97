import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { silentLogger } from '../../core/log/logger';
import { RuleGate, RuleSetError, validateRuleSet } from '../../core/rules';
import { RULE_SET_LIMITS } from '../../core/rules/limits';
import { PATTERN_LIMITS } from '../../core/rules/pattern';
import { rulesRouter } from '../../runtime/api/rules';
import { signedInAs } from '../support/api-auth';

/**
 * Issue 12, findings 5 and 9: a `matches` rule froze the whole process (`^(a+)+$` on 30 characters took 3.5 s and
 * doubled with each one), and a deeply nested rule set crashed validation with a stack overflow (a 500).
 */

const ruleSet = (when: unknown, extra: Record<string, unknown> = {}) => ({ version: 1, rules: [{ name: 'r', when, ...extra }], default: 'block' });
const matching = (pattern: string) => ruleSet({ path: 'event.label', op: 'matches', value: pattern });
const decide = (pattern: string, label: unknown) => new RuleGate(matching(pattern)).decide({ event: { label } }).passed;

/** A condition nested `depth` groups deep, built as text: JSON.parse has no trouble with it, recursion would. */
const nestedText = (depth: number) => `${'{"all":['.repeat(depth)}{"path":"event.type","op":"eq","value":"motion"}${']}'.repeat(depth)}`;
const nested = (depth: number): unknown => JSON.parse(nestedText(depth));

function errorOf(input: unknown): RuleSetError {
  try {
    validateRuleSet(input);
  } catch (err) {
    if (err instanceof RuleSetError) return err;
    throw err;
  }
  throw new Error('expected a RuleSetError');
}

describe('matches runs on a linear-time engine', () => {
  // On JavaScript's backtracking engine 50 characters would take days; the test finishing at all is the check.
  const evil = `${'a'.repeat(50)}!`;

  it('answers ^(a+)+$ on 50 a followed by "!" correctly', () => {
    expect(decide('^(a+)+$', evil)).toBe(false);
    expect(decide('^(a+)+$', 'a'.repeat(50))).toBe(true);
  });

  it('lets a setImmediate scheduled before the evaluation run after it', async () => {
    const order: string[] = [];
    const ran = new Promise<void>((resolve) =>
      setImmediate(() => {
        order.push('immediate');
        resolve();
      }),
    );
    const gate = new RuleGate(matching('^(a+)+$'));
    order.push(gate.decide({ event: { label: `${'a'.repeat(PATTERN_LIMITS.text - 1)}!` } }).passed ? 'passed' : 'blocked');
    await ran;
    expect(order).toEqual(['blocked', 'immediate']);
  });

  it('keeps other requests answered while POST /api/rules/test runs the pattern', async () => {
    const app = express();
    app.get('/healthz', (_req, res) => res.json({ ok: true }));
    app.use('/api', rulesRouter({ log: silentLogger, auth: signedInAs('viewer') }));
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const test = fetch(`${base}/api/rules/test`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ rules: matching('^(a+)+$'), event: { label: evil } }),
      });
      const health = fetch(`${base}/healthz`);
      const [tested, healthy] = await Promise.all([test, health]);
      expect(healthy.status).toBe(200);
      expect(tested.status).toBe(200);
      expect(((await tested.json()) as { decision: { passed: boolean } }).decision.passed).toBe(false);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each([
    ['/RED COAT/i', 'a man in a red coat', true],
    ['/^door$/m', 'gate\ndoor\nyard', true],
    ['/a.b/s', 'a\nb', true],
    ['/door/y', 'front door', false],
    ['/front/y', 'front door', true],
    ['(?<kind>car|truck) at the gate', 'a truck at the gate', true],
    ['\\u00e9t\\u00e9', 'un été chaud', true],
    ['^pack', ['car', 'package'], true],
  ])('keeps JavaScript meaning for %s', (pattern, label, expected) => {
    expect(decide(pattern, label)).toBe(expected);
  });

  it(`tests at most ${PATTERN_LIMITS.text} characters per condition, array items together, and never a text's start alone`, () => {
    expect(decide('door', `door${'x'.repeat(PATTERN_LIMITS.text)}`)).toBe(false);
    expect(decide('^a+$', 'a'.repeat(PATTERN_LIMITS.text + 1))).toBe(false);
    expect(decide('^a+$', 'a'.repeat(PATTERN_LIMITS.text))).toBe(true);
    expect(decide('door', ['x'.repeat(PATTERN_LIMITS.text - 2), 'door'])).toBe(false);
    expect(decide('door', ['x'.repeat(PATTERN_LIMITS.text - 4), 'door'])).toBe(true);
  });
});

describe('refuses what a linear-time engine cannot run, naming the rule path', () => {
  it.each([
    ['(a)\\1', 'rules[0].when.value: the backreference \\1 is not supported'],
    ['(?<n>a)\\k<n>', 'rules[0].when.value: the named backreference \\k<…> is not supported'],
    ['door(?=way)', 'rules[0].when.value: the lookaround (?=…) is not supported'],
    ['(?<!front )door', 'rules[0].when.value: the lookaround (?<!…) is not supported'],
  ])('%s', (pattern, message) => {
    const error = errorOf(matching(pattern));
    expect(error.message.startsWith(message)).toBe(true);
    expect(error.message).toContain('RE2');
  });

  it('keeps escaped and bracketed look-alikes', () => {
    expect(decide('\\(\\?=[(?=]', '(?=(')).toBe(true);
  });

  it('refuses a pattern longer than the limit', () => {
    expect(errorOf(matching('a'.repeat(PATTERN_LIMITS.length + 1))).message).toBe(
      `rules[0].when.value: a pattern of ${PATTERN_LIMITS.length + 1} characters; expected at most ${PATTERN_LIMITS.length}`,
    );
  });

  it('refuses a pattern whose bounded repeats compile to a huge program', () => {
    const error = errorOf(matching('(a|b|ab|ba){1,999}[ac]{999}$'));
    expect(error.path).toBe('rules[0].when.value');
    expect(error.problem).toMatch(new RegExp(`^compiles to \\d+ instructions; expected at most ${PATTERN_LIMITS.instructions}`));
  });

  it('refuses patterns that are each allowed but together too large', () => {
    const leaf = { path: 'event.label', op: 'matches', value: '[a-z]{1,60}' };
    const error = errorOf(ruleSet({ any: Array.from({ length: 60 }, () => leaf) }));
    expect(error.problem).toMatch(new RegExp(`expected at most ${PATTERN_LIMITS.totalInstructions}$`));
    expect(error.path).toMatch(/^rules\[0\]\.when\.any\[\d+\]\.value$/);
  });
});

describe('bounds the size and nesting of a rule set', () => {
  const depthProblem = `nested deeper than ${RULE_SET_LIMITS.depth} levels of objects and arrays; expected at most ${RULE_SET_LIMITS.depth} (about 30 levels of all/any/none)`;

  it('refuses 10,000 nested groups with a RuleSetError naming the limit, not a RangeError', () => {
    const error = errorOf(ruleSet(nested(10_000)));
    expect(error.problem).toBe(depthProblem);
    expect(error.path).toMatch(/^rules\[0\]\.when(\.all\[0\])+\.all$/);
  });

  it('refuses a deeply nested value as well', () => {
    const deepValue = JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`) as unknown;
    expect(errorOf(ruleSet({ path: 'event.zones', op: 'eq', value: deepValue })).problem).toBe(depthProblem);
  });

  it('accepts 30 levels of groups', () => {
    expect(new RuleGate(ruleSet(nested(29))).decide({ event: { type: 'motion' } }).passed).toBe(true);
  });

  it(`refuses more than ${RULE_SET_LIMITS.conditions} conditions`, () => {
    const leaves = Array.from({ length: RULE_SET_LIMITS.conditions }, () => ({ path: 'event.type', op: 'eq', value: 'motion' }));
    expect(errorOf(ruleSet({ any: leaves })).problem).toBe(
      `more than ${RULE_SET_LIMITS.conditions} conditions in the rule set; expected at most ${RULE_SET_LIMITS.conditions}, groups and leaves together`,
    );
  });

  it('answers 400, not 500, to POST /api/rules/test with 10,000 nested groups', async () => {
    const app = express();
    app.use('/api', rulesRouter({ log: silentLogger, auth: signedInAs('viewer') }));
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/rules/test`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        // Written as text: JSON.stringify itself recurses and overflows on 10,000 levels.
        body: `{"rules":{"version":1,"rules":[{"name":"r","when":${nestedText(10_000)}}],"default":"block"},"event":{"type":"motion"}}`,
      });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(`expected at most ${RULE_SET_LIMITS.depth}`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
