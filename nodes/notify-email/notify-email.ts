import type { NodeAPI } from 'node-red';
import { checkAlertMessage } from '../../core/messages';
import { registerNode } from '../shared/node-kit';
import { NotifyEmailController } from './controller';
import { notifyEmailConfig } from './schema';

/** notify-email: mails each alert (snapshot and CAP XML attachable) to every recipient, through the outbox. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, { config: notifyEmailConfig, message: checkAlertMessage, create: (ctx) => new NotifyEmailController(ctx) });
};
