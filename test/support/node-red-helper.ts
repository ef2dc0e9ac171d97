import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import { BrowserPoolLease } from '../../core/capture/browser-lease';
import { CameraRegistry } from '../../core/capture/registry';
import { EventPublisher } from '../../core/store/event-publisher';
import { EventJournal } from '../../core/store/journal';
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
  return {
    broker,
    handles: {
      bus: broker,
      devices: broker.devices,
      cameras: new CameraRegistry(),
      browsers: new BrowserPoolLease(),
      ffmpegPath: 'ffmpeg',
      mediaDir,
      logger: silentLogger,
    },
  };
}

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export interface HandlesWithJournal {
  broker: EmbeddedBroker;
  handles: GlimpserHandles;
  journal: EventJournal;
  /** Publishes journal changes on glimpser/events, as the runtime does. */
  publisher: EventPublisher;
  close(): Promise<void>;
}

/** The handles of glimpserHandles plus a real event journal in a temp dir, publishing on the bus like the runtime. */
export async function glimpserHandlesWithJournal(): Promise<HandlesWithJournal> {
  const { broker, handles } = await glimpserHandles();
  const journal = new EventJournal({ dataDir: mkdtempSync(path.join(tmpdir(), 'glimpser-journal-')) });
  journal.open();
  handles.journal = journal;
  const publisher = new EventPublisher({ bus: broker, journal });
  return {
    broker,
    handles,
    journal,
    publisher,
    close: async () => {
      await publisher.close();
      await journal.close();
      await broker.close();
    },
  };
}
