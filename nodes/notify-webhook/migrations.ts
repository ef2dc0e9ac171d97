import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these: no URL (not configured), JSON, no inline snapshot, no extra headers. */
export const NOTIFY_WEBHOOK_V1 = { name: '', url: '', format: 'json', includeSnapshot: false, publicUrl: '', headers: '', allowHosts: '' };

/** Each step takes the settings of one version to the next, so flows saved by older Glimpser releases keep loading. */
const NOTIFY_WEBHOOK_MIGRATIONS: readonly Migration[] = [];

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const NOTIFY_WEBHOOK_HISTORY: NodeHistory = { v1: NOTIFY_WEBHOOK_V1, migrations: NOTIFY_WEBHOOK_MIGRATIONS };
