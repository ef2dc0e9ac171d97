import type { NodeAPI } from 'node-red';
import { checkSummaryInput } from '../../core/messages';
import { registerNode } from '../shared/node-kit';
import { AiSummaryController } from './controller';
import { aiSummaryConfig } from './schema';

/** ai-summary: collects captions and events over a window and asks a model for a short brief grouped by camera. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, { config: aiSummaryConfig, message: checkSummaryInput, create: (ctx) => new AiSummaryController(ctx) });
};
