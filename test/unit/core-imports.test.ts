import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * core/ is the part of Glimpser that knows nothing of Node-RED or the runtime, and whose packages can be read
 * bottom-up: an import cycle means two files, or two packages (core/capture and core/motion), can only be
 * understood and changed together. The graph is read from the source text, so the test needs no build and sees
 * type-only imports too.
 */
const ROOT = resolve(__dirname, '../..');
const CORE = join(ROOT, 'core');

// `import … from '…'`, `import type … from '…'`, `export … from '…'` (over several lines) and bare `import '…'`.
const STATIC_IMPORT = /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(STATIC_IMPORT)].map((match) => match[1] ?? match[2]);
}

/** The file a relative specifier names, as TypeScript resolves it (`./x` is `./x.ts` or `./x/index.ts`). */
function resolveRelative(from: string, specifier: string): string {
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''));
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile() === true) return candidate;
  }
  throw new Error(`${relative(ROOT, from)} imports "${specifier}", which names no file: expected a .ts file or a folder with index.ts`);
}

const name = (file: string): string => relative(ROOT, file).split(sep).join('/');

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(CORE)) {
    const targets = specifiers(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolveRelative(file, spec));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The package a file belongs to: its folder under core/ (core/motion), or the file itself at the top (core/ids). */
function packageOf(file: string): string {
  const [first, second] = name(file).split('/').slice(1);
  return second === undefined ? `core/${first.replace(/\.ts$/, '')}` : `core/${first}`;
}

function packageGraph(files: Map<string, string[]>): Map<string, string[]> {
  const graph = new Map<string, Set<string>>();
  for (const [file, targets] of files) {
    const from = packageOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    for (const target of targets) if (packageOf(target) !== from) edges.add(packageOf(target));
    graph.set(from, edges);
  }
  return new Map([...graph].map(([from, edges]) => [from, [...edges]]));
}

/** Every cycle found by a depth-first walk, each as the chain of files that closes on itself. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const done = new Set<string>();
  const onPath: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    const at = onPath.indexOf(file);
    if (at >= 0) {
      cycles.push([...onPath.slice(at), file]);
      return;
    }
    if (done.has(file)) return;
    onPath.push(file);
    for (const target of graph.get(file) ?? []) visit(target);
    onPath.pop();
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) visit(file);
  return cycles;
}

describe('core/ imports', () => {
  const graph = importGraph();

  it('reads the source of core/', () => {
    expect(graph.size).toBeGreaterThan(20);
  });

  it('form no cycle between files', () => {
    const cycles = findCycles(graph).map((cycle) => cycle.map(name).join(' -> '));
    expect(cycles).toEqual([]);
  });

  it('form no cycle between packages', () => {
    const packages = packageGraph(graph);
    const cycles = findCycles(packages).map((cycle) => {
      // Name the files behind each step, so a failure says which import to move.
      const steps = cycle.slice(1).map((to, i) => {
        const from = cycle[i];
        const files = [...graph]
          .filter(([file]) => packageOf(file) === from)
          .flatMap(([file, targets]) => (targets.some((t) => packageOf(t) === to) ? [name(file)] : []));
        return `${from} -> ${to} (${files.join(', ')})`;
      });
      return steps.join('; ');
    });
    expect(cycles).toEqual([]);
  });

  it('never reach Node-RED, nodes/ or runtime/', () => {
    const outside: string[] = [];
    for (const file of graph.keys()) {
      for (const spec of specifiers(file)) {
        const bare = !spec.startsWith('.');
        const target = bare ? spec : name(resolveRelative(file, spec));
        const nodeRed = bare && (spec === 'node-red' || spec.startsWith('node-red/') || spec.startsWith('@node-red/') || spec.startsWith('node-red-'));
        const app = !bare && (target.startsWith('nodes/') || target.startsWith('runtime/'));
        if (nodeRed || app) outside.push(`${name(file)} imports ${spec}`);
      }
    }
    expect(outside).toEqual([]);
  });
});
