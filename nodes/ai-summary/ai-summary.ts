import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { AiConfigNode } from '../glimpser-ai/controller';
import { handlesFrom } from '../shared/handles';
import { handleClose, handleInput, statusOf } from '../shared/node-kit';
import { AiSummaryController } from './controller';
import { aiSummaryConfigFrom } from './schema';

/** ai-summary: collects captions and events over a window and asks a model for a short brief grouped by camera. */
export = function register(RED: NodeAPI): void {
  function AiSummaryNode(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    let controller: AiSummaryController | null = null;
    try {
      const config = aiSummaryConfigFrom(def);
      const ai = config.ai ? (RED.nodes.getNode(config.ai) as AiConfigNode | null) : null;
      controller = new AiSummaryController(this, config, ai, handlesFrom(RED.settings));
      controller.start();
    } catch (err) {
      this.error((err as Error).message);
      this.status(statusOf('error', (err as Error).message));
    }
    handleInput(this, async (msg, send) => {
      if (!controller) throw new Error('ai-summary is not configured; see the node status');
      const out = await controller.onMessage(msg as unknown as Record<string, unknown>);
      if (out) send(out as Parameters<typeof send>[0]);
    });
    handleClose(this, () => controller?.close());
  }
  RED.nodes.registerType('ai-summary', AiSummaryNode);
};
