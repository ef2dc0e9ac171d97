import { Type, type Static } from '@sinclair/typebox';
import { CAMERA_ID_EXPECTED, CAMERA_ID_PATTERN } from '../ids';
import { messageCheck } from './check';

/**
 * `msg.alert` as cap-alert sends it: a StoredAlert (core/alerts/index.ts), the CAP 1.2 alert as stored, which the
 * notify-* nodes enqueue for delivery. (Reconstructed by the cap-alert engineer after overwriting it by mistake:
 * check it against what your notifier expects.)
 */
export const StoredAlertSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, expected: 'the alert id (a ULID)' }),
    identifier: Type.String({ minLength: 1, expected: 'the CAP identifier (text)' }),
    msgType: Type.Union([Type.Literal('Alert'), Type.Literal('Update'), Type.Literal('Cancel')], { expected: '"Alert", "Update" or "Cancel"' }),
    references: Type.Union([Type.String(), Type.Null()], { expected: 'the referenced alerts (text) or null' }),
    eventId: Type.Union([Type.String(), Type.Null()], { expected: 'the journal event id or null' }),
    camera: Type.String({ pattern: CAMERA_ID_PATTERN.source, expected: CAMERA_ID_EXPECTED }),
    sent: Type.Number({ minimum: 0, expected: 'milliseconds since the epoch' }),
    headline: Type.String({ expected: 'the headline (text)' }),
    description: Type.String({ expected: 'the description (text)' }),
    severity: Type.Union([Type.Literal('Extreme'), Type.Literal('Severe'), Type.Literal('Moderate'), Type.Literal('Minor'), Type.Literal('Unknown')], {
      expected: 'a CAP severity: Extreme, Severe, Moderate, Minor or Unknown',
    }),
    capXml: Type.String({ minLength: 1, expected: 'the CAP 1.2 XML' }),
    snapshot: Type.Union([Type.Object({ path: Type.String(), bytes: Type.Number({ minimum: 0 }) }), Type.Null()], {
      expected: 'the snapshot {path, bytes} or null',
    }),
    snapshotMissing: Type.Union([Type.String(), Type.Null()], { expected: 'why there is no snapshot, or null' }),
    endAs: Type.Optional(Type.Union([Type.Literal('cancel'), Type.Literal('allclear')], { expected: 'how the event ends: cancel or allclear' })),
  },
  { expected: 'an alert from a cap-alert node' },
);

/** What a notify-* node takes in: msg.alert from cap-alert. */
export const AlertMessageSchema = Type.Object({ alert: StoredAlertSchema });

export type AlertMessage = Static<typeof AlertMessageSchema>;

export const checkAlertMessage = messageCheck(AlertMessageSchema, 'an alert from a cap-alert node');
