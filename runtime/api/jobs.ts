import { Type } from '@sinclair/typebox';
import type { Request, Response, Router } from 'express';
import { JobValidationError, type JobRun, type JobState } from '../../core/jobs/index';
import type { Scheduler } from '../../core/jobs/scheduler';
import type { JobStore } from '../../core/jobs/store';
import type { Logger } from '../../core/log/logger';
import { apiErrors, badRequest, HttpError, notFound } from './errors';
import { principalOf, routerOf, type Route, type RouteAuth } from './route';
import { CameraId, IsoTime, Millis, NextCursor } from './schemas';
import { visible } from './scope';

/**
 * Every scheduled thing Glimpser runs (captures, AI summaries, retention, flows' `job` nodes) under /api/jobs: list,
 * look at one with its next runs, run it now, pause, resume, and page through its run history. Viewers read, operators
 * act. A caller limited to some cameras sees the jobs of its cameras and the jobs of no camera (retention, sweeps);
 * another camera's job answers 404 as an unknown one.
 */
export interface JobsRouterDeps {
  scheduler: Scheduler;
  /** The scheduler's store: the run history is read from it directly. */
  store: JobStore;
  log: Logger;
}

const MAX_RUN_PAGE = 500;
const NEXT_RUNS = 5;
const TAGS = ['jobs'];

const Schedule = Type.Union(
  [
    Type.Object({ kind: Type.Literal('cron'), expression: Type.String(), timeZone: Type.String({ description: 'An IANA time zone.' }) }),
    Type.Object({ kind: Type.Literal('interval'), everyMs: Type.Integer({ description: 'Milliseconds from one scheduled time to the next.' }) }),
  ],
  { description: 'A cron expression read in a time zone, or a fixed interval.' },
);
const Outcome = Type.Union([Type.Literal('ok'), Type.Literal('failed'), Type.Null()], { description: 'How the last run that did work ended.' });
const NullableTime = Type.Union([IsoTime, Type.Null()]);
const NullableMillis = Type.Union([Millis, Type.Null()]);

const JobSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.String({ description: 'capture, ai-summary, retention, flow, ...' }),
    owner: Type.String({ description: 'The node id that defined it, or `system`.' }),
    camera: Type.Union([Type.String(), Type.Null()]),
    schedule: Schedule,
    status: Type.Union([Type.Literal('idle'), Type.Literal('running'), Type.Literal('paused')]),
    paused: Type.Boolean(),
    catchUp: Type.Boolean({ description: 'Runs once on start to make up for runs missed while Glimpser was down.' }),
    lastOutcome: Outcome,
    lastRunAt: NullableTime,
    lastRunAtMs: NullableMillis,
    nextRunAt: Type.Union([IsoTime, Type.Null()], { description: 'null while paused.' }),
    nextRunAtMs: NullableMillis,
  },
  { description: 'A scheduled job.' },
);
const JobDetailSchema = Type.Object({
  job: JobSchema,
  nextRuns: Type.Array(IsoTime, { description: `The next ${NEXT_RUNS} scheduled times; empty while paused.` }),
  nextRunsMs: Type.Array(Millis),
});
const RunSchema = Type.Object(
  {
    id: Type.Integer(),
    jobId: Type.String(),
    trigger: Type.Union([Type.Literal('schedule'), Type.Literal('manual'), Type.Literal('catch-up')]),
    scheduledFor: NullableTime,
    scheduledForMs: NullableMillis,
    startedAt: IsoTime,
    startedAtMs: Millis,
    endedAt: NullableTime,
    endedAtMs: NullableMillis,
    outcome: Type.Union([Type.Literal('ok'), Type.Literal('failed'), Type.Literal('skipped'), Type.Literal('missed'), Type.Null()], {
      description: 'null while the run is going.',
    }),
    error: Type.Union([Type.String(), Type.Null()]),
    output: Type.Union([Type.String(), Type.Null()], { description: "The task's short output, at most 1 KiB." }),
  },
  { description: 'One run of a job.' },
);

