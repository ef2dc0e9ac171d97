import { Type, type TObject, type TProperties } from '@sinclair/typebox';
import { CAMERA_ID_EXPECTED, CAMERA_ID_PATTERN } from '../../core/ids';

/** Schemas the API's declarations share: ids, listing parameters and the shapes answers reuse. */

export const CameraId = Type.String({ pattern: CAMERA_ID_PATTERN.source, expected: CAMERA_ID_EXPECTED, description: `The camera: ${CAMERA_ID_EXPECTED}.` });
export const IsoTime = Type.String({ format: 'date-time' });
export const Millis = Type.Integer({ description: 'Milliseconds since the Unix epoch.' });

export const KeepBody = Type.Object(
  { keep: Type.Boolean({ description: 'true keeps it from retention; false lets retention delete it again.' }) },
  { additionalProperties: false },
);

/** The parameters every journal-style listing reads the same way (runtime/api/query.ts checks them). */
export function listQuery(maxLimit: number, defaultLimit: number, extra: TProperties = {}): TObject {
  return Type.Object(
    {
      ...extra,
      from: Type.Optional(Type.String({ description: 'ISO 8601 (a date, or a date-time with a zone) or milliseconds; inclusive.' })),
      to: Type.Optional(Type.String({ description: 'ISO 8601 (a date, or a date-time with a zone) or milliseconds; exclusive.' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: maxLimit, default: defaultLimit, description: 'Page size.' })),
      cursor: Type.Optional(Type.String({ description: 'The `next` of the previous page.' })),
    },
    { additionalProperties: false },
  );
}

export const NextCursor = Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' });

export const EventSchema = Type.Object(
  {
    id: Type.String(),
    camera: Type.String(),
    type: Type.String(),
    subtype: Type.Union([Type.String(), Type.Null()]),
    startTime: IsoTime,
    startTimeMs: Millis,
    endTime: Type.Union([IsoTime, Type.Null()]),
    endTimeMs: Type.Union([Millis, Type.Null()]),
    score: Type.Number(),
    boxes: Type.Array(Type.Object({ x: Type.Number(), y: Type.Number(), width: Type.Number(), height: Type.Number() }), {
      description: 'Fractions of the picture.',
    }),
    zones: Type.Array(Type.String()),
    hasSnapshot: Type.Boolean(),
    kept: Type.Boolean(),
    data: Type.Record(Type.String(), Type.Unknown()),
    createdAt: IsoTime,
    createdAtMs: Millis,
    updatedAt: IsoTime,
    updatedAtMs: Millis,
    snapshotUrl: Type.Union([Type.String(), Type.Null()]),
  },
  { description: 'A journal event.' },
);

export const DeliverySchema = Type.Object(
  {
    id: Type.String(),
    alertId: Type.String(),
    channel: Type.String(),
    notifier: Type.String(),
    target: Type.String(),
    idempotencyKey: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]),
    attempts: Type.Integer(),
    nextAttemptAt: Millis,
    leaseUntil: Type.Union([Millis, Type.Null()]),
    lastError: Type.Union([Type.String(), Type.Null()]),
    createdAt: Millis,
    deliveredAt: Type.Union([Millis, Type.Null()]),
  },
  { additionalProperties: true, description: 'One notifier target of an alert, as the outbox stores it.' },
);

export const AlertSchema = Type.Object(
  {
    id: Type.String(),
    identifier: Type.String(),
    msgType: Type.String(),
    references: Type.Union([Type.String(), Type.Null()]),
    eventId: Type.Union([Type.String(), Type.Null()]),
    camera: Type.String(),
    sent: IsoTime,
    sentMs: Millis,
    headline: Type.String(),
    description: Type.String(),
    severity: Type.String(),
    snapshot: Type.Union([Type.Object({ path: Type.String(), bytes: Type.Integer() }), Type.Null()]),
    snapshotMissing: Type.Union([Type.String(), Type.Null()]),
    capUrl: Type.String(),
    deliveries: Type.Optional(Type.Object({ pending: Type.Integer(), delivered: Type.Integer(), dead: Type.Integer() }, { description: 'In listings.' })),
  },
  { additionalProperties: true, description: 'A stored CAP alert, without its XML (served at capUrl).' },
);

export const JpegResponse = { description: 'The JPEG.', contentType: 'image/jpeg', schema: Type.String({ contentMediaType: 'image/jpeg' }) };
