import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { StoredEvent } from '../store/event';
import type { EventJournal } from '../store/journal';
import type { AlertSnapshot } from './build';

/**
 * "Wait for the snapshot": an alert about an event whose snapshot is not written yet waits for the journal to
 * announce it (a change event, not polling), up to a deadline; then it goes without and says why.
 */

export interface SnapshotResult {
  snapshot: AlertSnapshot | null;
  /** Why there is no snapshot; null when there is one. */
  missing: string | null;
}

/** The event with its snapshot as soon as the journal has it, or null at the deadline or on abort. */
function snapshotWritten(journal: EventJournal, id: string, waitMs: number, signal?: AbortSignal): Promise<StoredEvent | null> {
  return new Promise((resolve) => {
    const finish = (event: StoredEvent | null) => {
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', aborted);
      resolve(event);
    };
    const aborted = () => finish(null);
    const unsubscribe = journal.onChange((change) => {
      if (change.after.id === id && change.after.snapshot !== null) finish(change.after);
    });
    const timer = setTimeout(() => finish(null), waitMs);
    signal?.addEventListener('abort', aborted);
    // The snapshot may have landed between the caller's look and the subscription.
    const now = journal.get(id);
    if (now?.snapshot) finish(now);
    else if (signal?.aborted) finish(null);
  });
}

async function read(journal: EventJournal, id: string): Promise<SnapshotResult> {
  const file = journal.snapshotPath(id);
  if (!file) return { snapshot: null, missing: `event ${id} has no snapshot in the journal` };
  try {
    const bytes = await readFile(file);
    // journal.file is <dataDir>/events/journal.db; StoredAlert paths are relative to the data dir.
    const dataDir = path.dirname(path.dirname(journal.file));
    return { snapshot: { bytes, path: path.relative(dataDir, file) }, missing: null };
  } catch (error) {
    return { snapshot: null, missing: `the snapshot of event ${id} could not be read: ${(error as Error).message}` };
  }
}

/** The event's snapshot from the journal, waiting up to `waitMs` for it to be written; else why there is none. */
export async function eventSnapshot(journal: EventJournal | undefined, id: string | null, waitMs: number, signal?: AbortSignal): Promise<SnapshotResult> {
  if (!journal) return { snapshot: null, missing: 'no event journal (cap-alert runs outside the Glimpser runtime)' };
  if (id === null) return { snapshot: null, missing: 'the event has no journal id (put an event node before cap-alert)' };
  const event = journal.get(id);
  if (!event) return { snapshot: null, missing: `event ${id} is not in the journal` };
  if (event.snapshot !== null) return read(journal, id);
  if (waitMs <= 0) return { snapshot: null, missing: `event ${id} has no snapshot yet` };
  const written = await snapshotWritten(journal, id, waitMs, signal);
  if (!written) return { snapshot: null, missing: `no snapshot of event ${id} within ${waitMs} ms` };
  return read(journal, id);
}
