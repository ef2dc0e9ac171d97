import { Type, type Static } from '@sinclair/typebox';
import { checkApiBaseUrl } from '../../core/alerts/channels/sms';
import { nodeConfig, readNodeConfig } from '../shared/config';
import { coerceTwilioSetting, TWILIO_HISTORY } from './migrations';

/**
 * glimpser-twilio config node configuration, version 1. The account SID, auth token and API key are credentials,
 * never settings. `apiBaseUrl` is an advanced setting: Twilio's own API unless a stand-in on this machine is wanted.
 */
export const TwilioConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    apiBaseUrl: Type.String({ pattern: '^https?://[^\\s/]+(/\\S*)?$', maxLength: 2048 }),
    timeout: Type.Number({ minimum: 1, maximum: 120 }),
  },
  { additionalProperties: false },
);

export type TwilioConfig = Static<typeof TwilioConfigSchema>;

export const twilioConfig = nodeConfig('glimpser-twilio', TwilioConfigSchema, TWILIO_HISTORY, {
  hints: { apiBaseUrl: ' (expected an http(s) URL such as https://api.twilio.com)', timeout: ' (seconds)' },
  coerce: coerceTwilioSetting,
  check: (config) => {
    try {
      checkApiBaseUrl(config.apiBaseUrl);
    } catch (err) {
      throw new Error(`glimpser-twilio setting "apiBaseUrl": ${(err as Error).message}`);
    }
  },
});

/** Reads and validates a stored glimpser-twilio definition (missing settings get their defaults); errors name the setting. */
export function twilioConfigFrom(def: Record<string, unknown>): TwilioConfig {
  return readNodeConfig(twilioConfig, def);
}
