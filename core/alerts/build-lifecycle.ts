/**
 * Which CAP alert an event message makes, if any: the first message about an event makes its Alert, later ones an
 * Update (at most one per `updateEveryMs`), the end its Cancel or all-clear; nothing after the end. One alert per
 * event phase, never one per frame. The state is per event, in memory, and bounded: ended events are forgotten after
 * `endedTtlMs`, and the oldest events go first when more than `maxEvents` are tracked.
 */

export type EventPhase = 'start' | 'update' | 'end';

/** The event's first alert, which later ones reference (CAP 1.2 §3.2.1 `sender,identifier,sent`). */
export interface FirstAlert {
  sender: string;
  identifier: string;
  /** Milliseconds since the epoch, whole seconds (CAP times carry no fraction). */
  sent: number;
}

export type LifecycleStep =
  | { kind: 'alert' }
  | { kind: 'update'; first: FirstAlert; sequence: number }
  | { kind: 'end'; first: FirstAlert }
  | { kind: 'skip'; reason: 'rate-limited' | 'ended' };

interface EventState {
  first: FirstAlert;
  lastAlertAt: number;
  updates: number;
  endedAt: number | null;
}

export interface LifecycleOptions {
  updateEveryMs: number;
  maxEvents?: number;
  endedTtlMs?: number;
}

export class AlertLifecycle {
  private readonly events = new Map<string, EventState>();
  private readonly maxEvents: number;
  private readonly endedTtlMs: number;

  constructor(private readonly options: LifecycleOptions) {
    this.maxEvents = options.maxEvents ?? 1000;
    this.endedTtlMs = options.endedTtlMs ?? 10 * 60_000;
  }

  get size(): number {
    return this.events.size;
  }

  /** What a message in `phase` of event `ref` makes at `now`; nothing changes until record(). */
  step(ref: string, phase: EventPhase, now: number): LifecycleStep {
    this.expire(now);
    const state = this.events.get(ref);
    if (!state) return { kind: 'alert' };
    if (state.endedAt !== null) return { kind: 'skip', reason: 'ended' };
    if (phase === 'end') return { kind: 'end', first: state.first };
    if (now - state.lastAlertAt < this.options.updateEveryMs) return { kind: 'skip', reason: 'rate-limited' };
    return { kind: 'update', first: state.first, sequence: state.updates + 1 };
  }

  /** Remembers the alert a step made; an event's first alert for a message that also ends it ends it too. */
  record(ref: string, step: LifecycleStep, alert: FirstAlert, phase: EventPhase, now: number): void {
    if (step.kind === 'skip') return;
    if (step.kind === 'alert') {
      this.events.delete(ref);
      this.events.set(ref, { first: alert, lastAlertAt: now, updates: 0, endedAt: phase === 'end' ? now : null });
      this.bound();
      return;
    }
    const state = this.events.get(ref);
    if (!state) return;
    if (step.kind === 'update') {
      state.lastAlertAt = now;
      state.updates = step.sequence;
    } else {
      state.endedAt = now;
    }
  }

  private expire(now: number): void {
    for (const [ref, state] of this.events) if (state.endedAt !== null && now - state.endedAt >= this.endedTtlMs) this.events.delete(ref);
  }

  /** The map keeps insertion order, so the first keys are the events first alerted. */
  private bound(): void {
    for (const ref of this.events.keys()) {
      if (this.events.size <= this.maxEvents) break;
      this.events.delete(ref);
    }
  }
}
