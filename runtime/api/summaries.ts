import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../core/log/logger';
import { EventValidationError } from '../../core/store/event';
import type { EventJournal, StoredEvent } from '../../core/store/journal';
import { BadRequest, parseListQuery } from './query';

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

const LIST_QUERY = { parameters: ['from', 'to', 'limit', 'cursor'], copied: ['cursor'] } as const;

export function summariesRouter(deps: SummariesRouterDeps): Router {
  const { journal, log } = deps;
  const router = express.Router();
  router.get('/summaries', (req: Request, res: Response) => {
    try {
      const page = journal.query(parseListQuery(req.query, { ...LIST_QUERY, base: { type: 'summary', limit: 20 } }));
      res.json({ summaries: page.events.map(summaryJson), next: page.next });
    } catch (err) {
      if (err instanceof BadRequest || err instanceof EventValidationError) {
        res.status(400).json({ error: 'invalid_request', message: err.message });
        return;
      }
      log.error({ err: (err as Error).message }, 'summaries request failed');
      res.status(500).json({ error: 'internal', message: 'internal error; see the server log' });
    }
  });
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

/** Same rules as GET /events (runtime/api/events.ts), restricted to the parameters that make sense here. */
