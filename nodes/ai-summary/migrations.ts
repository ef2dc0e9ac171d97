import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const AI_SUMMARY_V1 = {
  name: '',
  ai: '',
  schedule: '0 * * * *',
  timeZone: '',
  source: 'glimpser',
  maxItems: 200,
  previous: 3,
  fromJournal: true,
  notes: '',
};

/** Each step takes the settings of one version to the next, so flows saved by older releases keep loading. */
const AI_SUMMARY_MIGRATIONS: readonly Migration[] = [];

/** A schedule is read without surrounding blanks, so " " means "only on msg.topic summarize", as empty does. */
export function coerceAiSummarySetting(key: string, value: unknown): unknown {
  return key === 'schedule' && typeof value === 'string' ? value.trim() : value;
}

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const AI_SUMMARY_HISTORY: NodeHistory = { v1: AI_SUMMARY_V1, migrations: AI_SUMMARY_MIGRATIONS };
