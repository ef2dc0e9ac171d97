import { Type, type Static } from '@sinclair/typebox';
import { messageCheck } from './check';

/** `msg.gate`: what a rule gate decided about the message and why (core/rules' Decision). */
export const GateSchema = Type.Object({
  passed: Type.Boolean({ expected: 'true when the message passed the gate, false when it was blocked' }),
  rule: Type.Union([Type.String(), Type.Null()], { expected: 'the name of the deciding rule, or null when the default decided' }),
  reason: Type.String({ expected: 'why, in words' }),
});

/** A message that left a rule gate: whatever came in, with the decision added. */
export const GateMessageSchema = Type.Object({ gate: GateSchema });

export type Gate = Static<typeof GateSchema>;
export type GateMessage = Static<typeof GateMessageSchema>;

export const checkGateMessage = messageCheck(GateMessageSchema, 'a message from a rule gate');
