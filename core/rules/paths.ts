/** One step of a message path: a key, or an index into an array. */
export type PathStep = string | number;

const STEP = /([A-Za-z_$][\w$-]*)|\[(\d+)\]/gy;
const cache = new Map<string, PathStep[]>();
const MAX_CACHED = 1000;

/** `event.data.ai.tags[0]` → ['event', 'data', 'ai', 'tags', 0]. Throws on anything else. */
export function parsePath(path: string): PathStep[] {
  const cached = cache.get(path);
  if (cached) return cached;
  const steps: PathStep[] = [];
  STEP.lastIndex = 0;
  let at = 0;
  while (at < path.length) {
    if (steps.length > 0 && path[at] === '.') at += 1;
    STEP.lastIndex = at;
    const match = STEP.exec(path);
    if (!match) throw new Error(`message path ${JSON.stringify(path)}: unexpected ${JSON.stringify(path[at])} at character ${at + 1}`);
    steps.push(match[1] !== undefined ? match[1] : Number(match[2]));
    at = STEP.lastIndex;
  }
  if (steps.length === 0) throw new Error('message path is empty');
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(path, steps);
  return steps;
}

/** Reads a path from a message; only own properties, so `constructor` or `__proto__` never reach the prototype. */
export function readPath(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const step of parsePath(path)) {
    if (value === null || typeof value !== 'object') return undefined;
    if (typeof step === 'number') {
      if (!Array.isArray(value)) return undefined;
      value = value[step];
    } else {
      if (!Object.hasOwn(value, step)) return undefined;
      value = (value as Record<string, unknown>)[step];
    }
  }
  return value;
}
