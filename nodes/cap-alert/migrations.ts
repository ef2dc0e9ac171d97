import { CAP_ALERT_DEFAULTS } from '../../core/alerts/build-settings';
import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const CAP_ALERT_V1 = { name: '', ...CAP_ALERT_DEFAULTS };

/** Each step takes the settings of one version to the next; version 1 is still the current one. */
const CAP_ALERT_MIGRATIONS: readonly Migration[] = [];

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const CAP_ALERT_HISTORY: NodeHistory = { v1: CAP_ALERT_V1, migrations: CAP_ALERT_MIGRATIONS };
