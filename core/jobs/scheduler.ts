import { silentLogger, type Logger } from '../log/logger';
import { jobMetrics as metrics } from '../metrics';
import { realClock, type JobClock, type JobDefinition, type JobRun, type JobState, type JobTask, type RunTrigger } from './index';
import { scheduledTimes } from './schedule';
import type { JobFilter, JobStore } from './store';

/** setTimeout holds at most 2^31-1 ms; a later due time is reached in steps. */
const MAX_DELAY_MS = 2_147_483_647;
/** Missed runs recorded one by one on start; beyond this (an interval job after a long outage) they are counted, not listed. */
export const MAX_MISSED_RECORDED = 100;

export interface SchedulerOptions {
  store: JobStore;
  logger?: Logger;
  clock?: JobClock;
}

export interface JobHandle {
  readonly id: string;
  /** Stops scheduling the job and aborts a run that is going; the job and its history stay in the store. */
  unregister(): Promise<void>;
}

interface Entry {
  task: JobTask;
  timer: unknown;
  /** The scheduled time the timer is armed for. */
  due: number | null;
  running: Promise<JobRun> | null;
  abort: AbortController;
}

type RunListener = (run: JobRun) => void;
type StateListener = (state: JobState) => void;

/**
 * Runs registered jobs on their schedules. One timer per job, armed for its next scheduled time on the injected clock
 * (croner is only asked for times, never left to run its own timers, so tests move time by hand). A job never runs
 * twice at once: a due time or a run-now that finds the previous run going is recorded as skipped.
 */
