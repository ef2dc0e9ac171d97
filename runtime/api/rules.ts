import { Type } from '@sinclair/typebox';
import type { Request, Response, Router } from 'express';
import type { Logger } from '../../core/log/logger';
import { RuleGate, RuleSetError } from '../../core/rules';
import { apiErrors, badRequest } from './errors';
import { routerOf, type Route, type RouteAuth } from './route';

/**
 * Tries a rule set on an event without deploying it, under /api. Refusals name the JSON path, e.g.
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

const Decision = Type.Object({ passed: Type.Boolean(), rule: Type.Union([Type.String(), Type.Null()]), reason: Type.String() }, { additionalProperties: true });

export function ruleRoutes(): Route[] {
  return [
    {
      method: 'post',
      path: '/rules/test',
      operationId: 'testRules',
      summary: 'Try a rule set on an event without deploying it',
      description:
        'The event is judged as `msg.event` (other msg fields such as `motion` sit beside it) at `now` (default: the server clock) with nothing ' +
        'remembered, so dedupe, cooldown and rate limits never block a test. It changes nothing, so a viewer may use it.',
      tags: ['rules'],
      access: 'viewer',
      body: { schema: TestBody, limitBytes: 256 * 1024 },
      responses: { 200: { description: 'The decision.', schema: Type.Object({ decision: Decision }) } },
      handler: (req: Request, res: Response) => {
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
      },
    },
  ];
}

/** The rule routes on their own router, with their error answers (for tests and embedding). */
export function rulesRouter(deps: RulesRouterDeps & { auth: RouteAuth }): Router {
  return routerOf(ruleRoutes(), deps.auth).use(apiErrors(deps.log, 'rule test failed'));
}
