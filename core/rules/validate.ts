import Ajv, { type ErrorObject } from 'ajv';
import { RULE_SET_LIMITS, tooDeep } from './limits';
import { SEVERITIES } from './operators';
import { parsePath } from './paths';
import { PATTERN_LIMITS, PatternError, patternFor } from './pattern';
import { OPERATORS, RULE_SCHEMAS, RuleSetSchema, type Condition, type RuleSet } from './rule-set';
import { isTimeZone } from './time-window';

/** A rule set that does not validate; `path` is the JSON path of the wrong part, e.g. `rules[2].when.all[0].op`. */
export class RuleSetError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'RuleSetError';
  }
}

const ajv = new Ajv({ allErrors: false, strict: false, verbose: true });
for (const schema of RULE_SCHEMAS) ajv.addSchema(schema);
const check = ajv.compile<RuleSet>(RuleSetSchema);

/** What the conditions of a rule set cost so far, against RULE_SET_LIMITS and PATTERN_LIMITS. */
interface Tally {
  conditions: number;
  instructions: number;
}

/**
 * Checks a parsed rule set: its nesting first (the schema check is recursive), then the schema, then what a
 * schema cannot say (regular expressions, zones, names, sizes).
 */
export function validateRuleSet(input: unknown): RuleSet {
  const deep = tooDeep(input);
  if (deep)
    throw new RuleSetError(
      deep,
      `nested deeper than ${RULE_SET_LIMITS.depth} levels of objects and arrays; expected at most ${RULE_SET_LIMITS.depth} (about 30 levels of all/any/none)`,
    );
  if (!check(input)) throw translate(pickError(check.errors ?? []));
  if (input.timeZone !== undefined && !isTimeZone(input.timeZone))
    throw new RuleSetError('timeZone', `unknown time zone ${JSON.stringify(input.timeZone)}; expected an IANA name like "Europe/Paris"`);
  const names = new Set<string>();
  const tally: Tally = { conditions: 0, instructions: 0 };
  input.rules.forEach((rule, i) => {
    if (names.has(rule.name))
      throw new RuleSetError(
        `rules[${i}].name`,
        `duplicate rule name ${JSON.stringify(rule.name)}; names label decisions and cooldowns, so each must be unique`,
      );
    names.add(rule.name);
    checkCondition(rule.when, `rules[${i}].when`, tally);
  });
  return input;
}

/** Parses the text a user typed and validates it; a syntax error is reported at the root path `$`. */
export function parseRuleSet(text: string): RuleSet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RuleSetError('$', `not valid JSON (${(err as Error).message})`);
  }
  return validateRuleSet(parsed);
}

/** Recursive, but only after tooDeep bounded the nesting. */
function checkCondition(condition: Condition, at: string, tally: Tally): void {
  tally.conditions += 1;
  if (tally.conditions > RULE_SET_LIMITS.conditions)
    throw new RuleSetError(
      at,
      `more than ${RULE_SET_LIMITS.conditions} conditions in the rule set; expected at most ${RULE_SET_LIMITS.conditions}, groups and leaves together`,
    );
  for (const key of ['all', 'any', 'none'] as const) {
    if (key in condition) {
      (condition as Record<typeof key, Condition[]>)[key].forEach((child, i) => checkCondition(child, `${at}.${key}[${i}]`, tally));
      return;
    }
  }
  const leaf = condition as { path: string; op: string; value?: unknown };
  const value = leaf.value;
  const bad = (expected: string) => new RuleSetError(`${at}.value`, `operator "${leaf.op}" expects ${expected}, got ${describeValue(value)}`);
  if (leaf.op === 'exists') {
    if (value !== undefined && typeof value !== 'boolean') throw bad('true, false or no value');
    return;
  }
  if (value === undefined) throw new RuleSetError(at, `missing key "value" (operator "${leaf.op}" compares with it)`);
  if ((leaf.op === 'in' || leaf.op === 'nin') && !Array.isArray(value)) throw bad('an array of values');
  if (['gt', 'gte', 'lt', 'lte'].includes(leaf.op) && typeof value !== 'number' && typeof value !== 'string')
    throw bad(`a number, a string or a severity (${SEVERITIES.join(', ')})`);
  if (leaf.op === 'matches') {
    if (typeof value !== 'string') throw bad('a regular expression as a string');
    try {
      tally.instructions += patternFor(leaf).instructions;
    } catch (err) {
      if (err instanceof PatternError) throw new RuleSetError(`${at}.value`, err.message);
      throw err;
    }
    if (tally.instructions > PATTERN_LIMITS.totalInstructions)
      throw new RuleSetError(
        `${at}.value`,
        `the rule set's patterns compile to ${tally.instructions} instructions together; expected at most ${PATTERN_LIMITS.totalInstructions}`,
      );
  }
  parsePath(leaf.path);
}

