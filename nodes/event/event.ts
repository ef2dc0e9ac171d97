import type { Node, NodeAPI, NodeDef } from 'node-red';
import { eventJson } from '../../core/store/event-json';
import { handlesFrom } from '../shared/handles';
import { handleInput, statusOf } from '../shared/node-kit';
import { EventController } from './controller';
import { eventNodeConfigFrom } from './schema';

/** event: writes msg.event into Glimpser's event journal (with msg.payload's JPEG as its snapshot). */
export = function register(RED: NodeAPI): void {
  function EventNode(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    let controller: EventController | null = null;
    try {
      const journal = handlesFrom(RED.settings).journal;
      if (!journal) throw new Error('no event journal: the event node needs the Glimpser runtime');
      controller = new EventController(eventNodeConfigFrom(def), journal);
      this.status(statusOf('idle', 'ready'));
    } catch (err) {
      this.error((err as Error).message);
      this.status(statusOf('error', (err as Error).message));
    }
    handleInput(this, async (msg, send) => {
      if (!controller) throw new Error('the event node is not configured; see the node status');
      try {
        const stored = await controller.write(msg as unknown as Record<string, unknown>);
        this.status(statusOf('online', `${controller.stored} stored · last ${stored.type} on ${stored.camera}`));
        send({ ...msg, event: eventJson(stored) });
      } catch (err) {
        this.status(statusOf('error', (err as Error).message));
        throw err;
      }
    });
  }
  RED.nodes.registerType('event', EventNode);
};
