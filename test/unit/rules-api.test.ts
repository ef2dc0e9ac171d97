import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { silentLogger } from '../../core/log/logger';
import { rulesRouter } from '../../runtime/api/rules';
import { signedInAs } from '../support/api-auth';
import { expectProblem } from '../support/problem';

let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use('/api', rulesRouter({ log: silentLogger, auth: signedInAs('viewer') }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function send(body: unknown): Promise<Response> {
  return fetch(`${base}/rules/test`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function post(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await send(body);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const rules = {
  version: 1,
  timeZone: 'Europe/Paris',
  rules: [
    {
      name: 'night intruder',
      when: {
        all: [
          { path: 'event.type', op: 'eq', value: 'motion' },
          { path: 'motion.changedFraction', op: 'gt', value: 0.01 },
        ],
      },
      quietHours: [{ from: '22:00', to: '06:00' }],
      cooldown: { seconds: 60 },
    },
  ],
  default: 'block',
};
const event = {
  id: 'e1',
  camera: 'front-door',
  type: 'motion',
  zones: ['door'],
  startTime: '2026-06-01T10:00:00.000Z',
  startTimeMs: 1780308000000,
  score: 0.8,
  data: {},
};

describe('POST /api/rules/test', () => {
  it('decides an event with msg fields beside it, at the given time', async () => {
    const noon = await post({ rules, event, msg: { motion: { changedFraction: 0.05 } }, now: '2026-06-01T12:00:00+02:00' });
    expect(noon).toEqual({
      status: 200,
      body: {
        decision: {
          passed: true,
          rule: 'night intruder',
          reason: 'rule "night intruder": all of [event.type eq "motion" ✓, motion.changedFraction gt 0.01 ✓] matched → pass',
        },
      },
    });
    const night = await post({ rules, event, msg: { motion: { changedFraction: 0.05 } }, now: '2026-06-01T21:14:00Z' });
    expect(night.body.decision).toEqual({
      passed: false,
      rule: 'night intruder',
      reason: 'rule "night intruder" matched but blocked: quiet hours 22:00–06:00 Europe/Paris (now 23:14)',
    });
  });

  it('remembers nothing between calls, so a cooldown never blocks a test', async () => {
    const body = { rules, event, msg: { motion: { changedFraction: 0.05 } }, now: '2026-06-01T12:00:00Z' };
    expect(((await post(body)).body.decision as { passed: boolean }).passed).toBe(true);
    expect(((await post(body)).body.decision as { passed: boolean }).passed).toBe(true);
  });

  it('answers the default when no rule matches', async () => {
    expect((await post({ rules, event: { type: 'tamper' } })).body).toEqual({
      decision: { passed: false, rule: null, reason: 'no rule matched → default block' },
    });
  });

  it.each([
    [
      { rules: { ...rules, rules: [{ ...rules.rules[0], when: { all: [{ path: 'event.type', op: 'approx', value: 1 }] } }] }, event },
      'rules.rules[0].when.all[0].op: unknown operator "approx"; expected one of eq, ne, gt, gte, lt, lte, in, nin, contains, matches, exists',
    ],
    [
      { rules: { ...rules, rules: [{ ...rules.rules[0], cooldown: { seconds: '5' } }] }, event },
      'rules.rules[0].cooldown.seconds: expected a number ≥ 0, got "5"',
    ],
    [{ rules: { ...rules, default: undefined }, event }, 'rules: missing key "default"'],
    [{ rules, event, now: 'tonight' }, 'now: expected an ISO 8601 time with a zone like "2026-06-01T23:14:00+02:00", got "tonight"'],
    [{ rules, event, now: '2026-06-01T23:14:00' }, 'now: expected an ISO 8601 time with a zone like "2026-06-01T23:14:00+02:00", got "2026-06-01T23:14:00"'],
    [{ rules }, 'body: missing property "event"'],
    [{ rules, event: [] }, 'body.event: must be object'],
    [{ rules, event, extra: 1 }, 'body: unknown property "extra"'],
    ['{"rules":', 'body: not valid JSON'],
  ])('answers 400 naming the wrong part: %j', async (body, message) => {
    const problem = await expectProblem(await send(body), 400, { code: 'invalid_request' });
    expect(problem.detail).toContain(message);
    expect(problem.errors?.[0]?.field).toBe(message.split(':')[0]);
  });
});
