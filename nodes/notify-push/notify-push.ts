import type { NodeAPI } from 'node-red';
import { checkAlertMessage } from '../../core/messages';
import { registerNode } from '../shared/node-kit';
import { NotifyPushController } from './controller';
import { notifyPushConfig } from './schema';

/** notify-push: sends each msg.alert as a Web Push notification to the browsers subscribed through the API. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, {
    config: notifyPushConfig,
    message: checkAlertMessage,
    credentials: { vapidPublicKey: { type: 'text' }, vapidPrivateKey: { type: 'password' } },
    create: (ctx) => new NotifyPushController(ctx),
  });
};
