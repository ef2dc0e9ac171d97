import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../core/log/logger';
import type { EventJournal, EventQuery, StoredEvent } from '../../core/store/journal';
import { apiErrors } from './errors';
import { parseListQuery, queryJournal } from './query';

/**
 * The ai-summary node's briefs under /api, mounted after authentication. They are journal events of type
 * "summary"; this shows their text and per-camera briefs without the event envelope.
 *
 * GET /summaries?from=&to=&limit=&cursor=
 *       from/to: ISO 8601 (a date, or a date-time with a zone) or milliseconds, on the window's start; from
 *       inclusive, to exclusive. limit 1-500, default 20. cursor: the `next` of the previous page.
 *     → 200 { summaries: Summary[], next: string | null }        newest first
 *
 * Summary = { id, source, startTime (ISO), startTimeMs, endTime (ISO | null), endTimeMs, summary: string,
 *             sources: [{ camera, brief, severity }], items: number, model: string | null,
 *             tokens: { prompt, completion, total } | null }
 * Errors: 400 { error: 'invalid_request', message } where the message names the parameter.
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

export function summariesRouter(deps: SummariesRouterDeps): Router {
  const { journal, log } = deps;
  const router = express.Router();
  router.get('/summaries', (req: Request, res: Response) => {
    const page = queryJournal(journal, parseListQuery<EventQuery>(req.query, { ...LIST_QUERY, base: { type: 'summary', limit: 20 } }));
    res.json({ summaries: page.events.map(summaryJson), next: page.next });
  });
  router.use(apiErrors(log, 'summaries request failed'));
  return router;
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
