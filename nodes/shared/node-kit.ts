import type { Node, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';

/** The states a user must see on a Glimpser node, with one look each across every node type. */
export type NodeState = 'connecting' | 'online' | 'offline' | 'error' | 'skipped' | 'stopped' | 'idle';

const LOOK: Record<NodeState, Pick<NodeStatus, 'fill' | 'shape'>> = {
  connecting: { fill: 'yellow', shape: 'ring' },
  online: { fill: 'green', shape: 'dot' },
  offline: { fill: 'red', shape: 'ring' },
  error: { fill: 'red', shape: 'dot' },
  skipped: { fill: 'grey', shape: 'ring' },
  stopped: { fill: 'grey', shape: 'dot' },
  idle: { fill: 'blue', shape: 'ring' },
};

export function statusOf(state: NodeState, text: string): NodeStatus {
  // The editor shows about 30 characters comfortably; longer error texts go to the debug sidebar via node.error.
  return { ...LOOK[state], text: text.length > 60 ? `${text.slice(0, 57)}…` : text };
}

type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;

/**
 * Registers an input handler that calls done() exactly once, or done(err) so Catch nodes see the error: node
 * authors write the behaviour, never the try/catch/done plumbing.
 */
export function handleInput(node: Node, handler: (msg: NodeMessageInFlow, send: Send) => Promise<void> | void): void {
  node.on('input', (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
    Promise.resolve()
      .then(() => handler(msg, send))
      .then(() => done(), (err: unknown) => done(err instanceof Error ? err : new Error(String(err))));
  });
}

/** Registers a close handler that always calls done, after the cleanup has released its processes and timers. */
export function handleClose(node: Node, cleanup: (removed: boolean) => Promise<void> | void): void {
  node.on('close', (removed: boolean, done: () => void) => {
    Promise.resolve()
      .then(() => cleanup(removed))
      .catch((err: unknown) => node.error(`close failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => done());
  });
}
