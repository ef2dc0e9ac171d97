import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { silentLogger, type Logger } from '../log/logger';
import { metrics } from '../metrics';
import { addressRefusal, bareHost, hostRefusal, isAllowListed, portOf, type UrlPolicy } from './url-policy';

/** What the browser may reach during one capture. */
export interface ProxyRules {
  /** The configured page: its host and port may be a loopback address, which is refused for every other target. */
  origin: URL;
  allowHosts: string[];
}

/** Resolves a host name to every address it has; tests map names onto loopback with it. */
export type LookupAll = (host: string) => Promise<string[]>;

export interface PolicyProxyOptions {
  logger?: Logger;
  lookup?: LookupAll;
}

type Verdict = { address: string } | { refused: string; reason: string; status: number };

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const MAX_LOGGED_URL = 200;

const systemLookup: LookupAll = async (host) => (await dnsLookup(host, { all: true })).map((entry) => entry.address);

/**
 * An HTTP forward proxy on loopback that a website-capture browser sends every request through: navigations,
 * redirect hops, frames, subresources, fetch and WebSockets (plain HTTP as absolute-form requests, TLS and WebSockets
 * as CONNECT tunnels). Each target is checked against the URL policy, its name resolved here and every address checked,
 * and the connection made to exactly the checked address, so Chromium never resolves a name itself and a DNS answer
 * cannot change between the check and the connection. With no capture under way every request is refused.
 */
export class PolicyProxy {
  private rules: ProxyRules | null = null;
  private readonly sockets = new Set<Socket | Duplex>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly log: Logger;
  private readonly lookup: LookupAll;

  private constructor(
    private readonly server: http.Server,
    options: PolicyProxyOptions,
  ) {
    this.log = options.logger ?? silentLogger;
    this.lookup = options.lookup ?? systemLookup;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.forward(req, res));
    // Chromium sends WebSockets through CONNECT too. With no 'upgrade' listener Node hands an Upgrade request to
    // 'request', where the Upgrade header is dropped as hop-by-hop: checked like any request, never tunnelled.
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.tunnel(req, socket, head));
    server.on('connection', (socket: Socket) => this.track(socket));
  }

  static async start(options: PolicyProxyOptions = {}): Promise<PolicyProxy> {
    const server = http.createServer();
    const proxy = new PolicyProxy(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** For Chromium's --proxy-server. */
  get url(): string {
    const { port } = this.server.address() as net.AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Sets what the capture under way may reach; null (between captures) refuses everything. */
  setRules(rules: ProxyRules | null): void {
    this.rules = rules;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
    await closed;
  }

  /** The policy's answer for one target: the address to connect to, or why not. */
  async check(target: URL): Promise<Verdict> {
    const rules = this.rules;
    if (rules === null) return { refused: 'idle', reason: 'no capture is under way', status: 403 };
    const policy = policyFor(target, rules);
    const host = bareHost(target);
    const refusal = hostRefusal(target, policy);
    if (refusal) return { refused: refusal.kind, reason: `${host} is ${refusal.reason}`, status: 403 };
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : await this.lookup(host);
    } catch (err) {
      return { refused: 'unresolvable', reason: `cannot resolve ${host} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, status: 502 };
    }
    if (addresses.length === 0) return { refused: 'unresolvable', reason: `${host} has no address`, status: 502 };
    if (!isAllowListed(target, policy)) {
      for (const address of addresses) {
        const bad = addressRefusal(address, policy);
        if (bad) return { refused: bad.kind, reason: `${host} resolves to ${address}, ${bad.reason}`, status: 403 };
      }
    }
    return { address: addresses[0] };
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = parseTarget(req.url ?? '', false);
    if (target === null || target.protocol !== 'http:') {
      this.refuse(req.url ?? '', { refused: 'scheme', reason: 'expected an absolute http:// URL', status: 400 }, (status, text) => plain(res, status, text));
      return;
    }
    const verdict = await this.check(target);
    if (!('address' in verdict)) {
      this.refuse(target.href, verdict, (status, text) => plain(res, status, text));
      return;
    }
    const upstream = http.request({
      host: verdict.address,
      port: portOf(target),
      method: req.method,
      path: target.pathname + target.search,
      headers: endToEnd(req.headers),
      agent: this.agent,
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (res.headersSent) res.destroy();
      else plain(res, 502, `Glimpser's proxy could not reach ${shortTarget(target.href)}: ${err.message}`);
    });
    // A request the browser gave up on (a tab closed, a capture timed out) stops holding the server's connection.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  /** CONNECT (TLS, WebSockets): checked, then bytes relayed both ways. */
  private async tunnel(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    this.track(client);
    client.on('error', () => client.destroy());
    const target = parseTarget(req.url ?? '', true);
    const answer = (status: number, text: string): void => {
      client.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
      );
    };
    if (target === null) {
      this.refuse(req.url ?? '', { refused: 'scheme', reason: 'expected host:port', status: 400 }, answer);
      return;
    }
    const verdict = await this.check(target);
    if (!('address' in verdict)) {
      this.refuse(target.href, verdict, answer);
      return;
    }
    const upstream = net.connect(portOf(target), verdict.address);
    this.track(upstream);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', (err) => {
      if (upstream.bytesRead === 0 && upstream.bytesWritten === 0 && !client.destroyed)
        answer(502, `Glimpser's proxy could not reach ${target.host}: ${err.message}`);
      else client.destroy();
    });
    client.on('close', () => upstream.destroy());
  }

  private refuse(raw: string, verdict: Exclude<Verdict, { address: string }>, answer: (status: number, text: string) => void): void {
    const url = shortTarget(raw);
    if (verdict.status === 403 || verdict.status === 400) {
      metrics.websiteRequestsRefusedTotal.inc({ reason: verdict.refused });
      // Between captures only Chromium's own background requests arrive: counted, but not worth a warning each.
      const level = verdict.refused === 'idle' ? 'debug' : 'warn';
      this.log[level]({ url, reason: verdict.refused, detail: verdict.reason.slice(0, MAX_LOGGED_URL) }, 'website request refused by the URL policy');
    } else {
      this.log.debug({ url, detail: verdict.reason.slice(0, MAX_LOGGED_URL) }, 'website request failed in the policy proxy');
    }
    answer(
      verdict.status,
      verdict.status === 502 ? `Glimpser's proxy could not reach ${url}: ${verdict.reason}` : `Glimpser's URL policy refused ${url}: ${verdict.reason}`,
    );
  }

  private track(socket: Socket | Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}

