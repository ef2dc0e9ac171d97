import type { NodeAPI } from 'node-red';
import { checkDescribeInput } from '../../core/messages';
import { registerNode } from '../shared/node-kit';
import { AiDescribeController } from './controller';
import { aiDescribeConfig } from './schema';

/** ai-describe: asks a vision model what a frame shows, and puts the answer on msg.ai (and the journal event). */
export = function register(RED: NodeAPI): void {
  registerNode(RED, { config: aiDescribeConfig, message: checkDescribeInput, create: (ctx) => new AiDescribeController(ctx) });
};
