import type { NodeAPI } from 'node-red';
import { checkAlertMessage } from '../../core/messages';
import { registerNode } from '../shared/node-kit';
import { NotifyWebhookController } from './controller';
import { notifyWebhookConfig } from './schema';

/** notify-webhook: POSTs each alert (JSON or CAP XML), signed per Standard Webhooks, through the alert outbox. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, {
    config: notifyWebhookConfig,
    message: checkAlertMessage,
    create: (ctx) => new NotifyWebhookController(ctx),
    credentials: { secret: { type: 'password' }, authorization: { type: 'password' } },
  });
};
