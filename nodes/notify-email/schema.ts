import { Type, type Static } from '@sinclair/typebox';
import { EMAIL_PLACEHOLDERS, mailboxAddress, unknownPlaceholders } from '../../core/alerts/channels/email';
import { checkTimeZone } from '../../core/describe/prompt';
import { nodeConfig, readNodeConfig } from '../shared/config';
import { coerceNotifyEmailSetting, NOTIFY_EMAIL_HISTORY } from './migrations';

/** notify-email node configuration, version 1. The editor's validators mirror these limits. */
export const NotifyEmailConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    smtp: Type.String({ maxLength: 64 }),
    to: Type.Array(Type.String({ minLength: 3, maxLength: 320 }), { maxItems: 50 }),
    subject: Type.String({ minLength: 1, maxLength: 998 }),
    text: Type.String({ minLength: 1, maxLength: 100000 }),
    /** Empty: plain text only. */
    html: Type.String({ maxLength: 200000 }),
    snapshot: Type.Union([Type.Literal('attach'), Type.Literal('inline'), Type.Literal('none')]),
    attachCap: Type.Boolean(),
    timeZone: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);

export type NotifyEmailConfig = Static<typeof NotifyEmailConfigSchema>;

const PLACEHOLDERS = EMAIL_PLACEHOLDERS.map((name) => `{{${name}}}`).join(', ');

export const notifyEmailConfig = nodeConfig('notify-email', NotifyEmailConfigSchema, NOTIFY_EMAIL_HISTORY, {
  hints: {
    to: ' (expected email addresses such as ops@example.com or Ops <ops@example.com>, separated by commas, at most 50)',
    snapshot: ' (expected "attach", "inline" or "none")',
  },
  coerce: coerceNotifyEmailSetting,
  check: (config) => {
    for (const address of config.to) mailboxAddress(address, 'notify-email setting "to"');
    for (const setting of ['subject', 'text', 'html'] as const) {
      const [unknown] = unknownPlaceholders(config[setting]);
      if (unknown) throw new Error(`notify-email setting "${setting}" uses {{${unknown}}}: expected ${PLACEHOLDERS}`);
    }
    if (config.snapshot === 'inline' && !config.html.trim()) {
      throw new Error('notify-email setting "snapshot" is "inline" but "html" is empty: an inline picture needs an HTML body (or choose "attach")');
    }
    if (config.timeZone) {
      try {
        checkTimeZone(config.timeZone);
      } catch (err) {
        throw new Error(`notify-email setting "timeZone": ${(err as Error).message}`);
      }
    }
  },
});

/** Reads and validates a stored notify-email definition (missing settings get their defaults); errors name the setting. */
export function notifyEmailConfigFrom(def: Record<string, unknown>): NotifyEmailConfig {
  return readNodeConfig(notifyEmailConfig, def);
}
