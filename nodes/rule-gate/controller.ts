import type { NodeMessage, NodeMessageInFlow } from 'node-red';
import type { GateMessage } from '../../core/messages';
import { metrics } from '../../core/metrics';
import { RuleGate } from '../../core/rules';
import type { NodeBehaviour, NodeContext, Send, Status } from '../shared/node-kit';
import { ruleSetOf, type RuleGateConfig } from './schema';

/** The label a decision is counted under: the deciding rule, or "(default)" when none matched. */
const DEFAULT_LABEL = '(default)';

/**
 * The behaviour of a rule-gate node: each message is judged by the rule set and leaves with `msg.gate` on the
 * first output when it passed, on the second when it was blocked. Any message is judged: rules read any path.
 */
export class RuleGateController implements NodeBehaviour {
  private readonly gate: RuleGate;
  private readonly status: Status;
  private passed = 0;
  private blocked = 0;

  constructor({ config, status }: NodeContext<RuleGateConfig>) {
    this.gate = new RuleGate(ruleSetOf(config));
    this.status = status;
    status.show('idle', 'ready', { rules: this.gate.ruleSet.rules.length, default: this.gate.ruleSet.default });
  }

  input(msg: NodeMessageInFlow, send: Send): void {
    const decision = this.gate.decide(msg);
    const out: NodeMessage & GateMessage = { ...msg, gate: decision };
    if (decision.passed) this.passed += 1;
    else this.blocked += 1;
    metrics.ruleDecisionsTotal.inc({ rule: decision.rule ?? DEFAULT_LABEL, outcome: decision.passed ? 'pass' : 'block' });
    send(decision.passed ? [out, null] : [null, out]);
    const counts = { passed: this.passed, blocked: this.blocked };
    if (decision.rule === null && decision.passed) this.status.show('online', 'passedByDefault', counts);
    else if (decision.rule === null) this.status.show('skipped', 'blockedByDefault', counts);
    else if (decision.passed) this.status.show('online', 'passed', { ...counts, rule: decision.rule });
    else this.status.show('skipped', 'blocked', { ...counts, rule: decision.rule });
  }
}
