import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release): hourly, in the machine's zone. */
export const JOB_V1 = { name: '', scheduleKind: 'cron', cron: '0 * * * *', timeZone: '', interval: 3600, catchUp: false, timeout: 300 };

/** Each step takes the settings of one version to the next; version 1 is still the current one. */
const JOB_MIGRATIONS: readonly Migration[] = [];

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const JOB_HISTORY: NodeHistory = { v1: JOB_V1, migrations: JOB_MIGRATIONS };
