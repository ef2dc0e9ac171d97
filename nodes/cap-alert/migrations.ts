import { CAP_ALERT_DEFAULTS } from '../../core/alerts/build-settings';
import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const CAP_ALERT_V1 = { name: '', ...CAP_ALERT_DEFAULTS };

/** Each step takes the settings of one version to the next, so flows saved by older Glimpser releases keep loading. */
const CAP_ALERT_MIGRATIONS: readonly Migration[] = [
  // Only settings were added; the kit gives each missing one its current default (off: v1 had no cooldown).
  { to: 2, change: 'adds a cooldown per camera (cooldownSeconds) and per rule (ruleCooldownSeconds), both off', up: (config) => config },
];

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const CAP_ALERT_HISTORY: NodeHistory = { v1: CAP_ALERT_V1, migrations: CAP_ALERT_MIGRATIONS, added: { cooldownSeconds: 0, ruleCooldownSeconds: 0 } };
