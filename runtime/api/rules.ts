import { Type } from '@sinclair/typebox';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from '../../core/log/logger';
import { RuleGate, RuleSetError } from '../../core/rules';
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
    if (Number.isNaN(now)) {
      res.status(400).json({ error: 'invalid_request', message: `now: expected an ISO 8601 time with a zone like "2026-06-01T23:14:00+02:00", got ${JSON.stringify(body.now)}` });
      return;
    }
    let gate: RuleGate;
    try {
      gate = new RuleGate(body.rules, { now: () => now });
    } catch (err) {
      if (!(err instanceof RuleSetError)) throw err;
      res.status(400).json({ error: 'invalid_request', message: `${err.path === '$' ? 'rules' : `rules.${err.path}`}: ${err.problem}` });
      return;
    }
    res.json({ decision: gate.decide({ ...body.msg, event: body.event }) });
  });

  // Only reached when this router runs on its own; under apiRouter errors are answered there first.
  router.use((err: Error & { type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'invalid_request', message: `body: not valid JSON (${err.message})` });
      return;
    }
    deps.log.error({ err: err.message }, 'rule test failed');
    res.status(500).json({ error: 'internal', message: 'internal error; see the server log' });
  });
  return router;
}
