import WebSocket from 'ws';

interface PausedRequest {
  requestId: string;
  request: { url: string; headers: Record<string, string> };
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: PausedRequest;
  error?: { message?: string };
}

/**
 * Sends basic auth to the configured page's origin (scheme, host and port) and nowhere else: not to its frames,
 * images or scripts from other origins, nor to where it redirects. Requests to that origin are paused through
 * DevTools' Fetch domain and continued with an Authorization header, which works for https as well as http (a proxy
 * sees only a TLS tunnel). DevTools drops such an added header on redirect hops; a hop back to the origin is paused
 * and gets it again. Requests of windows or out-of-process frames this tab opens are not paused, so they go without.
 */
export class OriginAuth {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  private constructor(
    private readonly socket: WebSocket,
    private readonly origin: string,
    private readonly authorization: string,
  ) {
    socket.on('message', (data: WebSocket.RawData) => this.onMessage(data));
  }

  /** Connects to the tab and starts pausing; call before navigating so the first request gets the header. */
  static async open(
    debuggerAddress: string,
    targetId: string,
    page: URL,
    credentials: { username: string; password: string },
    timeoutMs: number,
  ): Promise<OriginAuth> {
    if (debuggerAddress === '') throw new Error("basicAuth needs Chromium's DevTools address, which chromedriver did not report");
    const socket = new WebSocket(`ws://${debuggerAddress}/devtools/page/${targetId}`, { handshakeTimeout: timeoutMs });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', (err) => reject(new Error(`basicAuth could not attach to the page: ${err.message}`)));
    });
    const token = Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64');
    const auth = new OriginAuth(socket, page.origin, `Basic ${token}`);
    // The pattern narrows what is paused; onMessage checks the origin again, exactly, before adding anything.
    await auth.command('Fetch.enable', { patterns: [{ urlPattern: `${page.origin}/*`, requestStage: 'Request' }] }, timeoutMs);
    return auth;
  }

  close(): void {
    this.socket.terminate();
  }

  private command(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`DevTools did not answer ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  private onMessage(data: WebSocket.RawData): void {
    const message = JSON.parse(data.toString()) as CdpMessage;
    if (message.id !== undefined) {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(`DevTools refused a command: ${message.error.message ?? 'unknown error'}`));
      else waiter?.resolve();
      return;
    }
    if (message.method !== 'Fetch.requestPaused' || message.params === undefined) return;
    const { requestId, request } = message.params;
    const params: Record<string, unknown> = { requestId };
    if (sameOrigin(request.url, this.origin)) {
      const headers = Object.entries(request.headers).map(([name, value]) => ({ name, value }));
      // A page that sets its own Authorization (an API token) keeps it.
      if (!headers.some(({ name }) => name.toLowerCase() === 'authorization')) headers.push({ name: 'Authorization', value: this.authorization });
      params.headers = headers;
    }
    // A tab closing under us fails these; the request dies with the tab anyway.
    this.command('Fetch.continueRequest', params, 10000).catch(() => undefined);
  }
}

function sameOrigin(raw: string, origin: string): boolean {
  try {
    return new URL(raw).origin === origin;
  } catch {
    return false;
  }
}
