import { Type, type Static } from '@sinclair/typebox';
import { CapAlertSettingsSchema, checkCapAlertSettings } from '../../core/alerts/build-settings';
import { NodeConfigError, nodeConfig, readNodeConfig, Settings } from '../shared/config';
import { CAP_ALERT_HISTORY } from './migrations';

/**
 * cap-alert node configuration, version 2: the CAP settings of core/alerts/build-settings.ts, a name, and noise
 * control (core/alerts/cooldown.ts): seconds a new alert waits after the last one for its camera, and after the last
 * one its rule (msg.gate.rule) decided; 0 = off.
 */
export const CapAlertConfigSchema = Type.Object(
  {
    version: Type.Literal(2),
    name: Settings.name(),
    ...CapAlertSettingsSchema.properties,
    cooldownSeconds: Type.Number({ minimum: 0, maximum: 86400 }),
    ruleCooldownSeconds: Type.Number({ minimum: 0, maximum: 86400 }),
  },
  { additionalProperties: false },
);

export type CapAlertConfig = Static<typeof CapAlertConfigSchema>;

export const capAlertConfig = nodeConfig('cap-alert', CapAlertConfigSchema, CAP_ALERT_HISTORY, {
  // core words the rule ('setting "addresses": …'); the node names itself first, as ajv's errors do.
  check: (config) => {
    try {
      checkCapAlertSettings(config);
    } catch (error) {
      throw new NodeConfigError(`cap-alert ${(error as Error).message}`);
    }
  },
  hints: {
    sender: ' (no spaces, commas, "<" or "&": CAP 1.2 §3.2.1)',
    addresses: ' (space-separated recipients without commas, "<" or "&")',
    language: ' (an RFC 3066 language code such as en-US)',
  },
});

/** Reads, migrates and validates a stored cap-alert definition; the error names the setting. */
export function capAlertConfigFrom(def: Record<string, unknown>): CapAlertConfig {
  return readNodeConfig(capAlertConfig, def);
}
