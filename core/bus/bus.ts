/**
 * The message bus that carries frames, camera state and events between flows, instances and edge devices.
 * The embedded aedes broker and an external MQTT broker both implement it; topic strings come from core/topics.
 */
export interface PublishOptions {
  retain?: boolean;
  qos?: 0 | 1;
}

export type BusHandler = (topic: string, payload: Buffer) => void;

export interface Bus {
  publish(topic: string, payload: Buffer | string, options?: PublishOptions): Promise<void>;
  /** Subscribes to an MQTT topic filter; the returned function unsubscribes. */
  subscribe(filter: string, handler: BusHandler): Promise<() => Promise<void>>;
}
