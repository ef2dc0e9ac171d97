import type { NodeAPI } from 'node-red';
import { registerNode } from '../shared/node-kit';
import { CaptureController } from './controller';
import { captureConfig } from './schema';

/** capture: frames from a glimpser-camera, continuously, on an interval, or when a message arrives. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, { config: captureConfig, create: (ctx) => new CaptureController(ctx) });
};