const JobParams = Type.Object({ id: Type.String({ description: 'The job id.' }) });
const ListQuery = Type.Object(
  {
    kind: Type.Optional(Type.String({ description: 'Only jobs of this kind.' })),
    camera: Type.Optional(CameraId),
  },
  { additionalProperties: false },
);
const RunsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_RUN_PAGE, default: 50, description: 'Page size.' })),
    cursor: Type.Optional(Type.String({ description: 'The `next` of the previous page.' })),
  },
  { additionalProperties: false },
);
const NO_JOB = { description: 'No such job.' };
const JobAnswer = Type.Object({ job: JobSchema });

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function jobJson(state: JobState): Record<string, unknown> {
  const next = state.nextRuns[0] ?? null;
  return {
    id: state.id,
    kind: state.kind,
    owner: state.owner,
    camera: state.camera,
    schedule: state.schedule,
    status: state.status,
    paused: state.paused,
    catchUp: state.catchUp,
    lastOutcome: state.lastOutcome,
    lastRunAt: iso(state.lastRunAt),
    lastRunAtMs: state.lastRunAt,
    nextRunAt: iso(next),
    nextRunAtMs: next,
  };
}

function runJson(run: JobRun): Record<string, unknown> {
  return {
    id: run.id,
    jobId: run.jobId,
    trigger: run.trigger,
    scheduledFor: iso(run.scheduledFor),
    scheduledForMs: run.scheduledFor,
    startedAt: iso(run.startedAt),
    startedAtMs: run.startedAt,
    endedAt: iso(run.endedAt),
    endedAtMs: run.endedAt,
    outcome: run.outcome,
    error: run.error,
    output: run.output,
  };
}

