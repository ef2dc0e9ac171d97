import { Type, type Static, type TSchema } from '@sinclair/typebox';
import Ajv, { type ErrorObject } from 'ajv';
import { CAMERA_ID_EXPECTED, CAMERA_ID_PATTERN, ZONE_NAME_EXPECTED, ZONE_NAME_PATTERN } from '../ids';
import { MAX_ID_TIME } from './event-id';

/**
 * One TypeBox schema per input gives the TypeScript type and the runtime check. Each field carries an
 * `expected` text, so an error reads "event.score: expected a number from 0 to 1, got 7" instead of ajv's
 * "must be <= 1" with no hint of which value was meant.
 */
export const EVENT_TYPE_PATTERN = /^[a-z_]{1,32}$/;
export const MAX_BOXES = 100;
export const MAX_ZONES = 32;
export const MAX_DATA_BYTES = 64 * 1024;

const Camera = Type.String({ pattern: CAMERA_ID_PATTERN.source, expected: CAMERA_ID_EXPECTED });
const EventType = Type.String({
  pattern: EVENT_TYPE_PATTERN.source,
  expected: 'an event type: 1-32 characters of a-z or "_" (motion, tamper, capture_failure, ai, rule, alert, ...)',
});
// Free text (an AI label, a rule name), but never control characters, which would corrupt logs and CSV exports.
const Subtype = Type.String({ pattern: '^[^\\u0000-\\u001f\\u007f]{1,64}$', expected: 'a subtype: 1-64 characters, no control characters' });
const Time = Type.Integer({ minimum: 0, maximum: MAX_ID_TIME, expected: 'milliseconds since the epoch (a whole number from 0)' });
const EndTime = Type.Union([Time, Type.Null()], { expected: 'milliseconds since the epoch, or null while the event lasts' });
const Score = Type.Number({ minimum: 0, maximum: 1, expected: 'a number from 0 to 1' });
const Fraction = Type.Number({ minimum: 0, maximum: 1, expected: 'a fraction of the picture from 0 to 1' });
export const BoxSchema = Type.Object(
  { x: Fraction, y: Fraction, width: Fraction, height: Fraction },
  { additionalProperties: false, expected: 'a box {x, y, width, height}, each a fraction of the picture from 0 to 1' },
);
const Boxes = Type.Array(BoxSchema, { maxItems: MAX_BOXES, expected: `a list of at most ${MAX_BOXES} boxes` });
const Zone = Type.String({ pattern: ZONE_NAME_PATTERN.source, expected: ZONE_NAME_EXPECTED });
const Zones = Type.Array(Zone, { maxItems: MAX_ZONES, uniqueItems: true, expected: `a list of at most ${MAX_ZONES} different zone names` });
const Data = Type.Record(Type.String(), Type.Unknown(), { expected: 'a JSON object' });

export const EventInputSchema = Type.Object(
  {
    camera: Camera,
    type: EventType,
    subtype: Type.Optional(Type.Union([Subtype, Type.Null()], { expected: 'a subtype (1-64 characters, no control characters) or null' })),
    startTime: Time,
    endTime: Type.Optional(EndTime),
    score: Type.Optional(Score),
    boxes: Type.Optional(Boxes),
    zones: Type.Optional(Zones),
    kept: Type.Optional(Type.Boolean({ expected: 'true or false' })),
    data: Type.Optional(Data),
  },
  { additionalProperties: false, expected: 'an event object' },
);

// A snapshot is set only by saveSnapshot(), which writes the file too, so the field never names a file the
// journal did not write; a patch may only drop it.
export const EventPatchSchema = Type.Object(
  {
    endTime: Type.Optional(EndTime),
    score: Type.Optional(Score),
    boxes: Type.Optional(Boxes),
    zones: Type.Optional(Zones),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { expected: 'a JSON merge patch object (RFC 7396) for data' })),
    snapshot: Type.Optional(Type.Null({ expected: 'null (to drop the snapshot; saveSnapshot() sets one)' })),
  },
  { additionalProperties: false, minProperties: 1, expected: 'a patch with at least one of endTime, score, boxes, zones, data, snapshot' },
);

export type EventInput = Static<typeof EventInputSchema>;
export type EventPatch = Static<typeof EventPatchSchema>;
export type EventBox = Static<typeof BoxSchema>;

/** A rejected input; `field` names the value that was wrong, e.g. `event.boxes[1].width` or `cursor`. */
export class EventValidationError extends Error {
  constructor(
    readonly field: string,
    expected: string,
    got: unknown,
  ) {
    super(`${field}: expected ${expected}, got ${describeValue(got)}`);
    this.name = 'EventValidationError';
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') return `a ${typeof value}`;
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return 'a value that is not JSON';
  }
}

const ajv = new Ajv({ allErrors: false, verbose: true });
ajv.addVocabulary(['expected']);

/**
 * `/boxes/1/width` under `event` → `event.boxes[1].width`. Under the root '' fields are named bare (`from`), as
 * query parameters are; the root itself is then called `query`.
 */
function fieldOf(root: string, instancePath: string): string {
  return (
    instancePath
      .split('/')
      .slice(1)
      .reduce((field, part) => (/^\d+$/.test(part) ? `${field}[${part}]` : child(field, part)), root) || 'query'
  );
}

function child(field: string, name: string): string {
  return field === '' || field === 'query' ? name : `${field}.${name}`;
}

function toError(root: string, errors: ErrorObject[], input: unknown): EventValidationError {
  // Inside a union ajv reports each branch first and the union last; the union's `expected` covers them all.
  const error = errors[errors.length - 1];
  const field = fieldOf(root, error.instancePath);
  if (error.keyword === 'additionalProperties') {
    const name = String(error.params.additionalProperty);
    const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {}).join(', ');
    return new EventValidationError(child(field, name), `one of the known properties (${known})`, (error.data as Record<string, unknown>)[name]);
  }
  if (error.keyword === 'required')
    return new EventValidationError(
      child(field, String(error.params.missingProperty)),
      expectedOf(error.parentSchema, String(error.params.missingProperty)),
      undefined,
    );
  const expected = (error.parentSchema as { expected?: string } | undefined)?.expected ?? error.message ?? 'a valid value';
  return new EventValidationError(field, expected, error.instancePath === '' ? input : error.data);
}

function expectedOf(parent: unknown, property: string): string {
  const schema = (parent as { properties?: Record<string, { expected?: string }> }).properties?.[property];
  return schema?.expected ?? 'a value';
}

/**
 * Compiles a schema into a check that returns the typed value or throws an EventValidationError whose field
 * starts at `root` (`event`, `events[3]`, `patch`).
 */
export function validator<T extends TSchema>(schema: T): (value: unknown, root: string) => Static<T> {
  const check = ajv.compile<Static<T>>(schema);
  return (value: unknown, root: string) => {
    if (!check(value)) throw toError(root, check.errors ?? [], value);
    return value;
  };
}
