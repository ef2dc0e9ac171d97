import { Type, type Static } from '@sinclair/typebox';
import { nodeConfig, readNodeConfig, Settings } from '../shared/config';
import { NOTIFY_PUSH_HISTORY } from './migrations';

/** notify-push node configuration, version 1. */
export const NotifyPushConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Settings.name(),
    /**
     * The VAPID contact (RFC 8292 §2.1). Checked when the node starts, not here: a wrong one is a status and
     * dead-lettered deliveries naming it, so a flow with a half-filled notifier still deploys.
     */
    subject: Type.String({ maxLength: 512 }),
    /** Seconds a push service keeps the message for a browser that is offline (RFC 8030 §5.2). */
    ttl: Type.Integer({ minimum: 0, maximum: 2419200 }),
    subscriptions: Type.Union([Type.Literal('all'), Type.Literal('tag')]),
    tag: Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_.-]*$' }),
  },
  { additionalProperties: false },
);

export type NotifyPushConfig = Static<typeof NotifyPushConfigSchema>;

export const notifyPushConfig = nodeConfig('notify-push', NotifyPushConfigSchema, NOTIFY_PUSH_HISTORY, {
  hints: { ttl: ' (seconds, 0 to 2419200 = 4 weeks)', tag: ' (letters, digits, "_", "." and "-")' },
  check: (config) => {
    if (config.subscriptions === 'tag' && !config.tag) throw new Error('notify-push setting "tag" is empty: name the tag, or send to all subscriptions');
  },
});

/** Migrates a stored notify-push definition to the current version and validates it; the error names the setting. */
export function notifyPushConfigFrom(def: Record<string, unknown>): NotifyPushConfig {
  return readNodeConfig(notifyPushConfig, def);
}
