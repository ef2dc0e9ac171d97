import type { EventEmitter } from 'node:events';

/** The first `event` whose value `matches`, or a rejection naming the event after `timeoutMs`; the listener is always removed. */
export function waitFor<T>(emitter: EventEmitter, event: string, matches: (value: T) => boolean, timeoutMs = 20000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no matching '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (value: T): void => {
      if (!matches(value)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(value);
    };
    emitter.on(event, listener);
  });
}
