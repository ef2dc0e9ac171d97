/** Rules that decide which events become alerts: the rule set schema, its validator and the gate that applies it. */
export { RuleGate, type Decision, type RuleGateOptions } from './gate';
export { InMemoryRuleMemory, type RuleMemory } from './memory';
export { EMPTY_RULE_SET, OPERATORS, RuleSetSchema, type Condition, type Operator, type Rule, type RuleSet, type TimeWindow } from './rule-set';
export { parseRuleSet, RuleSetError, validateRuleSet } from './validate';
