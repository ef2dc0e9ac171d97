import { RE2JS } from 're2js';

/**
 * The regular expressions of `matches` conditions. They run on RE2 (the re2js port): its matching time grows
 * linearly with the text, so a pattern such as `^(a+)+$` cannot freeze the process the way it does on the
 * backtracking engine of JavaScript. Linear still scales with the compiled program, and a bounded repeat such as
 * `{1,999}` makes a program thousands of instructions long, so the program size and the text tested are bounded
 * too; together they cap the time one message can spend in `matches` (see docs/benchmarks.md, "Rules").
 */
export const PATTERN_LIMITS = {
  /** Characters in one pattern as written. */
  length: 1000,
  /** Compiled RE2 instructions in one pattern; `door|gate` is 11, `\b(person|car|truck)\b` 22. */
  instructions: 500,
  /** Compiled RE2 instructions of all `matches` conditions of a rule set together. */
  totalInstructions: 1000,
  /**
   * Characters one condition tests, all items of an array together. A longer text does not match; descriptions,
   * labels and topics are far shorter.
   */
  text: 8192,
} as const;

/** A pattern that could not be compiled or is not allowed; the message says which and what is expected. */
export class PatternError extends Error {}

/** A compiled `matches` pattern. */
export interface TextPattern {
  readonly instructions: number;
  /** Whether the pattern matches somewhere in the text, or in any item of an array of texts. */
  test(value: unknown): boolean;
}

/** The JavaScript flags as RE2 options; g, d and u change nothing for a yes/no search, and y anchors at the start. */
const FLAG_BITS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL, g: 0, d: 0, u: 0, y: 0 };

/** "door" or "/door|gate/i": the slash form carries flags. */
export function compilePattern(written: string): TextPattern {
  if (written.length > PATTERN_LIMITS.length) throw new PatternError(`a pattern of ${written.length} characters; expected at most ${PATTERN_LIMITS.length}`);
  const slashed = /^\/(.*)\/([dgimsuy]*)$/s.exec(written);
  const source = slashed ? slashed[1] : written;
  const flags = slashed ? slashed[2] : '';
  // JavaScript's own parser only checks the syntax here (nothing is matched with it), so a typo gets the message
  // people know from JavaScript; what RE2 then refuses is a feature, not a typo.
  try {
    new RegExp(source, flags);
  } catch (err) {
    throw new PatternError(`not a valid regular expression (${(err as Error).message})`);
  }
  const bits = [...flags].reduce((all, flag) => all | FLAG_BITS[flag], 0);
  const unsupported = unsupportedSyntax(source);
  if (unsupported)
    throw new PatternError(`${unsupported} is not supported: patterns run on RE2, which matches in linear time and has no backreferences or lookaround`);
  let compiled: RE2JS;
  try {
    const translated = RE2JS.translateRegExp(source);
    // A sticky search tested from position 0 matches only at the start of the text (\A, whatever m says).
    compiled = RE2JS.compile(flags.includes('y') ? `\\A(?:${translated})` : translated, bits);
  } catch (err) {
    throw new PatternError(`not supported by RE2 (${(err as Error).message})`);
  }
  const instructions = Number(compiled.re2().numberOfInstructions());
  if (instructions > PATTERN_LIMITS.instructions)
    throw new PatternError(
      `compiles to ${instructions} instructions; expected at most ${PATTERN_LIMITS.instructions} (large {n,m} repeats cost the most: use + or * where the count does not matter)`,
    );
  return { instructions, test: (value) => testBounded(compiled, value) };
}

/**
 * Tests texts until the character budget of one condition is spent. A text past the budget is not tested and so
 * does not match: testing only its start would let `$` match where the text does not end.
 */
function testBounded(pattern: RE2JS, value: unknown): boolean {
  let budget: number = PATTERN_LIMITS.text;
  for (const item of Array.isArray(value) ? value : [value]) {
    if (typeof item !== 'string') continue;
    if (item.length > budget) return false;
    budget -= item.length;
    if (pattern.test(item)) return true;
  }
  return false;
}

/**
 * Finds what JavaScript accepts but RE2 cannot run: backreferences (`\1`, `\k<name>`) and lookaround
 * (`(?=`, `(?!`, `(?<=`, `(?<!`). re2js's translation would otherwise turn `\k<name>` into the literal `k<name>`.
 */
function unsupportedSyntax(source: string): string | null {
  let inClass = false;
  for (let i = 0; i < source.length; i += 1) {
    const ch = source[i];
    if (ch === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && /[1-9]/.test(next)) return `the backreference \\${next}`;
      if (!inClass && next === 'k' && source[i + 2] === '<') return 'the named backreference \\k<…>';
      i += 1;
    } else if (inClass) {
      if (ch === ']') inClass = false;
    } else if (ch === '[') {
      inClass = true;
    } else if (ch === '(' && source[i + 1] === '?') {
      const look = /^\(\?(=|!|<=|<!)/.exec(source.slice(i, i + 4));
      if (look) return `the lookaround (?${look[1]}…)`;
    }
  }
  return null;
}

const compiledFor = new WeakMap<object, TextPattern>();

/**
 * The compiled pattern of a `matches` condition, compiled when the rule set is validated and reused by the gate
 * that runs it (validation returns the same objects it was given).
 */
export function patternFor(condition: { value?: unknown }): TextPattern {
  const known = compiledFor.get(condition);
  if (known) return known;
  if (typeof condition.value !== 'string') throw new PatternError(`expected a regular expression as a string`);
  const compiled = compilePattern(condition.value);
  compiledFor.set(condition, compiled);
  return compiled;
}
