import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { assertCameraId } from '../ids';
import { metrics } from '../metrics';

/** The longest suspension: a day, as Frigate's notification suspend offers at most. */
export const MAX_SUSPEND_MINUTES = 1440;

/** One camera's notifications held back until `until` (ms since epoch); its alerts are still stored and shown. */
export interface Suspension {
  camera: string;
  until: number;
  /** When it was asked for, and by whom (a user name, or null when unknown). */
  at: number;
  by: string | null;
}

/** A camera's suspension state as the API answers and `glimpser/cameras/<id>/notifications/suspended` carries it. */
export interface SuspensionState {
  camera: string;
  suspended: boolean;
  /** ISO 8601 end of the suspension, null when not suspended. */
  until: string | null;
  untilMs: number | null;
}

export function suspensionState(camera: string, suspension: Suspension | null): SuspensionState {
  return { camera, suspended: suspension !== null, until: suspension && new Date(suspension.until).toISOString(), untilMs: suspension?.until ?? null };
}

const EXPECTED_MINUTES = `expected a whole number of minutes from 1 to ${MAX_SUSPEND_MINUTES}, or 0 or "off" to resume`;

/** Checks a number of minutes; 0 means resume. `field` names the input in the error. */
export function checkMinutes(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_SUSPEND_MINUTES) return value;
  throw new Error(`${field}: ${EXPECTED_MINUTES}, got ${JSON.stringify(value) ?? String(value)}`);
}

/**
 * Reads an MQTT suspend command: `30`, `{"minutes": 30}`, `0` / `off` / `{"minutes": 0}` to resume. Returns the
 * minutes (0 = resume); throws an error naming the payload and what was expected.
 */
export function parseSuspendPayload(payload: Buffer | string): number {
  const text = payload.toString().trim();
  if (text.toLowerCase() === 'off') return 0;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`payload: ${EXPECTED_MINUTES} or JSON {"minutes": n}, got ${JSON.stringify(text.slice(0, 64))}`);
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const unknown = keys.find((key) => key !== 'minutes');
    if (unknown !== undefined) throw new Error(`payload.${unknown}: unknown property (expected only "minutes")`);
    if (!keys.includes('minutes')) throw new Error('payload.minutes: missing property');
    return checkMinutes((value as { minutes: unknown }).minutes, 'payload.minutes');
  }
  return checkMinutes(value, 'payload');
}

type ChangeListener = (camera: string, suspension: Suspension | null) => void;

interface StoredDocument {
  version: 1;
  suspensions: Suspension[];
}

/**
 * Camera notification suspensions with their expiry, in one JSON document (`<data>/alerts/suspensions.json`, 0600
 * like every runtime state file). A JSON file rather than a table in the outbox: an install has a few cameras, every
 * enqueue asks "is this camera suspended?" and is answered from memory, writes are rare (a person asks), and the
 * outbox's schema and its migrations stay the outbox's own. Writes are synchronous and atomic (temp file, fsync,
 * rename), so a suspension survives a restart and a crash mid-write leaves the previous document. Expired entries are
 * dropped on load and announced (onChange with null) when their time comes, so the retained MQTT state follows.
 */
export class SuspensionStore {
  private readonly byCamera = new Map<string, Suspension>();
  private readonly listeners = new Set<ChangeListener>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly file: string | null,
    private readonly now: () => number = Date.now,
  ) {
    if (file) this.load(file);
    this.updateGauge();
    this.schedule();
  }

  static inMemory(now: () => number = Date.now): SuspensionStore {
    return new SuspensionStore(null, now);
  }

  /** The camera's suspension while it lasts; null when there is none or it has run out. */
  get(camera: string): Suspension | null {
    const suspension = this.byCamera.get(camera);
    if (!suspension) return null;
    if (suspension.until > this.now()) return suspension;
    this.expire();
    return null;
  }

  isSuspended(camera: string): boolean {
    return this.get(camera) !== null;
  }

  /** Every suspension in force, soonest end first. */
  list(): Suspension[] {
    this.expire();
    return [...this.byCamera.values()].sort((a, b) => a.until - b.until);
  }

  /** Suspends the camera's notifications for `minutes` from now (replacing any earlier end); 0 resumes. */
  suspend(camera: string, minutes: number, by: string | null = null): Suspension | null {
    assertCameraId(camera);
    checkMinutes(minutes, 'minutes');
    if (minutes === 0) {
      this.resume(camera);
      return null;
    }
    const at = this.now();
    const suspension: Suspension = { camera, until: at + minutes * 60_000, at, by };
    this.byCamera.set(camera, suspension);
    this.changed(camera, suspension);
    return suspension;
  }

  /** Ends the camera's suspension; whether there was one in force. */
  resume(camera: string): boolean {
    const had = this.get(camera) !== null;
    if (this.byCamera.delete(camera)) this.changed(camera, null);
    return had;
  }

  /** Called after every change, expiry included, with the camera's suspension now (null: notifications on). */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the expiry timer (the runtime closes the store with the alert service). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`cannot read notification suspensions ${file}: ${(err as Error).message}`, { cause: err });
    }
    let doc: Partial<StoredDocument>;
    try {
      doc = JSON.parse(text) as Partial<StoredDocument>;
    } catch (err) {
      throw new Error(`notification suspensions ${file}: expected a JSON document, ${(err as Error).message}`, { cause: err });
    }
    const now = this.now();
    for (const suspension of doc.suspensions ?? []) if (suspension.until > now) this.byCamera.set(suspension.camera, suspension);
  }

  /** Drops what has run out, saving and announcing each. */
  private expire(): void {
    const now = this.now();
    const ended = [...this.byCamera.values()].filter((suspension) => suspension.until <= now);
    for (const suspension of ended) {
      this.byCamera.delete(suspension.camera);
      this.changed(suspension.camera, null);
    }
  }

  private changed(camera: string, suspension: Suspension | null): void {
    this.save();
    this.updateGauge();
    this.schedule();
    for (const listener of this.listeners) listener(camera, suspension);
  }

  private updateGauge(): void {
    metrics.alertSuspendedCameras.set(this.byCamera.size);
  }

  /** One timer, for the soonest end; unref'd so a suspension never keeps the process alive. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.byCamera.size === 0) return;
    const soonest = Math.min(...[...this.byCamera.values()].map((suspension) => suspension.until));
    // setTimeout takes at most 2^31-1 ms; a day is far below it.
    this.timer = setTimeout(() => this.expire(), Math.max(0, soonest - this.now()) + 5);
    this.timer.unref();
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify({ version: 1, suspensions: [...this.byCamera.values()] } satisfies StoredDocument, null, 2));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
  }
}
