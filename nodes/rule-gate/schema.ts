import { Type, type Static } from '@sinclair/typebox';
import { parseRuleSet, type RuleSet } from '../../core/rules';
import { nodeConfig, readNodeConfig, Settings } from '../shared/config';
import { DEFAULT_RULES, RULE_GATE_HISTORY } from './migrations';

export { DEFAULT_RULES } from './migrations';

/** rule-gate node configuration, version 1. The rules are JSON text so the editor keeps exactly what was typed. */
export const RuleGateConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Settings.name(),
    rules: Type.String({ maxLength: 262_144 }),
  },
  { additionalProperties: false },
);

export type RuleGateConfig = Static<typeof RuleGateConfigSchema>;

export interface RuleGateSettings extends RuleGateConfig {
  ruleSet: RuleSet;
}

// Node-RED also stores `outputs` on this node (the editor may change the output count); the kit leaves it out.
// The rule set is checked with the settings, so a flow with a wrong one is refused wherever settings are read.
export const ruleGateConfig = nodeConfig('rule-gate', RuleGateConfigSchema, RULE_GATE_HISTORY, { check: (config) => void ruleSetOf(config) });

/**
 * The rule set the settings hold, an empty text being the default one. A wrong rule set is reported by its JSON
 * path inside the rules (`rules[0].when.op: unknown operator "approx"; …`), since that is what the user must fix.
 */
export function ruleSetOf(config: RuleGateConfig): RuleSet {
  return parseRuleSet(config.rules.trim() === '' ? DEFAULT_RULES : config.rules);
}

/** Reads, migrates and validates a stored rule-gate definition, rule set included. */
export function ruleGateConfigFrom(def: Record<string, unknown>): RuleGateSettings {
  const config = readNodeConfig(ruleGateConfig, def);
  return { ...config, ruleSet: ruleSetOf(config) };
}
