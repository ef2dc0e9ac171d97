import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';
import { parseRuleSet, type RuleSet } from '../../core/rules';

/** rule-gate node configuration, version 1. The rules are JSON text so the editor keeps exactly what was typed. */
export const RuleGateConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    rules: Type.String({ maxLength: 262_144 }),
  },
  { additionalProperties: false },
);

export type RuleGateConfig = Static<typeof RuleGateConfigSchema>;

export interface RuleGateSettings extends RuleGateConfig {
  ruleSet: RuleSet;
}

export const DEFAULT_RULES = '{\n  "version": 1,\n  "rules": [],\n  "default": "pass"\n}';
const DEFAULTS: RuleGateConfig = { version: 1, name: '', rules: DEFAULT_RULES };
// Node-RED adds `outputs` to the definition of a node whose outputs the editor may change; this node has two.
const NODE_RED_KEYS = new Set(['id', 'type', 'z', 'g', 'x', 'y', 'wires', 'info', '_users', 'outputs']);
const check = new Ajv({ strict: false }).compile<RuleGateConfig>(RuleGateConfigSchema);

/**
 * Reads and validates a stored rule-gate definition. A wrong rule set is reported by its JSON path inside the
 * rules (`rules[0].when.op: unknown operator "approx"; …`) since that is what the user must find and fix.
 */
export function ruleGateConfigFrom(def: Record<string, unknown>): RuleGateSettings {
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const [key, value] of Object.entries(def)) if (!NODE_RED_KEYS.has(key) && value !== undefined) out[key] = key === 'version' ? Number(value) : value;
  if (!check(out)) {
    const error = check.errors?.[0];
    const field = error?.instancePath.replace(/^\//, '') || String(error?.params.additionalProperty ?? 'config');
    throw new Error(`rule-gate setting "${field}" ${error?.message ?? 'is invalid'}`);
  }
  return { ...out, ruleSet: parseRuleSet(out.rules.trim() === '' ? DEFAULT_RULES : out.rules) };
}
