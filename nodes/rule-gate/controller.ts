import type { Node } from 'node-red';
import { RuleGate, type Decision, type RuleSet } from '../../core/rules';
import { metrics } from '../../core/metrics';
import { statusOf } from '../shared/node-kit';

export type Send = (msgs: [Record<string, unknown> | null, Record<string, unknown> | null]) => void;

/** The label a decision is counted under: the deciding rule, or "(default)" when none matched. */
const DEFAULT_LABEL = '(default)';

/**
 * The behaviour of a rule-gate node: each message is judged by the rule set and leaves with `msg.gate` on the
 * first output when it passed, on the second when it was blocked.
 */
export class RuleGateController {
  private readonly gate: RuleGate;
  passed = 0;
  blocked = 0;

  constructor(private readonly node: Node, ruleSet: RuleSet, now?: () => number) {
    this.gate = new RuleGate(ruleSet, { now });
  }

  onMessage(msg: Record<string, unknown>, send: Send): Decision {
    const decision = this.gate.decide(msg);
    const out = { ...msg, gate: decision };
    if (decision.passed) this.passed += 1;
    else this.blocked += 1;
    metrics.ruleDecisionsTotal.inc({ rule: decision.rule ?? DEFAULT_LABEL, outcome: decision.passed ? 'pass' : 'block' });
    send(decision.passed ? [out, null] : [null, out]);
    this.node.status(statusOf(decision.passed ? 'online' : 'skipped', `${decision.passed ? 'pass' : 'block'}: ${decision.rule ?? 'default'} · ${this.passed} passed, ${this.blocked} blocked`));
    return decision;
  }
}
