import type { Node, NodeAPI, NodeDef } from 'node-red';
import { parseRuleSet, RuleSetError } from '../../core/rules';
import { handleInput, statusOf } from '../shared/node-kit';
import { RuleGateController, type Send } from './controller';
import { ruleGateConfigFrom } from './schema';

/** rule-gate: decides which events become alerts with a rule set written in the node, and says why for each one. */
export = function register(RED: NodeAPI): void {
  function RuleGateNode(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    let controller: RuleGateController | null = null;
    try {
      const settings = ruleGateConfigFrom(def);
      controller = new RuleGateController(this, settings.ruleSet);
      this.status(statusOf('idle', `${settings.ruleSet.rules.length} rules · default ${settings.ruleSet.default}`));
    } catch (err) {
      this.error((err as Error).message);
      this.status(statusOf('error', (err as Error).message));
    }
    handleInput(this, (msg, send) => {
      if (!controller) throw new Error('the rule gate is not configured; see the node status');
      controller.onMessage(msg as unknown as Record<string, unknown>, send as unknown as Send);
    });
  }
  RED.nodes.registerType('rule-gate', RuleGateNode);

  // The editor checks the rules as they are typed with this same validator, so its messages match the runtime's.
  RED.httpAdmin.post('/glimpser/rule-gate/check', RED.auth.needsPermission('rule-gate.read'), (req, res) => {
    const text = (req.body as { rules?: unknown } | undefined)?.rules;
    if (typeof text !== 'string') {
      res.status(400).json({ error: 'invalid_request', message: 'body.rules: expected the rule set as JSON text' });
      return;
    }
    try {
      const ruleSet = parseRuleSet(text);
      res.json({ valid: true, rules: ruleSet.rules.length });
    } catch (err) {
      if (!(err instanceof RuleSetError)) throw err;
      res.json({ valid: false, path: err.path, message: err.message });
    }
  });
};
