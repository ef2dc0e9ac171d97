import type { Static, TObject } from '@sinclair/typebox';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import type { MessageCheck } from '../../core/messages';
import { readNodeConfig, type NodeConfigSpec } from './config';
import { handlesFrom, type GlimpserHandles } from './handles';
import { translator, type Translate } from './i18n';
import { metrics } from '../../core/metrics';

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

/** The one way a Glimpser node sends: a message, or one entry per output (null for none). */
export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;

function statusOf(state: NodeState, text: string): NodeStatus {
  // The editor shows about 30 characters comfortably; longer error texts go to the debug sidebar via node.error.
  return { ...LOOK[state], text: text.length > 60 ? `${text.slice(0, 57)}…` : text };
}

/** A node's status line, written with keys of its locale (`<type>.status.<key>`), never English literals. */
export interface Status {
  show(state: NodeState, key: string, params?: Record<string, string | number>): void;
  /** A failure: the error's own message, which already names what is wrong. */
  failed(error: Error | string): void;
  clear(): void;
}

/** What the kit hands a node's `create`: its validated settings and everything it may use. */
export interface NodeContext<C> {
  RED: NodeAPI;
  node: Node;
  config: C;
  handles: GlimpserHandles;
  status: Status;
  /** Texts of the node's locale other than status lines (`<type>.<key>`). */
  text: Translate;
  /** The controller of a config node this node points at; throws naming the setting when it is missing or broken. */
  configNode<T>(id: string, type: string, setting: string): T;
  /** Sends outside an input handler (events from a camera, timers). */
  send: Send;
}

/** The behaviour a node's controller offers the kit; every part is optional. */
export interface NodeBehaviour<M = NodeMessageInFlow> {
  /** Handles one input message that passed the node's message check. */
  input?(msg: M, send: Send): Promise<void> | void;
  close?(removed: boolean): Promise<void> | void;
}

export interface NodeDefinition<S extends TObject, M, B extends NodeBehaviour<M>> {
  config: NodeConfigSpec<S>;
  /** Checks every incoming message and gives it its type; a wrong one fails with the field named. */
  message?: MessageCheck<M>;
  create(ctx: NodeContext<Static<S>>): B;
  /** Config nodes: how a wrong setting is introduced in the log, e.g. `camera "Porch": …`. */
  label?: string;
  credentials?: Record<string, { type: 'text' | 'password' }>;
}

/** What a config node (glimpser-camera, glimpser-ai) holds for the nodes that use it. */
export interface ConfigNodeHandle<B> {
  controller: B | null;
  configError: string | null;
}

/**
 * Registers a Glimpser node type: reads and migrates its settings, creates its controller, reports a wrong setting
 * on the node and in its status, checks each input message against the node's message schema, and turns any throw
 * into a failed status plus done(err) so Catch nodes see it. Close always calls done after the controller released
 * what it holds. Node entries only name their parts.
 */
export function registerNode<S extends TObject, M = NodeMessageInFlow, B extends NodeBehaviour<M> = NodeBehaviour<M>>(
  RED: NodeAPI,
  definition: NodeDefinition<S, M, B>,
): void {
  const { type } = definition.config;
  const translate = translator(RED, type);
  function GlimpserNode(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    setUp(this, def);
  }

  function setUp(node: Node, def: NodeDef & Record<string, unknown>): void {
    const handle = node as unknown as ConfigNodeHandle<B>;
    const status: Status = {
      show: (state, key, params) => node.status(statusOf(state, translate(`status.${key}`, params))),
      failed: (error) => node.status(statusOf('error', typeof error === 'string' ? error : error.message)),
      clear: () => node.status({}),
    };
    handle.controller = null;
    handle.configError = null;
    try {
      const config = readNodeConfig(definition.config, def);
      handle.controller = definition.create({
        RED,
        node,
        config,
        handles: handlesFrom(RED.settings),
        status,
        text: translate,
        configNode: (id, configType, setting) => configNodeController(RED, id, configType, setting),
        send: (msg) => node.send(msg as Parameters<Node['send']>[0]),
      });
    } catch (err) {
      handle.configError = (err as Error).message;
      node.error(definition.label ? `${definition.label} "${String(def.name || def.id)}": ${handle.configError}` : handle.configError);
      status.failed(handle.configError);
    }

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
      metrics.nodeMessagesTotal.inc({ type });
      Promise.resolve()
        .then(() => {
          const controller = handle.controller;
          if (!controller?.input) throw new Error(`${type} is not configured: ${handle.configError ?? 'see the node status'}`);
          const typed = definition.message ? definition.message(msg) : (msg as unknown as M);
          return controller.input(typed, send);
        })
        .then(
          () => done(),
          (err: unknown) => {
            const error = err instanceof Error ? err : new Error(String(err));
            metrics.nodeErrorsTotal.inc({ type });
            status.failed(error);
            done(error);
          },
        );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      Promise.resolve()
        .then(() => handle.controller?.close?.(removed))
        .catch((err: unknown) => node.error(`close failed: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => done());
    });
  }
  if (definition.credentials) RED.nodes.registerType(type, GlimpserNode, { credentials: definition.credentials });
  else RED.nodes.registerType(type, GlimpserNode);
}

/** The controller of the config node `id` of type `configType`, or an error naming the setting that points at it. */
function configNodeController<T>(RED: NodeAPI, id: string, configType: string, setting: string): T {
  if (!id) throw new Error(`no ${configType} selected: pick or add one in the node's "${setting}" setting`);
  const found = RED.nodes.getNode(id) as (Node & Partial<ConfigNodeHandle<T>> & { type?: string }) | null;
  if (!found || found.type !== configType) throw new Error(`"${setting}" points at ${configType} ${id}, which is not deployed`);
  if (!found.controller) throw new Error(`${setting}: ${found.configError ?? `${configType} ${id} is not configured`}`);
  return found.controller;
}
