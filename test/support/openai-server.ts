import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jpegDimensions } from '../../core/frames/jpeg';

/** What the server answers to one request; unscripted requests get `ok` with the default description. */
export type ScriptedReply =
  | { kind: 'ok'; reply?: Record<string, unknown>; usage?: { prompt: number; completion: number } }
  | { kind: 'content'; content: string }
  | { kind: 'refusal'; refusal: string }
  | { kind: 'status'; status: number; headers?: Record<string, string>; message?: string }
  | { kind: 'slow'; delayMs: number; then?: ScriptedReply };

export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: { model: string; response_format?: { type: string }; messages: Array<{ role: string; content: unknown }> };
  system: string;
  /** The user prompt's text part. */
  user: string;
  /** The image part, decoded from its data: URL. */
  image: { url: string; mime: string; jpeg: Buffer; width: number; height: number } | null;
}

export const DEFAULT_REPLY = {
  caption: 'A person walks up the driveway',
  description: 'One adult in a dark coat walks towards the front door carrying a parcel.',
  tags: ['person', 'package'],
  severity: 'medium',
  confidence: 0.82,
};

/**
 * A loopback stand-in for an OpenAI-compatible server, speaking the Chat Completions wire format (POST
 * /v1/chat/completions, the `chat.completion` object with choices and usage) so the real openai SDK can talk to it.
 * It records every request and answers from a script, one reply per request.
 */
export class OpenAIServer {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: ScriptedReply[] = [];
  private counter = 0;
  private readonly delays = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  /** The most requests this server has held open at once: what a client's concurrency limit is judged by. */
  peakInFlight = 0;

  private constructor(
    private readonly server: Server,
    readonly baseURL: string,
  ) {}

  static async start(): Promise<OpenAIServer> {
    let instance: OpenAIServer | null = null;
    const server = createServer((req, res) => void instance!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    instance = new OpenAIServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`);
    return instance;
  }

  /** Queues replies for the next requests, in order. */
  script(...replies: ScriptedReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  async close(): Promise<void> {
    for (const timer of this.delays) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight += 1;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    res.once('close', () => (this.inFlight -= 1));
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return this.error(res, 404, `no route ${req.method} ${req.url}`);
    let body: RecordedRequest['body'];
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedRequest['body'];
    } catch {
      return this.error(res, 400, 'request body is not JSON');
    }
    this.requests.push(record(req, body));
    await this.answer(res, body.model, this.queue.shift() ?? { kind: 'ok' });
  }

  private async answer(res: ServerResponse, model: string, reply: ScriptedReply): Promise<void> {
    switch (reply.kind) {
      case 'slow':
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.delays.delete(timer);
            resolve();
          }, reply.delayMs);
          this.delays.add(timer);
        });
        if (res.destroyed || res.socket?.destroyed) return;
        return this.answer(res, model, reply.then ?? { kind: 'ok' });
      case 'status':
        return this.error(res, reply.status, reply.message ?? `scripted HTTP ${reply.status}`, reply.headers);
      case 'refusal':
        return this.completion(res, model, { role: 'assistant', content: null, refusal: reply.refusal }, { prompt: 120, completion: 8 });
      case 'content':
        return this.completion(res, model, { role: 'assistant', content: reply.content, refusal: null }, { prompt: 120, completion: 20 });
      case 'ok':
        return this.completion(
          res,
          model,
          { role: 'assistant', content: JSON.stringify({ ...DEFAULT_REPLY, ...reply.reply }), refusal: null },
          reply.usage ?? { prompt: 1000, completion: 60 },
        );
    }
  }

  private completion(
    res: ServerResponse,
    model: string,
    message: { role: string; content: string | null; refusal: string | null },
    usage: { prompt: number; completion: number },
  ): void {
    const body = {
      id: `chatcmpl-test${++this.counter}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion },
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private error(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    const type = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ error: { message, type, param: null, code: type } }));
  }
}

function record(req: IncomingMessage, body: RecordedRequest['body']): RecordedRequest {
  const text = (content: unknown): string =>
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content
            .filter((p: { type?: string }) => p.type === 'text')
            .map((p: { text?: string }) => p.text ?? '')
            .join('\n')
        : '';
  const system = text(body.messages.find((m) => m.role === 'system')?.content);
  const userMessage = body.messages.find((m) => m.role === 'user');
  const parts = Array.isArray(userMessage?.content) ? (userMessage.content as Array<{ type: string; image_url?: { url: string } }>) : [];
  const url = parts.find((p) => p.type === 'image_url')?.image_url?.url ?? null;
  let image: RecordedRequest['image'] = null;
  const match = url ? /^data:([^;]+);base64,(.*)$/s.exec(url) : null;
  if (url && match) {
    const jpeg = Buffer.from(match[2], 'base64');
    const size = jpegDimensions(jpeg) ?? { width: 0, height: 0 };
    image = { url, mime: match[1], jpeg, ...size };
  }
  return { path: req.url ?? '', authorization: req.headers.authorization, body, system, user: text(userMessage?.content), image };
}
