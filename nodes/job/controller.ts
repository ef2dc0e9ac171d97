import type { Node, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { JobContext, JobRun, JobState, RunTrigger } from '../../core/jobs';
import type { JobHandle, Scheduler } from '../../core/jobs/scheduler';
import type { NodeBehaviour, NodeContext, Send, Status } from '../shared/node-kit';
import { nodeJobId, schedulerFor, watchJob } from '../shared/jobs';
import { jobScheduleOf, type JobConfig } from './schema';

/** What the node sends on each run, and what the flow sends back (`msg.job` with `outcome`) to finish it. */
export interface JobRunMessage extends NodeMessage {
  topic: 'job';
  job: { id: string; trigger: RunTrigger; scheduledFor: number | null };
}

interface Report {
  id?: unknown;
  outcome?: unknown;
  error?: unknown;
  output?: unknown;
}

interface Pending {
  resolve(output: string | undefined): void;
  reject(error: Error): void;
}

/** A status line's time: date and time in the job's zone, short enough for the editor. */
function when(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: timeZone || undefined, dateStyle: 'short', timeStyle: 'short' }).format(new Date(ms));
}

/**
 * The behaviour of a job node: registers the flow's own job (kind `flow`, id `flow.<node id>`), sends a message on
 * each run and waits for the flow to report the run's outcome back into the input (or a Catch node's msg.error);
 * a run nobody reports on within the timeout is recorded as failed. Runs never overlap (the scheduler records a
 * tick that finds one going as skipped), so at most one run waits at a time.
 */
export class JobController implements NodeBehaviour {
  private readonly node: Node;
  private readonly config: JobConfig;
  private readonly status: Status;
  private readonly send: Send;
  private readonly scheduler: Scheduler;
  private readonly id: string;
  private readonly job: JobHandle;
  private readonly stopWatching: () => void;
  private readonly stopRuns: () => void;
  private pending: Pending | null = null;
  private lastError = '';

  constructor({ node, config, status, send, handles }: NodeContext<JobConfig>) {
    this.node = node;
    this.config = config;
    this.status = status;
    this.send = send;
    this.scheduler = schedulerFor(handles);
    this.id = nodeJobId('flow', node.id);
    this.stopWatching = watchJob(this.scheduler, this.id, (state) => this.show(state));
    this.stopRuns = this.scheduler.onRun((run) => this.noteRun(run));
    this.job = this.scheduler.register({ id: this.id, kind: 'flow', owner: node.id, schedule: jobScheduleOf(config), catchUp: config.catchUp }, (ctx) =>
      this.run(ctx),
    );
  }

  /** A report from the flow: `msg.job.id` and `msg.job.outcome` ("ok" or "failed"), or a Catch node's `msg.error`. */
  input(msg: NodeMessageInFlow): void {
    const report = (msg as { job?: Report }).job;
    const caught = (msg as { error?: { message?: unknown } }).error;
    // A wrong report is warned about, not thrown: a Catch node wired back into this input would bring it round again.
    if (typeof report !== 'object' || report === null || typeof report.id !== 'string') {
      this.node.warn('job expects msg.job.id (the id the run message carried) and msg.job.outcome "ok" or "failed"');
      return;
    }
    if (report.id !== this.id) {
      this.node.warn(`msg.job.id is ${JSON.stringify(report.id)}: this node runs job ${JSON.stringify(this.id)}`);
      return;
    }
    const outcome = report.outcome ?? (caught ? 'failed' : undefined);
    if (outcome !== 'ok' && outcome !== 'failed') {
      this.node.warn(`msg.job.outcome must be "ok" or "failed", got ${JSON.stringify(report.outcome)}`);
      return;
    }
    const pending = this.pending;
    if (!pending) {
      this.node.warn(`job ${this.id}: an outcome arrived but no run is waiting for one (it timed out or was already reported)`);
      return;
    }
    this.pending = null;
    const output = report.output === undefined ? undefined : typeof report.output === 'string' ? report.output : JSON.stringify(report.output);
    if (outcome === 'ok') pending.resolve(output);
    else
      pending.reject(
        new Error(typeof report.error === 'string' ? report.error : typeof caught?.message === 'string' ? caught.message : 'the flow reported failed'),
      );
  }

  async close(): Promise<void> {
    this.stopWatching();
    this.stopRuns();
    await this.job.unregister();
  }

  /** One run: the message goes out, and the run lasts until the flow reports back, the timeout passes or the node closes. */
  private run(ctx: JobContext): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.pending = null;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no outcome reported within ${this.config.timeout} s`));
      }, this.config.timeout * 1000);
      ctx.signal.addEventListener('abort', () => {
        finish();
        reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('the job node was closed'));
      });
      this.pending = {
        resolve: (output) => {
          finish();
          resolve(output);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      };
      const msg: JobRunMessage = { topic: 'job', job: { id: this.id, trigger: ctx.trigger, scheduledFor: ctx.scheduledFor } };
      this.send(msg);
    });
  }

  /** The state's change is told before the run is: a failed run's error reaches the status here. */
  private noteRun(run: JobRun): void {
    if (run.jobId !== this.id || run.outcome !== 'failed') return;
    this.lastError = run.error ?? '';
    this.show(this.scheduler.state(this.id));
  }

  private show(state: JobState): void {
    const next = state.nextRuns[0] === undefined ? '—' : when(state.nextRuns[0], this.config.timeZone);
    if (state.status === 'running') this.status.show('connecting', 'running');
    else if (state.status === 'paused') this.status.show('stopped', 'paused');
    else if (state.lastOutcome === 'failed') this.status.show('error', 'failed', { error: this.lastError, next });
    else if (state.lastOutcome === 'ok') this.status.show('online', 'ok', { next });
    else this.status.show('idle', 'scheduled', { next });
  }
}
