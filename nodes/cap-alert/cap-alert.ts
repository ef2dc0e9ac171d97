import type { NodeAPI } from 'node-red';
import { checkAlertInput } from '../../core/messages';
import { registerNode } from '../shared/node-kit';
import { CapAlertController } from './controller';
import { capAlertConfig } from './schema';

/** cap-alert: turns each phase of an event into one CAP 1.2 alert (Alert, Update, Cancel/all-clear), stored in the outbox. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, { config: capAlertConfig, message: checkAlertInput, create: (ctx) => new CapAlertController(ctx) });
};
