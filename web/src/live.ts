import { signal } from '@preact/signals';
import { LIVE_KINDS, type LiveMessage } from '../../core/live';

type Kind = LiveMessage['kind'];
type Handler<K extends Kind> = (message: Extract<LiveMessage, { kind: K }>) => void;

/** Whether live updates flow: shown in the header, so a person knows the page is current. */
export const liveState = signal<'off' | 'connecting' | 'open'>('off');

const handlers = new Map<Kind, Set<(message: LiveMessage) => void>>();
let source: EventSource | null = null;
let resumeOnShow = false;

/**
 * Listens to one kind of live message while a view is shown; returns the function that stops listening (call it
 * from the effect's cleanup). EventSource reconnects by itself after a dropped connection.
 */
export function onLive<K extends Kind>(kind: K, handler: Handler<K>): () => void {
  let set = handlers.get(kind);
  if (!set) handlers.set(kind, (set = new Set()));
  const untyped = handler as unknown as (message: LiveMessage) => void;
  set.add(untyped);
  return () => set.delete(untyped);
}

/** Opens GET /api/live once signed in. */
export function startLive(): void {
  if (source) return;
  liveState.value = 'connecting';
  source = new EventSource('/api/live');
  source.onopen = () => {
    liveState.value = 'open';
  };
  source.onerror = () => {
    liveState.value = source?.readyState === EventSource.CLOSED ? 'off' : 'connecting';
  };
  for (const kind of LIVE_KINDS) {
    source.addEventListener(kind, (e) => {
      const message = JSON.parse((e as MessageEvent<string>).data) as LiveMessage;
      for (const handler of handlers.get(kind) ?? []) handler(message);
    });
  }
}

export function stopLive(): void {
  source?.close();
  source = null;
  liveState.value = 'off';
}

// A page kept in the back/forward cache would keep its stream open and hold one of the browser's six connections to
// this host: close it when the page is hidden, and open it again if the page comes back from that cache.
window.addEventListener('pagehide', () => {
  if (!source) return;
  source.close();
  source = null;
  resumeOnShow = true;
});
window.addEventListener('pageshow', (e) => {
  if (e.persisted && resumeOnShow) startLive();
  resumeOnShow = false;
});
