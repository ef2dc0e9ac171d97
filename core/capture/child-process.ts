import type { ChildProcess } from 'node:child_process';

/** Every child still running, so a dying Node process takes its camera processes with it. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Decorrelated jitter (AWS architecture blog): never shorter than the initial delay, so a failing input
 * cannot restart in a tight loop, and spread out so many cameras behind one dead NVR do not retry in step.
 * Takes the previous delay (the initial one for a first retry) and returns the next.
 */
export function nextBackoffMs(previousMs: number, { initialMs, maxMs }: { initialMs: number; maxMs: number }): number {
  const delay = Math.min(maxMs, initialMs + Math.random() * (Math.max(previousMs, initialMs) * 3 - initialMs));
  return Math.max(initialMs, delay);
}

/** Signals a child started with `detached: true` together with anything it started (its process group). */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone: nothing left to stop.
  }
}

/** Makes a detached child's process group die with this Node process, should Node exit while it runs. */
export function killWithNode(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const live of liveChildren) if (live.pid !== undefined) signalGroup(live.pid, 'SIGKILL');
    });
  }
  liveChildren.add(child);
  child.once('close', () => liveChildren.delete(child));
}
