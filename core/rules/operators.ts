import type { TextPattern } from './pattern';
import type { Operator } from './rule-set';

/** AI severities in rank order: `severity gte "high"` matches high and critical. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

const rank = (value: unknown): number => (typeof value === 'string' ? (SEVERITIES as readonly string[]).indexOf(value) : -1);

/** Structural equality for JSON-like values: numbers, strings, booleans, null, arrays and plain objects. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => Object.hasOwn(b, key) && sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  );
}

/**
 * Orders two values: numbers numerically, severities by rank, other strings in code-point order (ISO times sort
 * correctly). Values of different kinds do not compare, and every ordering operator is then false.
 */
function order(a: unknown, b: unknown): number | null {
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) || Number.isNaN(b) ? null : a - b;
  if (rank(a) >= 0 && rank(b) >= 0) return rank(a) - rank(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

function compare(actual: unknown, expected: unknown, test: (difference: number) => boolean): boolean {
  const difference = order(actual, expected);
  return difference !== null && test(difference);
}

const within = (actual: unknown, list: unknown): boolean => Array.isArray(list) && list.some((item) => sameValue(item, actual));

/** In and nin on an array (the event's zones, its tags) ask whether any of its items is in the list. */
function isIn(actual: unknown, list: unknown): boolean {
  return Array.isArray(actual) ? actual.some((item) => within(item, list)) : within(actual, list);
}

/** An array contains an item (or every item of an array value); a string contains a substring. */
function contains(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(actual)) return Array.isArray(expected) ? expected.every((item) => within(item, actual)) : within(expected, actual);
  return typeof actual === 'string' && typeof expected === 'string' && actual.includes(expected);
}

/** Applies one operator; `pattern` is the compiled value of a `matches` condition. */
export function applyOperator(op: Operator, actual: unknown, expected: unknown, pattern?: TextPattern): boolean {
  switch (op) {
    case 'eq':
      return sameValue(actual, expected);
    case 'ne':
      return !sameValue(actual, expected);
    case 'gt':
      return compare(actual, expected, (d) => d > 0);
    case 'gte':
      return compare(actual, expected, (d) => d >= 0);
    case 'lt':
      return compare(actual, expected, (d) => d < 0);
    case 'lte':
      return compare(actual, expected, (d) => d <= 0);
    case 'in':
      return isIn(actual, expected);
    case 'nin':
      return !isIn(actual, expected);
    case 'contains':
      return contains(actual, expected);
    case 'matches':
      return pattern?.test(actual) ?? false;
    case 'exists':
      return (actual !== undefined && actual !== null) === (expected ?? true);
  }
}
