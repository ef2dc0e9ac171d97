import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JobState } from '../../core/jobs';
import { Scheduler } from '../../core/jobs/scheduler';
import { JobStore } from '../../core/jobs/store';
import type { GlimpserHandles } from './handles';

let privateScheduler: Scheduler | null = null;

/**
 * The scheduler a node registers its job with: the runtime's (listed, paused and run from the API), or, in a plain
 * Node-RED, one private to this process over a store in a temp folder. The same scheduler code runs the node either
 * way (no overlap, the same cron reading); only nobody outside the node can see the private one.
 */
export function schedulerFor(handles: GlimpserHandles): Scheduler {
  if (handles.jobs) return handles.jobs;
  privateScheduler ??= new Scheduler({ store: JobStore.open(mkdtempSync(path.join(tmpdir(), 'glimpser-jobs-'))), logger: handles.logger });
  return privateScheduler;
}

/** A node's job id: its kind and node id, stable across redeploys so the job's pause state and history stay with it. */
export function nodeJobId(kind: string, nodeId: string): string {
  return `${kind}.${nodeId}`;
}

/** Calls `listener` with job `id`'s state on every change; returns the way to stop (for the node's close). */
export function watchJob(scheduler: Scheduler, id: string, listener: (state: JobState) => void): () => void {
  return scheduler.onState((state) => {
    if (state.id === id) listener(state);
  });
}
