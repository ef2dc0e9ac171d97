import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import { BrowserPoolLease } from '../../core/capture/browser-lease';
import { CameraRegistry } from '../../core/capture/registry';
import { silentLogger } from '../../core/log/logger';
import type { GlimpserHandles } from '../../nodes/shared/handles';
import { EmbeddedBroker } from '../../runtime/broker';
import { UserStore } from '../../runtime/stores/users';

helper.init(require.resolve('node-red'));

export { helper };

/** A real in-process aedes broker as the nodes' bus, plus the handles the runtime would lend them. */
export async function glimpserHandles(mediaDir?: string): Promise<{ handles: GlimpserHandles; broker: EmbeddedBroker }> {
  const users = new UserStore(mkdtempSync(path.join(tmpdir(), 'glimpser-nodes-')));
  await users.open();
  const broker = await EmbeddedBroker.create(users, silentLogger);
  return { broker, handles: { bus: broker, devices: broker.devices, cameras: new CameraRegistry(), browsers: new BrowserPoolLease(), ffmpegPath: 'ffmpeg', mediaDir, logger: silentLogger } };
}

export type FlowNode = Record<string, unknown> & { id: string; type: string };
