import type { NodeAPI } from 'node-red';
import { instancePath, PROBLEM_CONTENT_TYPE, problemOf } from '../../core/net/problem';
import { parseRuleSet, RuleSetError } from '../../core/rules';
import { registerNode } from '../shared/node-kit';
import { RuleGateController } from './controller';
import { ruleGateConfig } from './schema';

/** rule-gate: decides which events become alerts with a rule set written in the node, and says why for each one. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, { config: ruleGateConfig, create: (ctx) => new RuleGateController(ctx) });

  // The editor checks the rules as they are typed with this same validator, so its messages match the runtime's.
  RED.httpAdmin.post('/glimpser/rule-gate/check', RED.auth.needsPermission('rule-gate.read'), (req, res) => {
    const text = (req.body as { rules?: unknown } | undefined)?.rules;
    if (typeof text !== 'string') {
      const problem = problemOf(400, 'invalid_request', 'body.rules: expected the rule set as JSON text', instancePath(req.originalUrl));
      res.status(400).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
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
