import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const EVENT_V1 = { name: '', eventType: 'motion', snapshot: true };

/** Each step takes the settings of one version to the next; version 1 is still the current one. */
const EVENT_MIGRATIONS: readonly Migration[] = [];

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const EVENT_HISTORY: NodeHistory = { v1: EVENT_V1, migrations: EVENT_MIGRATIONS };
