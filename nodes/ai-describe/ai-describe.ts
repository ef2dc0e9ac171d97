import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { AiConfigNode } from '../glimpser-ai/controller';
import { handlesFrom } from '../shared/handles';
import { handleInput, statusOf } from '../shared/node-kit';
import { AiDescribeController } from './controller';
import { aiDescribeConfigFrom } from './schema';

/** ai-describe: asks a vision model what a frame shows, and puts the answer on msg.ai (and the journal event). */
export = function register(RED: NodeAPI): void {
  function AiDescribeNode(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    let controller: AiDescribeController | null = null;
    try {
      const config = aiDescribeConfigFrom(def);
      const ai = config.ai ? (RED.nodes.getNode(config.ai) as AiConfigNode | null) : null;
      controller = new AiDescribeController(this, config, ai, handlesFrom(RED.settings));
      controller.initialStatus();
    } catch (err) {
      this.error((err as Error).message);
      this.status(statusOf('error', (err as Error).message));
    }
    handleInput(this, async (msg, send) => {
      if (!controller) throw new Error('ai-describe is not configured; see the node status');
      send((await controller.onMessage(msg as unknown as Record<string, unknown>)) as Parameters<typeof send>[0]);
    });
  }
  RED.nodes.registerType('ai-describe', AiDescribeNode);
};