/**
 * The URL policy for one target of a capture: loopback is refused except at the configured page's own host and port
 * (a dashboard on this machine that the admin chose), since anywhere else it is Glimpser, its broker or the browser's
 * own DevTools port. The scheme is not compared: a CONNECT tunnel does not say which one it carries.
 */
export function policyFor(target: URL, rules: ProxyRules): UrlPolicy {
  const sameHostPort = bareHost(target) === bareHost(rules.origin) && portOf(target) === portOf(rules.origin);
  return { allowHosts: rules.allowHosts, refuseLoopback: !sameHostPort };
}

/** An absolute http(s)/ws URL, or for CONNECT a host:port authority (read as an http URL with that port). */
function parseTarget(raw: string, authority: boolean): URL | null {
  try {
    if (!authority) return new URL(raw);
    if (!/^(\[[0-9a-f:.]+\]|[^\s/?#@[\]]+):\d+$/i.test(raw)) return null;
    // An explicit :80 vanishes from an http URL, which portOf reads back as 80 all the same.
    return new URL(`http://${raw}`);
  } catch {
    return null;
  }
}

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set((typeof headers.connection === 'string' ? headers.connection : '').split(',').map((name) => name.trim().toLowerCase()));
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !named.has(name)));
}

/** Origin and path only, bounded: query strings often carry tokens, and a page chooses these URLs. */
function shortTarget(raw: string): string {
  try {
    const url = new URL(raw);
    return (url.origin === 'null' ? raw : url.origin + url.pathname).slice(0, MAX_LOGGED_URL);
  } catch {
    return raw.slice(0, MAX_LOGGED_URL);
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
