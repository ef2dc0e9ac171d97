import type { Migration } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const EVENT_V1 = { name: '', eventType: 'motion', snapshot: true };

/** Each step takes the settings of one version to the next; version 1 is still the current one. */
export const EVENT_MIGRATIONS: readonly Migration[] = [];
