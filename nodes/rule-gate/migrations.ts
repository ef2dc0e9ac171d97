import type { Migration, NodeHistory } from '../shared/config';

/** The rule set a new gate starts with: no rules, everything passes. */
export const DEFAULT_RULES = '{\n  "version": 1,\n  "rules": [],\n  "default": "pass"\n}';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const RULE_GATE_V1 = { name: '', rules: DEFAULT_RULES };

/** Each step takes the settings of one version to the next; version 1 is still the current one. */
const RULE_GATE_MIGRATIONS: readonly Migration[] = [];

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const RULE_GATE_HISTORY: NodeHistory = { v1: RULE_GATE_V1, migrations: RULE_GATE_MIGRATIONS };
