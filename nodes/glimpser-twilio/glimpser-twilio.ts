import type { NodeAPI } from 'node-red';
import { registerNode } from '../shared/node-kit';
import { TwilioController, type TwilioCredentials } from './controller';
import { twilioConfig } from './schema';

/** glimpser-twilio: a config node for one Twilio account; notify-sms nodes share its SDK client. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, {
    config: twilioConfig,
    label: 'Twilio account',
    create: ({ config, node }) => new TwilioController(config, (node.credentials ?? {}) as TwilioCredentials),
    credentials: { accountSid: { type: 'text' }, authToken: { type: 'password' }, apiKeySid: { type: 'text' }, apiKeySecret: { type: 'password' } },
  });
};
