import { DEFAULT_PROMPT } from '../../core/describe/prompt';
import type { Migration, NodeHistory } from '../shared/config';

/**
 * What a version 1 flow left out gets these (the settings of the first release). An empty or missing prompt has
 * always meant "the default prompt", whatever it is at the time, so the baseline names it rather than a copy.
 */
export const AI_DESCRIBE_V1 = { name: '', ai: '', prompt: DEFAULT_PROMPT, notes: '', timeZone: '', maxSide: 768, maxKB: 1024 };

/** Each step takes the settings of one version to the next, so flows saved by older releases keep loading. */
const AI_DESCRIBE_MIGRATIONS: readonly Migration[] = [];

/** The editor stores an empty prompt for the default one. */
export function coerceAiDescribeSetting(key: string, value: unknown): unknown {
  return key === 'prompt' && value === '' ? DEFAULT_PROMPT : value;
}

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const AI_DESCRIBE_HISTORY: NodeHistory = { v1: AI_DESCRIBE_V1, migrations: AI_DESCRIBE_MIGRATIONS };
