import { Type } from '@sinclair/typebox';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../core/log/logger';
import { RuleGate, RuleSetError } from '../../core/rules';
import { apiErrors, badRequest } from './errors';
import { validateBody } from './validate';

/**
 * Tries a rule set on an event without deploying it, under /api after authentication.
 *
 * POST /rules/test { rules: RuleSet, event: object, msg?: object, now?: ISO 8601 time with a zone }
 *      → 200 { decision: { passed, rule, reason } }
 * The event is judged as `msg.event` (other msg fields such as `motion` sit beside it) at `now` (default: the
 * server's clock) with nothing remembered, so dedupe, cooldown and rate limits never block a test.
 * Errors: 400 { error: 'invalid_request', message } where the message names the JSON path, e.g.
 * `rules.rules[0].when.op: unknown operator "approx"; …`.
 */
export interface RulesRouterDeps {
  log: Logger;
}

const TestBody = Type.Object(
  {
    rules: Type.Object({}, { additionalProperties: true }),
    event: Type.Object({}, { additionalProperties: true }),
    msg: Type.Optional(Type.Object({}, { additionalProperties: true })),
    now: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

export function rulesRouter(deps: RulesRouterDeps): Router {
  const router = express.Router();

  router.post('/rules/test', express.json({ limit: '256kb' }), validateBody(TestBody), (req: Request, res: Response) => {
    const body = req.body as { rules: unknown; event: Record<string, unknown>; msg?: Record<string, unknown>; now?: string };
    const now = body.now === undefined ? Date.now() : ISO_WITH_ZONE.test(body.now) ? Date.parse(body.now) : Number.NaN;
    if (Number.isNaN(now)) throw badRequest(`now: expected an ISO 8601 time with a zone like "2026-06-01T23:14:00+02:00", got ${JSON.stringify(body.now)}`);
    let gate: RuleGate;
    try {
      gate = new RuleGate(body.rules, { now: () => now });
    } catch (err) {
      if (!(err instanceof RuleSetError)) throw err;
      throw badRequest(`${err.path === '$' ? 'rules' : `rules.${err.path}`}: ${err.problem}`);
    }
    res.json({ decision: gate.decide({ ...body.msg, event: body.event }) });
  });

  router.use(apiErrors(deps.log, 'rule test failed'));
  return router;
}
