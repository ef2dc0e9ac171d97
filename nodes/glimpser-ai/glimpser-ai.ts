import type { NodeAPI } from 'node-red';
import { registerNode } from '../shared/node-kit';
import { AiController, type AiCredentials } from './controller';
import { aiConfig } from './schema';

/** glimpser-ai: a config node for one OpenAI-compatible vision model; ai-describe and ai-summary nodes share it. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, {
    config: aiConfig,
    label: 'AI provider',
    create: ({ config, node, handles }) => {
      const controller = new AiController(config, (node.credentials ?? {}) as AiCredentials);
      // The API's POST /api/ai/analyze asks the same provider, within the same limits and budget.
      const unregister = handles.ai?.register({ id: node.id, name: config.name || config.model, service: controller });
      if (unregister) controller.onClose(unregister);
      return controller;
    },
    credentials: { apiKey: { type: 'password' } },
  });
};
