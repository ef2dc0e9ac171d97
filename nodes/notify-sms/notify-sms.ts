import type { NodeAPI } from 'node-red';
import { checkAlertMessage } from '../../core/messages';
import { registerNode } from '../shared/node-kit';
import { NotifySmsController } from './controller';
import { notifySmsConfig } from './schema';

/** notify-sms: sends each alert as an SMS (or MMS with the snapshot) to every configured number, through the outbox. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, { config: notifySmsConfig, message: checkAlertMessage, create: (ctx) => new NotifySmsController(ctx) });
};
