import type { NodeAPI } from 'node-red';
import { registerNode } from '../shared/node-kit';
import { AiController, type AiCredentials } from './controller';
import { aiConfig } from './schema';

/** glimpser-ai: a config node for one OpenAI-compatible vision model; ai-describe and ai-summary nodes share it. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, {
    config: aiConfig,
    label: 'AI provider',
    create: ({ config, node }) => new AiController(config, (node.credentials ?? {}) as AiCredentials),
    credentials: { apiKey: { type: 'password' } },
  });
};
