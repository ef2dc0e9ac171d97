/**
 * The messages that travel between Glimpser nodes: one TypeBox schema per kind gives the TypeScript type and the
 * runtime check a node runs on what arrives. The check and its error wording are in check.ts; each kind beside it.
 */
export { messageCheck, MessageError, type MessageCheck } from './check';
export { checkFrameMessage, FrameMessageSchema, FrameMetaSchema, type FrameMessage, type FrameMeta } from './frame';
export {
  checkEventMessage,
  checkLifecycleMessage,
  checkNewEventMessage,
  EventFieldsSchema,
  EventMessageSchema,
  LifecycleEventSchema,
  LifecycleMessageSchema,
  NewEventMessageSchema,
  type EventFields,
  type EventMessage,
  type LifecycleEvent,
  type LifecycleMessage,
} from './event';
export { checkGateMessage, GateMessageSchema, GateSchema, type Gate, type GateMessage } from './gate';
export {
  AiResultSchema,
  checkDescribeInput,
  checkSummaryInput,
  DescribedEventSchema,
  DescribeInputSchema,
  DescriptionSchema,
  SkippedSchema,
  SummaryInputSchema,
  type AiResult,
  type DescribedEvent,
  type DescribedMessage,
  type DescribeInput,
  type Description,
  type NotConfigured,
  type Severity,
  type Skipped,
  type SummaryInput,
  type TokenUsage,
} from './description';
export {
  checkMotionEventMessage,
  checkMotionMessage,
  MotionEventMessageSchema,
  MotionMessageSchema,
  MotionResultSchema,
  type MotionEventMessage,
  type MotionMessage,
} from './motion';
export { AlertMessageSchema, checkAlertMessage, StoredAlertSchema, type AlertMessage } from './alert';
export { AlertEventSchema, AlertInputSchema, checkAlertInput, type AlertEventFields, type AlertInput } from './alert-input';
