import type { Bus } from '../bus/bus';
import { silentLogger, type Logger } from '../log/logger';
import { topics } from '../topics';
import type { JobState, JobStatus } from './index';
import type { Scheduler } from './scheduler';

/** The payload of `glimpser/jobs/<id>/state`: what a dashboard or home automation needs to show a job at a glance. */
export interface JobStateMessage {
  id: string;
  kind: string;
  camera: string | null;
  status: JobStatus;
  lastOutcome: 'ok' | 'failed' | null;
  /** ISO 8601, or null before the first run. */
  lastRunAt: string | null;
  /** ISO 8601, or null while paused (or for a schedule with no time left). */
  nextRunAt: string | null;
}

export function jobStateMessage(state: JobState): JobStateMessage {
  const next = state.nextRuns[0];
  return {
    id: state.id,
    kind: state.kind,
    camera: state.camera,
    status: state.status,
    lastOutcome: state.lastOutcome,
    lastRunAt: state.lastRunAt === null ? null : new Date(state.lastRunAt).toISOString(),
    nextRunAt: next === undefined ? null : new Date(next).toISOString(),
  };
}

export interface JobStateMqttOptions {
  bus: Bus;
  scheduler: Scheduler;
  logger?: Logger;
}

/**
 * Publishes every job's state, retained at QoS 1, on `glimpser/jobs/<id>/state`: when it is registered and on every
 * change the scheduler announces (paused, resumed, a run started or finished). Publishes go out one after another so a
 * retained message never ends older than the state before it. Only the runtime may publish there (core/topics.ts).
 */
export class JobStateMqtt {
  private readonly log: Logger;
  private stopListening: (() => void) | null = null;
  private publishing: Promise<void> = Promise.resolve();

  constructor(private readonly options: JobStateMqttOptions) {
    this.log = (options.logger ?? silentLogger).child({ component: 'jobs' });
  }

  /** Listens for changes and publishes the jobs registered so far (system jobs register before the broker is handed over). */
  start(): Promise<void> {
    const { scheduler } = this.options;
    this.stopListening ??= scheduler.onState((state) => this.publish(state));
    for (const state of scheduler.list()) this.publish(state);
    return this.publishing;
  }

  /** Resolves once the states announced so far are published (or failed, which is logged). */
  flush(): Promise<void> {
    return this.publishing;
  }

  async stop(): Promise<void> {
    this.stopListening?.();
    this.stopListening = null;
    await this.publishing;
  }

  private publish(state: JobState): void {
    let topic: string;
    try {
      topic = topics.jobState(state.id);
    } catch (err) {
      // A flow's job id with "/" or a wildcard in it: listed in the API, but it has no topic of its own.
      this.log.warn({ job: state.id, err: (err as Error).message }, 'job state not published');
      return;
    }
    const payload = JSON.stringify(jobStateMessage(state));
    this.publishing = this.publishing.then(() =>
      this.options.bus
        .publish(topic, payload, { retain: true, qos: 1 })
        .catch((err: Error) => this.log.warn({ job: state.id, err: err.message }, 'job state not published')),
    );
  }
}
