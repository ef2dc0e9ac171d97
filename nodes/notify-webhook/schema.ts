import { Type, type Static } from '@sinclair/typebox';
import { parseWebhookHeaders } from '../../core/alerts/channels/webhook';
import { nodeConfig, readNodeConfig, Settings } from '../shared/config';
import { NOTIFY_WEBHOOK_HISTORY } from './migrations';

/** notify-webhook node configuration, version 1. The signing secret and an Authorization value are credentials. */
export const NotifyWebhookConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Settings.name(),
    /** Empty: not configured yet. Checked against the URL policy by the node, which shows a refused one in its status. */
    url: Type.String({ maxLength: 2048 }),
    format: Type.Union([Type.Literal('json'), Type.Literal('cap')]),
    includeSnapshot: Type.Boolean(),
    publicUrl: Type.String({ pattern: '^(https?://[^\\s/]+(/\\S*)?)?$', maxLength: 2048 }),
    /** One `Name: value` a line. */
    headers: Type.String({ maxLength: 8192 }),
    /** Host names or IP literals, separated by commas or blanks. */
    allowHosts: Type.String({ maxLength: 2048 }),
  },
  { additionalProperties: false },
);

export type NotifyWebhookConfig = Static<typeof NotifyWebhookConfigSchema>;

export const notifyWebhookConfig = nodeConfig('notify-webhook', NotifyWebhookConfigSchema, NOTIFY_WEBHOOK_HISTORY, {
  hints: {
    format: ' (expected "json" or "cap")',
    publicUrl: " (expected Glimpser's address as receivers reach it, such as https://glimpser.example.org, or nothing)",
  },
  check: (config) => {
    parseWebhookHeaders(config.headers);
  },
});

/** Reads and validates a stored notify-webhook definition (missing settings get their defaults); errors name the setting. */
export function notifyWebhookConfigFrom(def: Record<string, unknown>): NotifyWebhookConfig {
  return readNodeConfig(notifyWebhookConfig, def);
}

/** The allow-list as the URL policy takes it. */
export function allowHostsOf(config: NotifyWebhookConfig): string[] {
  return config.allowHosts.split(/[\s,]+/).filter(Boolean);
}
