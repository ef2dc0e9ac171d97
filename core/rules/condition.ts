import { applyOperator } from './operators';
import { readPath } from './paths';
import { patternFor } from './pattern';
import type { Condition, LeafCondition } from './rule-set';

/** Whether a condition held, and in words why: `all of [event.type eq "motion" ✓, event.zones contains "door" ✗]`. */
export interface ConditionResult {
  matched: boolean;
  explanation: string;
}

export type CompiledCondition = (subject: unknown) => ConditionResult;

const mark = (ok: boolean) => (ok ? '✓' : '✗');

/**
 * Turns a validated condition into a function, reusing the regular expressions validation compiled. Every child of a group is
 * evaluated (they are cheap and pure) so the explanation shows each one's mark, not only the first decisive one.
 */
export function compileCondition(condition: Condition): CompiledCondition {
  if ('all' in condition) return group('all of', condition.all.map(compileCondition), (marks) => marks.every(Boolean));
  if ('any' in condition) return group('any of', condition.any.map(compileCondition), (marks) => marks.some(Boolean));
  if ('none' in condition) return group('none of', condition.none.map(compileCondition), (marks) => !marks.some(Boolean));
  return leaf(condition);
}

function group(label: string, children: CompiledCondition[], combine: (marks: boolean[]) => boolean): CompiledCondition {
  return (subject) => {
    const results = children.map((child) => child(subject));
    return { matched: combine(results.map((r) => r.matched)), explanation: `${label} [${results.map((r) => r.explanation).join(', ')}]` };
  };
}

function leaf(condition: LeafCondition): CompiledCondition {
  const { path, op, value } = condition;
  const pattern = op === 'matches' && typeof value === 'string' ? patternFor(condition) : undefined;
  const text = op === 'exists' ? (value === false ? `${path} exists false` : `${path} exists`) : `${path} ${op} ${JSON.stringify(value)}`;
  return (subject) => {
    const matched = applyOperator(op, readPath(subject, path), value, pattern);
    return { matched, explanation: `${text} ${mark(matched)}` };
  };
}
