import { Type, type Static } from '@sinclair/typebox';
import { isLoopbackHost, mailboxAddress } from '../../core/alerts/channels/email';
import { nodeConfig, readNodeConfig } from '../shared/config';
import { coerceSmtpSetting, SMTP_HISTORY } from './migrations';

/** glimpser-smtp config node configuration, version 1. The editor's validators mirror these limits. */
export const SmtpConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    /** Empty: not configured yet (notify-email nodes say so), not an error. */
    host: Type.String({ pattern: '^([A-Za-z0-9.-]+|\\[?[0-9A-Fa-f:.]+\\]?)?$', maxLength: 253 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    security: Type.Union([Type.Literal('tls'), Type.Literal('starttls'), Type.Literal('none')]),
    /** Mail without TLS to a host that is not loopback: only when the user says the network is trusted. */
    allowPlaintext: Type.Boolean(),
    rejectUnauthorized: Type.Boolean(),
    ca: Type.String({ maxLength: 65536 }),
    from: Type.String({ maxLength: 320 }),
    pool: Type.Boolean(),
    maxConnections: Type.Integer({ minimum: 1, maximum: 20 }),
    timeout: Type.Number({ minimum: 1, maximum: 300 }),
  },
  { additionalProperties: false },
);

export type SmtpConfig = Static<typeof SmtpConfigSchema>;

export const smtpConfig = nodeConfig('glimpser-smtp', SmtpConfigSchema, SMTP_HISTORY, {
  hints: {
    host: ' (expected a host name such as smtp.example.com, or an IP address)',
    security: ' (expected "tls", "starttls" or "none")',
    maxConnections: ' (connections, 1 to 20)',
    timeout: ' (seconds, 1 to 300)',
  },
  coerce: coerceSmtpSetting,
  check: (config) => {
    if (config.from) mailboxAddress(config.from, 'glimpser-smtp setting "from"');
    if (config.ca && !/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(config.ca)) {
      throw new Error('glimpser-smtp setting "ca" is not a PEM certificate (expected text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----)');
    }
    if (config.security === 'none' && config.host && !isLoopbackHost(config.host) && !config.allowPlaintext) {
      throw new Error(
        `glimpser-smtp setting "security" is "none" for ${config.host}: mail and password would cross the network unencrypted; ` +
          'use "starttls" or "tls", or turn on "allowPlaintext" for a trusted network',
      );
    }
  },
});

/** Reads and validates a stored glimpser-smtp definition (missing settings get their defaults); errors name the setting. */
export function smtpConfigFrom(def: Record<string, unknown>): SmtpConfig {
  return readNodeConfig(smtpConfig, def);
}