/**
 * With if/then/else ajv lists the failure inside the chosen branch first and the "must match then" wrapper after;
 * the first error that is not such a wrapper is the one that names the wrong part.
 */
function pickError(errors: ErrorObject[]): ErrorObject | undefined {
  return errors.find((e) => e.keyword !== 'if') ?? errors[0];
}

function translate(error: ErrorObject | undefined): RuleSetError {
  if (!error) return new RuleSetError('$', 'invalid rule set');
  const path = jsonPath(error.instancePath);
  const schema = (error.parentSchema ?? {}) as {
    expected?: string;
    noun?: string;
    enum?: string[];
    properties?: Record<string, unknown>;
    minimum?: number;
    maximum?: number;
  };
  const got = describeValue(error.data);
  switch (error.keyword) {
    case 'additionalProperties': {
      const known = Object.keys(schema.properties ?? {});
      return new RuleSetError(path, `unknown key ${JSON.stringify(String(error.params.additionalProperty))}; expected one of ${known.join(', ')}`);
    }
    case 'required': {
      const missing = String(error.params.missingProperty);
      const isCondition = path.endsWith('.when') || /\.(all|any|none)\[\d+\]$/.test(path);
      if (isCondition && missing === 'path')
        return new RuleSetError(path, `expected a condition: {"all": […]}, {"any": […]}, {"none": […]} or {"path", "op", "value"}, got ${got}`);
      return new RuleSetError(path, `missing key ${JSON.stringify(missing)}`);
    }
    case 'enum':
      if (schema.noun === 'operator') return new RuleSetError(path, `unknown operator ${got}; expected one of ${OPERATORS.join(', ')}`);
      return new RuleSetError(path, `unknown ${schema.noun ?? 'value'} ${got}; expected one of ${(schema.enum ?? []).join(', ')}`);
    case 'const':
      return new RuleSetError(path, `expected ${JSON.stringify(error.params.allowedValue)}, got ${got}`);
    case 'type':
      return new RuleSetError(path, `expected ${schema.expected ?? article(String(error.params.type))}, got ${got}`);
    case 'pattern':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
      return new RuleSetError(path, `expected ${schema.expected ?? String(error.message)}, got ${got}`);
    case 'minItems':
    case 'maxItems': {
      const limit = Number(error.params.limit);
      const count = Array.isArray(error.data) ? error.data.length : 0;
      return new RuleSetError(path, `expected ${error.keyword === 'minItems' ? 'at least' : 'at most'} ${limit} item${limit === 1 ? '' : 's'}, got ${count}`);
    }
    default:
      return new RuleSetError(path, `${error.message ?? 'invalid'}, got ${got}`);
  }
}

function article(type: string): string {
  if (type === 'object') return 'an object';
  if (type === 'array') return 'an array';
  if (type === 'integer') return 'a whole number';
  return `a ${type}`;
}

/** `/rules/2/when/all/0/op` → `rules[2].when.all[0].op`; the root is `$`. */
export function jsonPath(pointer: string): string {
  if (pointer === '') return '$';
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}
