import type { NodeAPI } from 'node-red';
import { checkEventMessage } from '../../core/messages';
import { registerNode } from '../shared/node-kit';
import { EventController } from './controller';
import { eventConfig } from './schema';

/** event: writes msg.event into Glimpser's event journal (with msg.payload's JPEG as its snapshot). */
export = function register(RED: NodeAPI): void {
  registerNode(RED, { config: eventConfig, message: checkEventMessage, create: (ctx) => new EventController(ctx) });
};
