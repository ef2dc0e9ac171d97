import type { NodeAPI } from 'node-red';
import { registerNode } from '../shared/node-kit';
import { JobController } from './controller';
import { jobConfig } from './schema';

/** job: a schedule the flow defines, run as a Glimpser job (listed, paused and run from the API) with its outcome recorded. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, { config: jobConfig, create: (ctx) => new JobController(ctx) });
};
