import {
  EventInputSchema,
  EventPatchSchema,
  EventValidationError,
  MAX_DATA_BYTES,
  validator,
  type EventBox,
  type EventInput,
  type EventPatch,
} from './event-schema';

export { EventValidationError, type EventBox, type EventInput, type EventPatch } from './event-schema';

/** The kinds Glimpser raises itself; other kinds may be added as long as they match EVENT_TYPE_PATTERN. */
export type KnownEventType = 'motion' | 'tamper' | 'capture_failure' | 'ai' | 'rule' | 'alert';

/** An event as the journal stores it. Times are milliseconds since the epoch. */
export interface StoredEvent {
  /** A ULID whose time part is startTime (see ./event-id.ts). */
  id: string;
  camera: string;
  type: KnownEventType | (string & {});
  subtype: string | null;
  startTime: number;
  /** null while the event lasts. */
  endTime: number | null;
  /** 0 to 1: how sure the detector is, or how much of the picture changed. */
  score: number;
  /** Where it happened, as fractions of the picture. */
  boxes: EventBox[];
  zones: string[];
  /** The snapshot's file, relative to the snapshots folder, or null when there is none. */
  snapshot: string | null;
  /** Kept events are never deleted by retention. */
  kept: boolean;
  /** Anything a later stage adds (an AI description, the rule that fired); merged by update(). */
  data: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

const checkInput = validator(EventInputSchema);
const checkPatch = validator(EventPatchSchema);

/** Checks an insert's input and fills in the defaults; throws an EventValidationError naming the field under `at`. */
export function normaliseInput(input: unknown, at = 'event'): Omit<StoredEvent, 'id' | 'snapshot' | 'createdAt' | 'updatedAt'> {
  const event: EventInput = checkInput(input, at);
  const endTime = event.endTime ?? null;
  if (endTime !== null && endTime < event.startTime)
    throw new EventValidationError(`${at}.endTime`, `a time at or after startTime (${event.startTime})`, endTime);
  const boxes = event.boxes ?? [];
  checkBoxes(boxes, `${at}.boxes`);
  const data = event.data ?? {};
  checkDataSize(data, `${at}.data`);
  return {
    camera: event.camera,
    type: event.type,
    subtype: event.subtype ?? null,
    startTime: event.startTime,
    endTime,
    score: event.score ?? 0,
    boxes,
    zones: event.zones ?? [],
    kept: event.kept ?? false,
    data,
  };
}

/** The event after a patch; data is merged as a JSON merge patch (RFC 7396: null removes a key). */
export function applyPatch(before: StoredEvent, patch: unknown, now: number): StoredEvent {
  const checked: EventPatch = checkPatch(patch, 'patch');
  const after: StoredEvent = { ...before, updatedAt: touchedAt(before, now) };
  if (checked.endTime !== undefined) {
    if (checked.endTime !== null && checked.endTime < before.startTime)
      throw new EventValidationError('patch.endTime', `a time at or after the event's startTime (${before.startTime})`, checked.endTime);
    after.endTime = checked.endTime;
  }
  if (checked.score !== undefined) after.score = checked.score;
  if (checked.boxes !== undefined) {
    checkBoxes(checked.boxes, 'patch.boxes');
    after.boxes = checked.boxes;
  }
  if (checked.zones !== undefined) after.zones = checked.zones;
  if (checked.data !== undefined) {
    after.data = mergePatch(before.data, checked.data);
    checkDataSize(after.data, 'patch.data');
  }
  if (checked.snapshot === null) after.snapshot = null;
  return after;
}

function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isPlainObject(value)) out[key] = mergePatch(isPlainObject(out[key]) ? out[key] : {}, value);
    else out[key] = value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Rounding in detectors can put a box edge a hair past 1; that much is accepted rather than failing an event.
const EDGE_TOLERANCE = 1e-9;

function checkBoxes(boxes: EventBox[], field: string): void {
  boxes.forEach((box, i) => {
    if (box.x + box.width > 1 + EDGE_TOLERANCE)
      throw new EventValidationError(`${field}[${i}]`, 'x + width at most 1 (the box must lie inside the picture)', box);
    if (box.y + box.height > 1 + EDGE_TOLERANCE)
      throw new EventValidationError(`${field}[${i}]`, 'y + height at most 1 (the box must lie inside the picture)', box);
  });
}

function checkDataSize(data: Record<string, unknown>, field: string): void {
  let json: string;
  try {
    json = JSON.stringify(data);
  } catch (err) {
    throw new EventValidationError(field, `a JSON object (${(err as Error).message})`, data);
  }
  if (Buffer.byteLength(json) > MAX_DATA_BYTES)
    throw new EventValidationError(field, `at most ${MAX_DATA_BYTES / 1024} KiB of JSON`, `${Buffer.byteLength(json)} bytes`);
}

/**
 * The updatedAt of a change: now, but always later than the last one, so that every change of an event moves its
 * updatedAt (two changes in one millisecond, such as an insert and its snapshot, are told apart by readers that key
 * on it — the API's event text cache).
 */
export function touchedAt(before: Pick<StoredEvent, 'updatedAt'>, now: number): number {
  return Math.max(now, before.updatedAt + 1);
}
