import type { Migration, NodeHistory } from '../shared/config';

/** The settings of the first release: no subject (the node says "not configured"), a day's TTL, every browser. */
export const NOTIFY_PUSH_V1 = { name: '', subject: '', ttl: 86400, subscriptions: 'all', tag: '' };

/** No migrations yet: version 1 is the current one. */
const NOTIFY_PUSH_MIGRATIONS: readonly Migration[] = [];

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const NOTIFY_PUSH_HISTORY: NodeHistory = { v1: NOTIFY_PUSH_V1, migrations: NOTIFY_PUSH_MIGRATIONS };
