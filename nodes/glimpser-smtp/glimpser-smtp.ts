import type { NodeAPI } from 'node-red';
import { registerNode } from '../shared/node-kit';
import { SmtpController, type SmtpCredentials } from './controller';
import { smtpConfig } from './schema';

/** glimpser-smtp: a config node for one SMTP server; notify-email nodes share its transport. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, {
    config: smtpConfig,
    label: 'SMTP server',
    create: ({ config, node }) => new SmtpController(config, (node.credentials ?? {}) as SmtpCredentials),
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
