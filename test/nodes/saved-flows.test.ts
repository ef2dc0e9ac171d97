import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NodeMessage } from 'node-red';
import pkg from '../../package.json';
import { clipFile } from '../support/clips';
import { glimpserHandlesWithJournal, helper, type FlowNode, type HandlesWithJournal } from '../support/node-red-helper';

/**
 * Flows saved by the current release — the default flow and every example — import into the embedded Node-RED
 * (5.x) and start: every node is created, none reports an error, and the default flow's demo camera delivers frames.
 */
const ROOT = path.join(__dirname, '..', '..');
/** A flow file as the editor imports it: nodes exported without their tab (those with wires; config nodes have none) land on one. */
function readFlow(file: string): FlowNode[] {
  const flow = JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as FlowNode[];
  if (flow.some((node) => node.type === 'tab')) return flow;
  return [{ id: 'imported-tab', type: 'tab' }, ...flow.map((node) => ('wires' in node ? { ...node, z: 'imported-tab' } : node))];
}
const savedFlows = [
  'flows/default.json',
  ...readdirSync(path.join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => `examples/${file}`),
];

const CORE_NODES = ['common/20-inject', 'common/21-debug', 'common/90-comment', 'function/10-switch', 'function/15-change'];
let nodes: unknown[] = [];

/** Node-RED's log level for errors (RED.log.ERROR). */
const ERROR = 20;

function loggedErrors(): string[] {
  return helper
    .log()
    .args.map(([record]) => record as { level: number; msg: unknown; id?: string })
    .filter((record) => record.level <= ERROR)
    .map((record) => `${record.id ?? 'runtime'}: ${String(record.msg)}`);
}

describe('flows saved by this release, loaded into Node-RED', () => {
  let glimpser: HandlesWithJournal;

  beforeAll(async () => {
    const glimpserNodes = Object.keys(pkg['node-red'].nodes).map((type) => import(`../../nodes/${type}/${type}`));
    const coreNodes = CORE_NODES.map((file) => import(`@node-red/nodes/core/${file}.js`));
    const modules = (await Promise.all([...glimpserNodes, ...coreNodes])) as Array<{ default?: unknown }>;
    nodes = modules.map((module) => module.default ?? module);
    glimpser = await glimpserHandlesWithJournal();
    // The runtime always lends a media folder; the file-camera example plays a clip the user put there.
    glimpser.handles.mediaDir = mkdtempSync(path.join(tmpdir(), 'glimpser-media-'));
    copyFileSync(clipFile('object'), path.join(glimpser.handles.mediaDir, 'driveway.mp4'));
    helper.settings({ glimpser: glimpser.handles });
  });

  afterEach(async () => {
    await helper.unload();
  });

  afterAll(async () => {
    await glimpser.close();
  });

  it('runs on Node-RED 5', () => {
    expect((JSON.parse(readFileSync(require.resolve('node-red/package.json'), 'utf8')) as { version: string }).version).toMatch(/^5\./);
  });

  it.each(savedFlows)('%s: every node starts without an error', async (file) => {
    const flow = readFlow(file);
    // What a user types into the dialog after importing: an edge camera's device credentials.
    const credentials = Object.fromEntries(flow.filter((n) => n.source === 'edge').map((n) => [n.id, { username: 'device', password: 'device-password' }]));
    await helper.load(nodes, flow, credentials);
    // Node-RED leaves a disabled node (`d: true`, the default flow's notifiers until configured) unstarted.
    for (const node of flow.filter((n) => n.type !== 'tab')) expect([node.id, Boolean(helper.getNode(node.id))]).toEqual([node.id, node.d !== true]);
    expect(loggedErrors()).toEqual([]);
  });

  it('flows/default.json: the demo camera delivers frames to the capture node', async () => {
    const flow = readFlow('flows/default.json');
    const capture = flow.find((n) => n.type === 'capture')!;
    const debug = (capture.wires as string[][])[0][0];
    await helper.load(nodes, flow);
    const frame = await new Promise<NodeMessage & { frame?: { camera: string } }>((resolve) => helper.getNode(debug).once('input', resolve));
    expect(Buffer.isBuffer(frame.payload)).toBe(true);
    expect(frame.frame?.camera).toBe('demo');
  });
});
