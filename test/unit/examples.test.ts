import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TObject } from '@sinclair/typebox';
import { readNodeConfig, type NodeConfigSpec } from '../../nodes/shared/config';
import pkg from '../../package.json';

const ROOT = path.join(__dirname, '..', '..');
type FlowNode = Record<string, unknown> & { id: string; type: string };

const flows: Array<[string, FlowNode[]]> = [
  ['flows/default.json', JSON.parse(readFileSync(path.join(ROOT, 'flows', 'default.json'), 'utf8')) as FlowNode[]],
  ...readdirSync(path.join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .map((f): [string, FlowNode[]] => [`examples/${f}`, JSON.parse(readFileSync(path.join(ROOT, 'examples', f), 'utf8')) as FlowNode[]]),
];

const types = Object.keys(pkg['node-red'].nodes);
/** Each node type's config spec, found among its schema module's exports: the one list of node types drives it. */
const specs = new Map<string, NodeConfigSpec<TObject>>();

beforeAll(async () => {
  for (const type of types) {
    const module = (await import(`../../nodes/${type}/schema`)) as Record<string, unknown>;
    const spec = Object.values(module).find((value): value is NodeConfigSpec<TObject> => (value as NodeConfigSpec<TObject> | undefined)?.type === type);
    if (!spec) throw new Error(`nodes/${type}/schema.ts exports no config spec for ${type}`);
    specs.set(type, spec);
  }
});

describe.each(flows)('%s', (_file, nodes) => {
  it('has unique node ids and wires that point at nodes in the flow', () => {
    const ids = new Set(nodes.map((n) => n.id));
    expect(ids.size).toBe(nodes.length);
    for (const node of nodes) for (const port of (node.wires as string[][] | undefined) ?? []) for (const target of port) expect(ids.has(target)).toBe(true);
  });

  it('holds only valid Glimpser node configurations, with capture nodes pointing at a camera in the flow', () => {
    const cameras = new Set(nodes.filter((n) => n.type === 'glimpser-camera').map((n) => n.id));
    for (const node of nodes) {
      const spec = specs.get(node.type);
      if (spec) expect(() => readNodeConfig(spec, node)).not.toThrow();
      if (node.type === 'capture') expect(cameras.has(node.camera as string)).toBe(true);
    }
  });
});

it('every Glimpser node type has at least one example flow that uses it', () => {
  for (const type of types) {
    expect(flows.some(([file, nodes]) => file.startsWith(`examples/${type}/`) && nodes.some((n) => n.type === type))).toBe(true);
  }
});
