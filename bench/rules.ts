/**
 * What running `matches` on RE2 (re2js, core/rules/pattern.ts) costs against JavaScript's own RegExp, the engine it
 * replaced, measured in the same run:
 *
 * - catastrophic backtracking: `^(a+)+$` on n × "a" followed by "!" (issue 12, finding 5). The JavaScript time doubles
 *   with each character, so n stays small enough for the baseline to finish; RE2 is also shown on 8192 characters,
 *   the most one condition tests;
 * - everyday patterns on a 200-character AI description, where RE2's per-call cost shows;
 * - the slowest rule set the limits allow: patterns of 500 compiled instructions (1000 per rule set) on 8192
 *   characters, the bound on the time one message can spend in `matches`. The first call on a pattern is the slow
 *   one (RE2's lazy DFA then builds its states; later calls reuse them), so that is the figure the bound uses.
 *
 *   npm run build && node dist/bench/rules.js [--rounds 3]
 *
 * Each figure is the best of `rounds` rounds, so other work on the machine only ever lowers a round.
 */
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { compilePattern, PATTERN_LIMITS } from '../core/rules/pattern';

type Test = (text: string) => boolean;

function parseRounds(argv: string[]): number {
  if (argv.length === 0) return 3;
  const rounds = Number(argv[1]);
  if (argv[0] !== '--rounds' || !Number.isInteger(rounds) || rounds < 1 || rounds > 10)
    throw new Error(`unknown argument ${argv.join(' ')}: expected --rounds N (1-10)`);
  return rounds;
}

/** Milliseconds per call: the best of `rounds` rounds of as many calls as fit in about 200 ms (at least one). */
function timePerCall(test: Test, text: string, rounds: number): number {
  let best = Infinity;
  for (let round = 0; round < rounds; round += 1) {
    let calls = 0;
    const start = performance.now();
    do {
      test(text);
      calls += 1;
    } while (performance.now() - start < 200);
    best = Math.min(best, (performance.now() - start) / calls);
  }
  return best;
}

const javascript = (pattern: string, flags = ''): Test => {
  const re = new RegExp(pattern, flags);
  return (text) => re.test(text);
};
const re2 = (written: string): Test => {
  const compiled = compilePattern(written);
  return (text) => compiled.test(text);
};
/** Milliseconds of the first call on a freshly compiled pattern, before RE2's lazy DFA has cached any state: best of `rounds`. */
function firstCall(written: string, text: string, rounds: number): number {
  let best = Infinity;
  for (let round = 0; round < rounds; round += 1) {
    const compiled = compilePattern(written);
    const start = performance.now();
    compiled.test(text);
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/** A pattern in a Markdown table cell. */
const cell = (pattern: string) => `\`${pattern.replaceAll('|', '\\|')}\``;
const ms = (value: number) => (value < 0.01 ? value.toFixed(5) : value < 1 ? value.toFixed(3) : value.toFixed(1));

function main(): void {
  const rounds = parseRounds(process.argv.slice(2));
  console.log(`# rules bench: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`);

  console.log('\n| ^(a+)+$ on | JavaScript ms | RE2 ms | JavaScript / RE2 |\n|---|---:|---:|---:|');
  for (const n of [16, 20, 22, 24]) {
    const text = `${'a'.repeat(n)}!`;
    const old = timePerCall(javascript('^(a+)+$'), text, rounds);
    const now = timePerCall(re2('^(a+)+$'), text, rounds);
    console.log(`| ${n} a + "!" | ${ms(old)} | ${ms(now)} | ${(old / now).toFixed(0)}x |`);
  }
  const long = `${'a'.repeat(PATTERN_LIMITS.text - 1)}!`;
  console.log(`| ${PATTERN_LIMITS.text - 1} a + "!" | (days) | ${ms(timePerCall(re2('^(a+)+$'), long, rounds))} | |`);

  const description = 'A person in a red coat walks up the driveway carrying a package and stops at the front door; a grey car is parked on the street.';
  const text = `${description} ${description}`.slice(0, 200);
  console.log('\n| everyday pattern, 200 characters | JavaScript ms | RE2 ms | RE2 / JavaScript |\n|---|---:|---:|---:|');
  for (const [written, source, flags] of [
    ['door|gate', 'door|gate', ''],
    ['/RED COAT/i', 'RED COAT', 'i'],
    ['\\b(person|car|truck|dog)\\b', '\\b(person|car|truck|dog)\\b', ''],
    ['^cameras/front-', '^cameras/front-', ''],
  ]) {
    const old = timePerCall(javascript(source, flags), text, rounds);
    const now = timePerCall(re2(written), text, rounds);
    console.log(`| ${cell(written)} | ${ms(old)} | ${ms(now)} | ${(now / old).toFixed(1)}x |`);
  }

  // Up to 500 instructions, no literal for RE2 to skip ahead on, and DFA states that multiply: the most work per character.
  const heavy = ['[ab]{0,160}[bc][ab]{160}[bc]', '(a|b|ab|ba){1,45}[ac]{45}x?$', '[ab]*a[ab]{200}', '(\\w|\\s){120}[^\\w\\s]{120}'];
  const subject = 'ab'.repeat(PATTERN_LIMITS.text / 2);
  console.log(`\n| slowest allowed pattern, ${PATTERN_LIMITS.text} characters | instructions | first call ms | later calls ms |\n|---|---:|---:|---:|`);
  let worst = 0;
  for (const written of heavy) {
    const { instructions } = compilePattern(written);
    const cold = firstCall(written, subject, rounds);
    worst = Math.max(worst, cold / instructions);
    console.log(`| ${cell(written)} | ${instructions} | ${ms(cold)} | ${ms(timePerCall(re2(written), subject, rounds))} |`);
  }
  console.log(
    `\nworst case per message (${PATTERN_LIMITS.totalInstructions} instructions in a rule set, ${PATTERN_LIMITS.text} characters each, first calls): about ${ms(worst * PATTERN_LIMITS.totalInstructions)} ms`,
  );
}

main();