export function jobRoutes(deps: JobsRouterDeps): Route[] {
  const { scheduler, store, log } = deps;
  /** The job, if it is registered and the caller may see its camera: anything else is as unknown as a missing one. */
  const visibleJob = (req: Request, id: string): JobState => {
    const state = scheduler.list().find((job) => job.id === id);
    if (!state || (state.camera !== null && !visible(req, state.camera))) throw notFound(`no job "${id}"`);
    return state;
  };
  const who = (req: Request): string => principalOf(req).username;

  return [
    {
      method: 'get',
      path: '/jobs',
      operationId: 'listJobs',
      summary: 'List the scheduled jobs',
      description: 'Every registered job with its status, last outcome and next run, ordered by id.',
      tags: TAGS,
      access: 'viewer',
      query: ListQuery,
      responses: { 200: { description: 'The jobs.', schema: Type.Object({ jobs: Type.Array(JobSchema) }) } },
      handler: (req: Request, res: Response) => {
        const { kind, camera } = req.query as { kind?: string; camera?: string };
        const jobs = scheduler.list({ kind, camera }).filter((job) => job.camera === null || visible(req, job.camera));
        res.json({ jobs: jobs.map(jobJson) });
      },
    },
    {
      method: 'get',
      path: '/jobs/{id}',
      operationId: 'getJob',
      summary: `One job with its next ${NEXT_RUNS} runs`,
      tags: TAGS,
      access: 'viewer',
      params: JobParams,
      responses: { 200: { description: 'The job.', schema: JobDetailSchema }, 404: NO_JOB },
      handler: (req: Request, res: Response) => {
        const state = visibleJob(req, req.params.id);
        const next = scheduler.nextRuns(state.id, NEXT_RUNS);
        res.json({ job: jobJson(state), nextRuns: next.map((at) => new Date(at).toISOString()), nextRunsMs: next });
      },
    },
    {
      method: 'post',
      path: '/jobs/{id}/run',
      operationId: 'runJob',
      summary: 'Run a job now',
      description:
        'Starts a run now, paused or not, and answers with it while it goes (outcome null); GET /jobs/{id}/runs shows how it ended. ' +
        'Runs of a job never overlap: while one is going the request is recorded as a skipped run and answered 409.',
      tags: TAGS,
      access: 'operator',
      params: JobParams,
      responses: {
        202: { description: 'The run, started.', schema: Type.Object({ run: RunSchema }) },
        404: NO_JOB,
        409: { description: 'The previous run is still going; this one was recorded as skipped.' },
      },
      handler: async (req: Request, res: Response) => {
        const state = visibleJob(req, req.params.id);
        if (state.status === 'running') {
          // Recorded as skipped like an overlapping tick, so the history shows that someone asked.
          await scheduler.runNow(state.id);
          throw new HttpError(409, 'refused', `job "${state.id}" is still running its previous run: runs never overlap, so this one was recorded as skipped`);
        }
        const finished = scheduler.runNow(state.id);
        // startRun wrote the run before runNow returned: the newest run is this one.
        const [run] = store.runs({ jobId: state.id, limit: 1 }).runs;
        finished.catch(() => undefined);
        log.info({ job: state.id, run: run.id, user: who(req) }, 'job run started through the API');
        res
          .status(202)
          .location(`${req.baseUrl}/jobs/${encodeURIComponent(state.id)}/runs`)
          .json({ run: runJson(run) });
      },
    },
    {
      method: 'post',
      path: '/jobs/{id}/pause',
      operationId: 'pauseJob',
      summary: 'Pause a job',
      description: 'No scheduled runs until resumed, across restarts too; a run that is going finishes, and run-now still works.',
      tags: TAGS,
      access: 'operator',
      params: JobParams,
      responses: { 200: { description: 'The job, paused.', schema: JobAnswer }, 404: NO_JOB },
      handler: (req: Request, res: Response) => {
        const state = visibleJob(req, req.params.id);
        log.info({ job: state.id, user: who(req) }, 'job paused through the API');
        res.json({ job: jobJson(scheduler.pause(state.id)) });
      },
    },
    {
      method: 'post',
      path: '/jobs/{id}/resume',
      operationId: 'resumeJob',
      summary: 'Resume a paused job',
      description: 'The schedule goes on from now: times that passed while it was paused are not run.',
      tags: TAGS,
      access: 'operator',
      params: JobParams,
      responses: { 200: { description: 'The job, resumed.', schema: JobAnswer }, 404: NO_JOB },
      handler: (req: Request, res: Response) => {
        const state = visibleJob(req, req.params.id);
        log.info({ job: state.id, user: who(req) }, 'job resumed through the API');
        res.json({ job: jobJson(scheduler.resume(state.id)) });
      },
    },
    {
      method: 'get',
      path: '/jobs/{id}/runs',
      operationId: 'listJobRuns',
      summary: "A job's runs, newest first",
      description: 'Finished, failed, skipped and missed runs (and one going), kept per job by count and age.',
      tags: TAGS,
      access: 'viewer',
      params: JobParams,
      query: RunsQuery,
      responses: { 200: { description: 'A page of runs.', schema: Type.Object({ runs: Type.Array(RunSchema), next: NextCursor }) }, 404: NO_JOB },
      handler: (req: Request, res: Response) => {
        const state = visibleJob(req, req.params.id);
        const { limit, cursor } = req.query as { limit?: string; cursor?: string };
        try {
          const page = store.runs({ jobId: state.id, limit: limit === undefined ? undefined : Number(limit), cursor });
          res.json({ runs: page.runs.map(runJson), next: page.next });
        } catch (err) {
          if (err instanceof JobValidationError) throw badRequest(err.message);
          throw err;
        }
      },
    },
  ];
}

/** The job routes on their own router, with their error answers (for tests and embedding). */
export function jobsRouter(deps: JobsRouterDeps & { auth: RouteAuth }): Router {
  return routerOf(jobRoutes(deps), deps.auth).use(apiErrors(deps.log, 'job request failed'));
}
