import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const CAPTURE_V1 = { name: '', camera: '', mode: 'interval', fps: 1, interval: 5, timeout: 10, publish: true };

/** Each step takes the settings of one version to the next, so flows saved by older Glimpser releases keep loading. */
const CAPTURE_MIGRATIONS: readonly Migration[] = [
  // Only settings were added; the kit gives each missing one its current default (v1 never archived).
  { to: 2, change: 'adds the cron mode (cron, timeZone) and archive (off)', up: (config) => config },
];

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const CAPTURE_HISTORY: NodeHistory = { v1: CAPTURE_V1, migrations: CAPTURE_MIGRATIONS, added: { cron: '', timeZone: '', archive: false } };
