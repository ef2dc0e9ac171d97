import { Type } from '@sinclair/typebox';
import type { Request, Response, Router } from 'express';
import type { Logger } from '../../core/log/logger';
import type { EventJournal, EventQuery, StoredEvent } from '../../core/store/journal';
import { apiErrors } from './errors';
import { MAX_QUERY_LIMIT } from '../../core/store/journal-query';
import { parseListQuery, queryJournal } from './query';
import { principalOf, routerOf, type Route, type RouteAuth } from './route';
import { listQuery, NextCursor } from './schemas';
import { visible } from './scope';

/**
 * The ai-summary node's briefs under /api. They are journal events of type "summary"; this shows their text and
 * per-camera briefs without the event envelope.
 */
export interface SummariesRouterDeps {
  journal: EventJournal;
  log: Logger;
}

export interface SummaryResponse {
  id: string;
  source: string;
  startTime: string;
  startTimeMs: number;
  endTime: string | null;
  endTimeMs: number | null;
  summary: string;
  sources: unknown[];
  items: number;
  model: string | null;
  tokens: unknown;
}

/** Same rules as GET /events (runtime/api/events.ts), restricted to the parameters that make sense here. */
const LIST_QUERY = { parameters: ['from', 'to', 'limit', 'cursor'], copied: ['cursor'] } as const;

const Summary = Type.Object({
  id: Type.String(),
  source: Type.String(),
  startTime: Type.String({ format: 'date-time' }),
  startTimeMs: Type.Integer(),
  endTime: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  endTimeMs: Type.Union([Type.Integer(), Type.Null()]),
  summary: Type.String(),
  sources: Type.Array(Type.Object({ camera: Type.String(), brief: Type.String(), severity: Type.String() }, { additionalProperties: true })),
  items: Type.Integer(),
  model: Type.Union([Type.String(), Type.Null()]),
  tokens: Type.Union([Type.Object({ prompt: Type.Number(), completion: Type.Number(), total: Type.Number() }), Type.Null()]),
});

export function summaryRoutes(deps: SummariesRouterDeps): Route[] {
  return [
    {
      method: 'get',
      path: '/summaries',
      operationId: 'listSummaries',
      summary: "The ai-summary node's briefs, newest first",
      description:
        'from/to are on the window start. An account limited to some cameras gets only summaries whose sources are all its cameras, ' +
        'filtered within each page (a page may then be short; follow `next` until it is null).',
      tags: ['summaries'],
      access: 'viewer',
      query: listQuery(MAX_QUERY_LIMIT, 20),
      queryCheckedBy: 'handler',
      responses: { 200: { description: 'A page of summaries.', schema: Type.Object({ summaries: Type.Array(Summary), next: NextCursor }) } },
      handler: (req: Request, res: Response) => {
        const page = queryJournal(deps.journal, parseListQuery<EventQuery>(req.query, { ...LIST_QUERY, base: { type: 'summary', limit: 20 } }));
        // A summary speaks of several cameras at once; one that mentions a camera the caller may not see is left out.
        const limited = principalOf(req).cameras !== null;
        const shown = page.events
          .map(summaryJson)
          .filter((summary) => !limited || (summary.sources.length > 0 && summary.sources.every((source) => visible(req, cameraOf(source)))));
        res.json({ summaries: shown, next: page.next });
      },
    },
  ];
}

/** The summary routes on their own router, with their error answers (for tests and embedding). */
export function summariesRouter(deps: SummariesRouterDeps & { auth: RouteAuth }): Router {
  return routerOf(summaryRoutes(deps), deps.auth).use(apiErrors(deps.log, 'summaries request failed'));
}

function cameraOf(source: unknown): string {
  return typeof source === 'object' && source !== null && typeof (source as { camera?: unknown }).camera === 'string'
    ? (source as { camera: string }).camera
    : '';
}

function summaryJson(event: StoredEvent): SummaryResponse {
  const { data } = event;
  return {
    id: event.id,
    source: event.camera,
    startTime: new Date(event.startTime).toISOString(),
    startTimeMs: event.startTime,
    endTime: event.endTime === null ? null : new Date(event.endTime).toISOString(),
    endTimeMs: event.endTime,
    summary: typeof data.summary === 'string' ? data.summary : '',
    sources: Array.isArray(data.sources) ? data.sources : [],
    items: typeof data.items === 'number' ? data.items : 0,
    model: typeof data.model === 'string' ? data.model : null,
    tokens: data.tokens ?? null,
  };
}
