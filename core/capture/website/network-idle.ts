import WebSocket from 'ws';
import { shortUrl } from './options';

interface CdpMessage {
  id?: number;
  method?: string;
  params?: { requestId?: string; request?: { url?: string } };
  error?: { message?: string };
}

/**
 * Counts a tab's requests in flight from DevTools Network events. chromedriver relays commands but not events,
 * so this opens its own DevTools connection to the tab (a chromedriver window handle is the DevTools target id).
 */
export class NetworkIdleWatcher {
  private readonly inFlight = new Map<string, string>();
  private lastChange = performance.now();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => this.onMessage(data));
  }

  /** Connects and turns Network events on; call before navigating so the first request is seen. */
  static async open(debuggerAddress: string, targetId: string, timeoutMs: number): Promise<NetworkIdleWatcher> {
    if (debuggerAddress === '') throw new Error("networkIdle needs Chromium's DevTools address, which chromedriver did not report");
    const socket = new WebSocket(`ws://${debuggerAddress}/devtools/page/${targetId}`, { handshakeTimeout: timeoutMs });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', (err) => reject(new Error(`networkIdle could not listen to the page: ${err.message}`)));
    });
    const watcher = new NetworkIdleWatcher(socket);
    await watcher.command('Network.enable', timeoutMs);
    return watcher;
  }

  /** Resolves once no request has been in flight for `quietMs`; fails after `timeoutMs` naming one still open. */
  async idle(quietMs: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const now = performance.now();
      if (this.inFlight.size === 0 && now - this.lastChange >= quietMs) return;
      if (now >= deadline) {
        const open = [...this.inFlight.values()];
        const example = open.length > 0 ? `, e.g. ${shortUrl(open[0])}` : '';
        throw new Error(`network did not go idle within ${timeoutMs} ms (${open.length} request(s) still open${example})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  close(): void {
    this.socket.terminate();
  }

  private command(method: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`DevTools did not answer ${method} within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (data: WebSocket.RawData): void => {
        const message = JSON.parse(data.toString()) as CdpMessage;
        if (message.id !== 1) return;
        clearTimeout(timer);
        this.socket.off('message', onMessage);
        if (message.error) reject(new Error(`DevTools refused ${method}: ${message.error.message ?? 'unknown error'}`));
        else resolve();
      };
      this.socket.on('message', onMessage);
      this.socket.send(JSON.stringify({ id: 1, method, params: {} }));
    });
  }

  private onMessage(data: WebSocket.RawData): void {
    const { method, params } = JSON.parse(data.toString()) as CdpMessage;
    const requestId = params?.requestId;
    if (requestId === undefined) return;
    // A redirect is sent again under the same id, so a map keyed by id counts it once.
    if (method === 'Network.requestWillBeSent') this.inFlight.set(requestId, params?.request?.url ?? '');
    else if (method === 'Network.loadingFinished' || method === 'Network.loadingFailed') this.inFlight.delete(requestId);
    else return;
    this.lastChange = performance.now();
  }
}
