import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const AI_V1 = {
  name: '',
  baseUrl: 'https://api.openai.com/v1',
  model: 'gpt-4o-mini',
  timeout: 30,
  maxConcurrent: 2,
  requestsPerHour: 0,
  requestsPerDay: 0,
  tokensPerHour: 0,
  tokensPerDay: 0,
  inputPrice: 0,
  outputPrice: 0,
};

/** Each step takes the settings of one version to the next, so flows saved by older releases keep loading. */
const AI_MIGRATIONS: readonly Migration[] = [];

/** A base URL is read without surrounding blanks or trailing slashes, so `…/v1/` and `…/v1` are one provider. */
export function coerceAiSetting(key: string, value: unknown): unknown {
  return key === 'baseUrl' && typeof value === 'string' ? value.trim().replace(/\/+$/, '') : value;
}

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const AI_HISTORY: NodeHistory = { v1: AI_V1, migrations: AI_MIGRATIONS };
