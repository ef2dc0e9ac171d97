import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { captureConfigFrom } from '../../nodes/capture/schema';
import { aiDescribeConfigFrom } from '../../nodes/ai-describe/schema';
import { aiSummaryConfigFrom } from '../../nodes/ai-summary/schema';
import { eventNodeConfigFrom } from '../../nodes/event/schema';
import { aiConfigFrom } from '../../nodes/glimpser-ai/schema';
import { ruleGateConfigFrom } from '../../nodes/rule-gate/schema';
import { motionConfigFrom } from '../../nodes/motion/schema';
import { cameraConfigFrom } from '../../nodes/glimpser-camera/schema';
import pkg from '../../package.json';

const ROOT = path.join(__dirname, '..', '..');
type FlowNode = Record<string, unknown> & { id: string; type: string };

const flows: Array<[string, FlowNode[]]> = [
  ['flows/default.json', JSON.parse(readFileSync(path.join(ROOT, 'flows', 'default.json'), 'utf8')) as FlowNode[]],
  ...readdirSync(path.join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .map((f): [string, FlowNode[]] => [`examples/${f}`, JSON.parse(readFileSync(path.join(ROOT, 'examples', f), 'utf8')) as FlowNode[]]),
];

describe.each(flows)('%s', (_file, nodes) => {
  it('has unique node ids and wires that point at nodes in the flow', () => {
    const ids = new Set(nodes.map((n) => n.id));
    expect(ids.size).toBe(nodes.length);
    for (const node of nodes) for (const port of (node.wires as string[][] | undefined) ?? []) for (const target of port) expect(ids.has(target)).toBe(true);
  });

  it('holds only valid Glimpser node configurations, with capture nodes pointing at a camera in the flow', () => {
    const cameras = new Set(nodes.filter((n) => n.type === 'glimpser-camera').map((n) => n.id));
    for (const node of nodes) {
      if (node.type === 'glimpser-camera') expect(() => cameraConfigFrom(node)).not.toThrow();
      if (node.type === 'motion') expect(() => motionConfigFrom(node)).not.toThrow();
      if (node.type === 'event') expect(() => eventNodeConfigFrom(node)).not.toThrow();
      if (node.type === 'rule-gate') expect(() => ruleGateConfigFrom(node)).not.toThrow();
      if (node.type === 'glimpser-ai') expect(() => aiConfigFrom(node)).not.toThrow();
      if (node.type === 'ai-describe') expect(() => aiDescribeConfigFrom(node)).not.toThrow();
      if (node.type === 'ai-summary') expect(() => aiSummaryConfigFrom(node)).not.toThrow();
      if (node.type === 'capture') {
        expect(() => captureConfigFrom(node)).not.toThrow();
        expect(cameras.has(node.camera as string)).toBe(true);
      }
    }
  });
});

it('every Glimpser node type has at least one example flow that uses it', () => {
  for (const type of Object.keys(pkg['node-red'].nodes)) {
    expect(flows.some(([file, nodes]) => file.startsWith(`examples/${type}/`) && nodes.some((n) => n.type === type))).toBe(true);
  }
});
