/**
 * How large a rule set may be. Every message is judged against every condition of the gate's rules, so their
 * number bounds the work per message; nesting is bounded because the schema check and the evaluator walk
 * conditions recursively, and a rule set nested thousands deep would overflow the stack (a crash, not an error).
 */
export const RULE_SET_LIMITS = {
  /** Levels of objects and arrays, the root included: about 30 levels of all/any/none groups. */
  depth: 64,
  /** Conditions of all rules together, groups and leaves both counted. */
  conditions: 1000,
} as const;

interface Pending {
  value: unknown;
  depth: number;
  parent: Pending | null;
  key: string | number;
}

/**
 * The JSON path of an object or array nested deeper than the limit, or null when none is. Iterative, with an explicit
 * stack, so that it runs before anything recursive does and cannot overflow itself.
 */
export function tooDeep(input: unknown, limit: number = RULE_SET_LIMITS.depth): string | null {
  const stack: Pending[] = [{ value: input, depth: 1, parent: null, key: '' }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, depth } = item;
    if (value === null || typeof value !== 'object') continue;
    if (depth > limit) return pathOf(item);
    if (Array.isArray(value)) value.forEach((child: unknown, i) => stack.push({ value: child, depth: depth + 1, parent: item, key: i }));
    else for (const [key, child] of Object.entries(value)) stack.push({ value: child, depth: depth + 1, parent: item, key });
  }
  return null;
}

/** `rules[0].when.all[1]`, built only for the one path an error names; the root is `$`. */
function pathOf(item: Pending): string {
  const keys: (string | number)[] = [];
  for (let at: Pending | null = item; at?.parent; at = at.parent) keys.push(at.key);
  return keys.reverse().reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${key}` : key), '') || '$';
}
