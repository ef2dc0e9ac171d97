/**
 * The messages that travel between Glimpser nodes: one TypeBox schema per kind gives the TypeScript type and the
 * runtime check a node runs on what arrives. The check and its error wording are in check.ts; each kind beside it.
 */
export { messageCheck, MessageError, type MessageCheck } from './check';
export { checkFrameMessage, FrameMessageSchema, FrameMetaSchema, type FrameMessage, type FrameMeta } from './frame';
