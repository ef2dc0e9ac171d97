import type { NodeMessage, NodeStatus } from 'node-red';
import { helper } from './node-red-helper';

/**
 * What flow tests ask of nodes in a flow loaded with the test helper, written once (as aedes' test/helper.js):
 * messages a node receives, statuses it shows, and what it logged.
 */
export type Msg = NodeMessage & Record<string, unknown>;

/** Node-RED's log levels (RED.log.ERROR, WARN). */
export const LOG = { error: 20, warn: 30 } as const;

/** Every message node `id` receives from now on. */
export function collect(id: string): Msg[] {
  const seen: Msg[] = [];
  helper.getNode(id).on('input', (msg: Msg) => seen.push(msg));
  return seen;
}

/** The next message node `id` receives, or a failure naming the node after the timeout. */
export function nextMessage(id: string, timeoutMs = 15000): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message reached ${id} within ${timeoutMs} ms`)), timeoutMs);
    helper.getNode(id).once('input', (msg: Msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Every status node `id` has shown, construction included: the test helper spies on Node.prototype.status. */
export function statusesOf(id: string): NodeStatus[] {
  const node = helper.getNode(id);
  const spy = node.status as unknown as { getCalls(): Array<{ thisValue: unknown; args: NodeStatus[] }> };
  return spy
    .getCalls()
    .filter((call) => call.thisValue === node)
    .map((call) => call.args[0]);
}

/** Statuses node `id` shows from now on. */
export function recordStatuses(id: string): NodeStatus[] {
  const seen: NodeStatus[] = [];
  const node = helper.getNode(id);
  const original = node.status.bind(node);
  node.status = ((status: NodeStatus) => {
    seen.push(status);
    return original(status);
  }) as typeof node.status;
  return seen;
}

/** What node `id` (or every node, without an id) logged at a level, as text. */
export function logged(id: string | undefined, level: number = LOG.error): string[] {
  return helper
    .log()
    .args.map((args: unknown[]) => args[0] as { level: number; id?: string; msg: unknown })
    .filter((record) => record.level === level && (id === undefined || record.id === id))
    .map((record) => String(record.msg));
}

/** Errors node `id` logged (node.error, or done(err) of an input). */
export function loggedErrors(id?: string): string[] {
  return logged(id, LOG.error);
}
