/**
 * The frame message every Glimpser node passes on: `msg.payload` is the JPEG, `msg.frame` describes it.
 * Payload buffers are shared by Node-RED fan-out: never mutate one in place, always make a new Buffer.
 */
export interface FrameMeta {
  /** Camera id, as used in MQTT topics and the HTTP API ([a-z0-9_-]). */
  camera: string;
  /** Capture time, milliseconds since the Unix epoch. */
  timestamp: number;
  /** Per-camera frame counter, starting at 1 for each capture session. */
  sequence: number;
  width: number;
  height: number;
  /** Size of the JPEG in bytes. */
  bytes: number;
}

export interface Frame {
  jpeg: Buffer;
  meta: FrameMeta;
}

// A type alias rather than an interface, so it is assignable to Node-RED's index-signature message type.
export type FrameMessage = {
  payload: Buffer;
  frame: FrameMeta;
  topic?: string;
  _msgid?: string;
};

export function toFrameMessage(frame: Frame): FrameMessage {
  return { payload: frame.jpeg, frame: frame.meta, topic: `cameras/${frame.meta.camera}/frame` };
}
