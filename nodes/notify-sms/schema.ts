import { Type, type Static } from '@sinclair/typebox';
import { SMS_MAX_LENGTH, TEMPLATE_FIELDS } from '../../core/alerts/channels/sms';
import { nodeConfig, readNodeConfig } from '../shared/config';
import { coerceNotifySmsSetting, NOTIFY_SMS_HISTORY } from './migrations';

const E164 = '^\\+[1-9]\\d{6,14}$';

/** notify-sms node configuration, version 1. The editor's validators mirror these limits. */
export const NotifySmsConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    twilio: Type.String({ maxLength: 64 }),
    to: Type.Array(Type.String({ pattern: E164 }), { maxItems: 50 }),
    from: Type.String({ pattern: `^(${E164.slice(1, -1)})?$` }),
    messagingServiceSid: Type.String({ pattern: '^(MG[0-9a-fA-F]{32})?$' }),
    template: Type.String({ minLength: 1, maxLength: SMS_MAX_LENGTH }),
    maxLength: Type.Integer({ minimum: 20, maximum: SMS_MAX_LENGTH }),
    includeMedia: Type.Boolean(),
    publicUrl: Type.String({ pattern: '^(https?://[^\\s/]+(/\\S*)?)?$', maxLength: 2048 }),
  },
  { additionalProperties: false },
);

export type NotifySmsConfig = Static<typeof NotifySmsConfigSchema>;

const PLACEHOLDERS = TEMPLATE_FIELDS.map((field) => `{{${field}}}`).join(', ');

export const notifySmsConfig = nodeConfig('notify-sms', NotifySmsConfigSchema, NOTIFY_SMS_HISTORY, {
  hints: {
    to: ' (expected phone numbers in E.164 form such as +14155550100, separated by commas)',
    from: ' (expected a Twilio number of the account in E.164 form such as +14155550100, or nothing with a messaging service)',
    messagingServiceSid: ' (expected MG followed by 32 hex digits)',
    maxLength: ` (characters, 20 to ${SMS_MAX_LENGTH})`,
    publicUrl: " (expected Glimpser's address as Twilio can reach it, such as https://glimpser.example.org)",
  },
  coerce: coerceNotifySmsSetting,
  check: (config) => {
    if (config.from && config.messagingServiceSid) {
      throw new Error('notify-sms settings "from" and "messagingServiceSid" are both set: give a from number or a messaging service, not both');
    }
    if (config.includeMedia && !config.publicUrl) {
      throw new Error(`notify-sms setting "publicUrl" is empty: "includeMedia" needs Glimpser's public address so Twilio can fetch the snapshot`);
    }
    for (const [, field] of config.template.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
      if (!(TEMPLATE_FIELDS as readonly string[]).includes(field)) {
        throw new Error(`notify-sms setting "template" uses {{${field}}}: expected ${PLACEHOLDERS}`);
      }
    }
  },
});

/** Reads and validates a stored notify-sms definition (missing settings get their defaults); errors name the setting. */
export function notifySmsConfigFrom(def: Record<string, unknown>): NotifySmsConfig {
  return readNodeConfig(notifySmsConfig, def);
}
