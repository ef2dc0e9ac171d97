import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import type { Express, RequestHandler } from 'express';
import RED from 'node-red';
import type { Logger } from '../core/log/logger';
import type { FlowsApi } from './api/sources';
import { PACKAGE_ROOT } from '../settings';

type NodeRed = typeof RED;

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Deploys flows/default.json on the very first start only. The marker file outlives the flows file, so a user who
 * deletes every flow is not handed the defaults again.
 */
export async function seedDefaultFlows(userDir: string, dataDir: string, log: Logger): Promise<boolean> {
  const flowFile = path.join(userDir, 'flows.json');
  const marker = path.join(dataDir, '.default-flows-seeded');
  if ((await exists(flowFile)) || (await exists(marker))) return false;
  await mkdir(userDir, { recursive: true, mode: 0o700 });
  const defaults = path.join(PACKAGE_ROOT, 'flows', 'default.json');
  const flows = await readFile(defaults, 'utf8');
  JSON.parse(flows);
  // Written, not copied: copyFile gives the copy the package file's mode (0644) whatever the umask says.
  await writeFile(flowFile, flows, { mode: 0o600 });
  await writeFile(marker, `${new Date().toISOString()}\n`, { mode: 0o600 });
  log.info({ flowFile }, 'default flows deployed (first start)');
  return true;
}

/** The embedded Node-RED: one per process (Node-RED's runtime is a module singleton). */
export class EmbeddedNodeRed {
  private red: NodeRed | null = null;
  private started = false;
  /** The editors' open websockets (`/editor/comms`), which Node-RED authenticates once, when they open. */
  private readonly editorSockets = new Set<Duplex>();

  async start(server: Server, app: Express, settings: Record<string, unknown>, guard: RequestHandler): Promise<void> {
    const red = RED;
    server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
      if (!(request.url ?? '').startsWith('/editor/comms')) return;
      this.editorSockets.add(socket);
      socket.once('close', () => this.editorSockets.delete(socket));
    });
    red.init(server, settings as unknown as Parameters<NodeRed['init']>[1]);
    app.use('/editor', red.httpAdmin);
    app.use('/hooks', guard, red.httpNode);
    this.red = red;
    // RED.start() resolves before the flows run; readiness waits for the flows:started event as well.
    const flowsStarted = new Promise<void>((resolve) => red.events.once('flows:started', () => resolve()));
    await red.start();
    await flowsStarted;
    this.started = true;
  }

  get running(): boolean {
    return this.started;
  }

  /** Node-RED's runtime flows API (add, list and remove tabs in-process, as the editor's admin API does); null until started. */
  get flows(): FlowsApi | null {
    return this.started && this.red ? (this.red.runtime.flows as unknown as FlowsApi) : null;
  }

  /**
   * Closes every editor's websocket: Node-RED checks its token only when it opens, so after a sign-out or a password
   * or role change an open editor would go on receiving debug messages and node status. Each editor reconnects by
   * itself and signs in again with its token, which a revoked one no longer does. Returns how many were closed.
   */
  closeEditorConnections(): number {
    const count = this.editorSockets.size;
    for (const socket of this.editorSockets) socket.destroy();
    this.editorSockets.clear();
    return count;
  }

  /** Stops every flow (each node's close handler runs) and the editor. */
  async stop(): Promise<void> {
    if (!this.red) return;
    this.started = false;
    await this.red.stop();
    this.red = null;
  }
}