export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly runListeners = new Set<RunListener>();
  private readonly stateListeners = new Set<StateListener>();
  private readonly store: JobStore;
  private readonly log: Logger;
  private readonly clock: JobClock;
  private closed = false;

  constructor(options: SchedulerOptions) {
    this.store = options.store;
    this.log = (options.logger ?? silentLogger).child({ part: 'jobs' });
    this.clock = options.clock ?? realClock;
  }

  /**
   * Registers a job (or takes over its stored state after a restart). Scheduled times between the stored cursor and
   * now passed while nothing ran the job: each is recorded as missed, and a job with catchUp runs once for them. A
   * paused job misses nothing: it was not meant to run.
   */
  register(def: JobDefinition, task: JobTask): JobHandle {
    if (this.closed) throw new Error(`job ${def.id} cannot be registered: the scheduler is closed`);
    if (this.entries.has(def.id)) throw new Error(`job ${def.id} is already registered: unregister it first`);
    const now = this.clock.now();
    const job = this.store.upsertJob(def, now);
    this.entries.set(def.id, { task, timer: null, due: null, running: null, abort: new AbortController() });
    if (job.lastScheduledFor === null || job.paused) {
      this.store.setCursor(job.id, now);
    } else {
      const missed = scheduledTimes(job.schedule, job.lastScheduledFor, Number.MAX_SAFE_INTEGER, now);
      for (const at of missed.slice(-MAX_MISSED_RECORDED))
        this.emitRun(this.store.recordNotRun(job.id, 'schedule', at, 'missed', now, 'Glimpser was not running'));
      if (missed.length > 0) {
        metrics.jobRunsMissedTotal.inc({ kind: job.kind }, missed.length);
        metrics.jobRunsTotal.inc({ kind: job.kind, outcome: 'missed' }, missed.length);
        this.log.warn(
          { job: job.id, kind: job.kind, missed: missed.length, since: job.lastScheduledFor },
          'scheduled runs missed while Glimpser was not running',
        );
        this.store.setCursor(job.id, missed[missed.length - 1]);
        if (job.catchUp) void this.start(job.id, 'catch-up', missed[missed.length - 1]);
      }
    }
    this.arm(job.id);
    this.log.info({ job: job.id, kind: job.kind, schedule: job.schedule, paused: job.paused }, 'job registered');
    this.emitState(job.id);
    return { id: def.id, unregister: () => this.unregister(def.id) };
  }

  async unregister(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.clock.clearTimeout(entry.timer);
    this.entries.delete(id);
    entry.abort.abort(new Error(`job ${id} was unregistered`));
    await entry.running?.catch(() => undefined);
  }

  /** Stops scheduling the job until resumed, across restarts too; a run that is going finishes. */
  pause(id: string): JobState {
    this.entry(id);
    this.store.setPaused(id, true, this.clock.now());
    this.arm(id);
    this.log.info({ job: id }, 'job paused');
    return this.emitState(id);
  }

  resume(id: string): JobState {
    this.entry(id);
    // Times that passed while paused were not meant to run: the schedule goes on from now.
    this.store.setCursor(id, this.clock.now());
    this.store.setPaused(id, false, this.clock.now());
    this.arm(id);
    this.log.info({ job: id }, 'job resumed');
    return this.emitState(id);
  }

  /** Runs the job now, paused or not; resolves with the run as recorded (skipped at once if a run is going). */
  runNow(id: string): Promise<JobRun> {
    this.entry(id);
    return this.start(id, 'manual', null);
  }

  /** The job's next `count` scheduled times (none while paused). */
  nextRuns(id: string, count = 5): number[] {
    const job = this.job(id);
    if (job.paused) return [];
    const due = this.entries.get(id)?.due ?? null;
    if (due === null) return scheduledTimes(job.schedule, job.lastScheduledFor ?? this.clock.now(), count);
    return [due, ...scheduledTimes(job.schedule, due, count - 1)].slice(0, count);
  }

  state(id: string): JobState {
    const job = this.job(id);
    const status = this.entries.get(id)?.running ? 'running' : job.paused ? 'paused' : 'idle';
    return { ...job, status, nextRuns: this.entries.has(id) ? this.nextRuns(id) : [] };
  }

  /** Registered jobs' states (jobs stored by an earlier start but not registered now are left out). */
  list(filter: JobFilter = {}): JobState[] {
    return this.store
      .listJobs(filter)
      .filter((job) => this.entries.has(job.id))
      .map((job) => this.state(job.id));
  }

  /** Told every run as it is recorded: finished, skipped or missed. Returns the way to stop listening. */
  onRun(listener: RunListener): () => void {
    this.runListeners.add(listener);
    return () => this.runListeners.delete(listener);
  }

  /** Told a job's state when it changes (registered, paused, resumed, started, finished): the MQTT `state` topic. */
  onState(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Stops every timer, aborts the runs that are going and waits for them to be recorded. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.entries.keys()].map((id) => this.unregister(id)));
  }

  private entry(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw new Error(`job ${JSON.stringify(id)} is not registered`);
    return entry;
  }

  private job(id: string) {
    const job = this.store.getJob(id);
    if (!job) throw new Error(`job ${JSON.stringify(id)} is not known`);
    return job;
  }

  /** Arms the job's timer for its next scheduled time after the cursor (disarms it while paused). */
  private arm(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.clock.clearTimeout(entry.timer);
    entry.timer = null;
    entry.due = null;
    const job = this.job(id);
    if (job.paused || this.closed) return;
    const [due] = scheduledTimes(job.schedule, job.lastScheduledFor ?? this.clock.now(), 1);
    if (due === undefined) return;
    entry.due = due;
    const wait = (): void => {
      const left = due - this.clock.now();
      entry.timer = this.clock.setTimeout(left > 0 ? wait : () => this.tick(id, due), Math.min(Math.max(left, 0), MAX_DELAY_MS));
    };
    wait();
  }

  private tick(id: string, due: number): void {
    if (!this.entries.has(id)) return;
    // A due time found late (the process was suspended, the event loop blocked) moves the cursor to now: the times
    // in between are not run in a burst.
    this.store.setCursor(id, Math.max(due, this.clock.now()));
    void this.start(id, 'schedule', due);
    this.arm(id);
  }

  private start(id: string, trigger: RunTrigger, scheduledFor: number | null): Promise<JobRun> {
    const entry = this.entry(id);
    const job = this.job(id);
    const now = this.clock.now();
    if (entry.running) {
      const run = this.store.recordNotRun(id, trigger, scheduledFor, 'skipped', now, 'the previous run was still going');
      metrics.jobRunsSkippedTotal.inc({ kind: job.kind });
      metrics.jobRunsTotal.inc({ kind: job.kind, outcome: 'skipped' });
      this.log.warn({ job: id, kind: job.kind, trigger, scheduledFor }, 'run skipped: the previous run is still going');
      this.emitRun(run);
      return Promise.resolve(run);
    }
    const started = this.store.startRun(id, trigger, scheduledFor, now);
    const running = (async (): Promise<JobRun> => {
      let outcome: 'ok' | 'failed' = 'ok';
      let error: string | null = null;
      let output: string | null = null;
      try {
        output = (await entry.task({ signal: entry.abort.signal, trigger, scheduledFor })) ?? null;
      } catch (err) {
        outcome = 'failed';
        error = err instanceof Error ? err.message : String(err);
      }
      const ended = this.clock.now();
      let run: JobRun;
      try {
        run = this.store.finishRun(started.id, outcome, ended, error, output);
      } catch (err) {
        // The store went away under the run (closed before the scheduler): the run is still reported, not thrown
        // into a timer callback that nobody awaits.
        this.log.error({ job: id, err: (err as Error).message }, 'job run could not be recorded');
        run = { ...started, outcome, endedAt: ended, error, output };
      }
      metrics.jobRunsTotal.inc({ kind: job.kind, outcome });
      metrics.jobRunSeconds.observe({ kind: job.kind }, (ended - now) / 1000);
      const fields = { job: id, kind: job.kind, trigger, scheduledFor, durationMs: ended - now, outcome };
      if (outcome === 'failed') this.log.warn({ ...fields, err: error }, 'job run failed');
      else this.log.debug(fields, 'job run finished');
      return run;
    })();
    entry.running = running;
    this.emitState(id);
    void running.then((run) => {
      if (entry.running === running) entry.running = null;
      if (this.entries.has(id)) this.emitState(id);
      this.emitRun(run);
    });
    return running;
  }

  private emitRun(run: JobRun): void {
    for (const listener of this.runListeners) this.tell(() => listener(run), run.jobId);
  }

  private emitState(id: string): JobState {
    const state = this.state(id);
    for (const listener of this.stateListeners) this.tell(() => listener(state), id);
    return state;
  }

  /** A listener that throws (an MQTT publish on a closed broker) must not stop the scheduler or the other listeners. */
  private tell(call: () => void, job: string): void {
    try {
      call();
    } catch (err) {
      this.log.error({ job, err: (err as Error).message }, 'job listener failed');
    }
  }
}
