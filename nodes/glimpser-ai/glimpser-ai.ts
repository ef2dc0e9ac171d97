import type { Node, NodeAPI, NodeDef } from 'node-red';
import { handleClose } from '../shared/node-kit';
import { AiController, type AiConfigNode, type AiCredentials } from './controller';

/** glimpser-ai: a config node for one OpenAI-compatible vision model; ai-describe nodes share it. */
export = function register(RED: NodeAPI): void {
  function GlimpserAiNode(this: Node<AiCredentials>, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this as AiConfigNode;
    node.controller = new AiController(def, this.credentials ?? {});
    if (node.controller.configError) this.error(`AI provider "${def.name || def.id}": ${node.controller.configError}`);
    handleClose(this, () => node.controller.close());
  }
  RED.nodes.registerType<Node<AiCredentials>, NodeDef & Record<string, unknown>, object, AiCredentials>('glimpser-ai', GlimpserAiNode, {
    credentials: { apiKey: { type: 'password' } },
  });
};
