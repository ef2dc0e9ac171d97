import { createHash, randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { blockedAddressReason, type UrlPolicy } from '../net/url-policy';
import { redactUrl } from './input';

/**
 * Authenticated HTTP GETs of camera snapshot URLs: Basic (RFC 7617) and Digest (RFC 7616, qop=auth or the RFC 2069
 * form without qop). Cameras commonly answer the first request with 401 and a challenge; HttpAuthenticator keeps
 * what the last challenge said so later polls can authenticate without that extra round trip.
 */
export interface HttpCredentials {
  username: string;
  password: string;
}

/** One challenge of a WWW-Authenticate header; scheme and parameter names are lower-cased (they are case-insensitive). */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  /** 'auth' when the server offers it; null for the RFC 2069 form that has no qop at all. */
  qop: 'auth' | null;
  userhash: boolean;
}

export interface DigestRequest {
  method: string;
  /** The request-target exactly as sent on the request line (path and query). */
  uri: string;
  /** Nonce count: how many requests this nonce has been used for, this one included. */
  nc: number;
  cnonce: string;
}

const HASHES: Record<string, string> = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };
/** Stronger first (RFC 7616 §3.7: a client should pick the strongest algorithm it understands). */
const PREFERENCE: DigestAlgorithm[] = ['SHA-512-256', 'SHA-512-256-sess', 'SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
const PARAM = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*(?=\s*(,|$))/;

/**
 * Parses a WWW-Authenticate value (RFC 7235 §4.1), which may hold several challenges separated by commas, as
 * Node joins repeated headers. A parameter list ends where a token is not followed by "=": that token is the next
 * scheme. Line breaks count as spaces (obsolete line folding); malformed trailing text is ignored rather than
 * thrown, as servers do send sloppy headers.
 */
export function parseAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let rest = header;
  const skip = (pattern: RegExp) => {
    rest = rest.replace(pattern, '');
  };
  for (;;) {
    skip(/^[\s,]+/);
    const scheme = TOKEN.exec(rest)?.[0];
    if (scheme === undefined) return challenges;
    rest = rest.slice(scheme.length);
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    skip(/^\s+/);
    const token68 = TOKEN68.exec(rest)?.[0];
    if (token68 !== undefined) {
      challenge.params[''] = token68;
      rest = rest.slice(token68.length);
      continue;
    }
    for (;;) {
      const param = PARAM.exec(rest);
      if (param === null) break;
      rest = rest.slice(param[0].length);
      const value = readValue(rest);
      if (value === null) return challenges;
      challenge.params[param[1].toLowerCase()] = value.value;
      rest = rest.slice(value.length);
      skip(/^\s*,[\s,]*/);
    }
  }
}

function readValue(text: string): { value: string; length: number } | null {
  if (text.startsWith('"')) {
    let value = '';
    for (let i = 1; i < text.length; i++) {
      const char = text[i];
      if (char === '"') return { value, length: i + 1 };
      if (char === '\\' && i + 1 < text.length) i += 1;
      value += text[i];
    }
    return null;
  }
  const token = TOKEN.exec(text)?.[0];
  return token === undefined ? null : { value: token, length: token.length };
}

/** RFC 7617 §2 with charset=UTF-8 (§2.1), which is what cameras that say nothing about charset accept in practice. */
export function basicAuthorization(credentials: HttpCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

/** Reads a Digest challenge; returns why it cannot be answered instead when it asks for something unsupported. */
export function toDigestChallenge(challenge: AuthChallenge): DigestChallenge | string {
  const { params } = challenge;
  if (challenge.scheme !== 'digest') return `the ${challenge.scheme} scheme is not Digest`;
  if (params.realm === undefined || params.nonce === undefined) return 'the Digest challenge has no realm or nonce';
  const algorithm = PREFERENCE.find((name) => name.toLowerCase() === (params.algorithm ?? 'MD5').toLowerCase());
  if (algorithm === undefined) return `Digest algorithm ${params.algorithm} is not supported (MD5, SHA-256 and SHA-512-256 are)`;
  const offered = params.qop?.split(',').map((q) => q.trim().toLowerCase()) ?? null;
  if (offered !== null && !offered.includes('auth')) return `Digest qop="${params.qop}" is not supported (only qop=auth is)`;
  const digest: DigestChallenge = {
    realm: params.realm,
    nonce: params.nonce,
    algorithm,
    qop: offered === null ? null : 'auth',
    userhash: params.userhash?.toLowerCase() === 'true',
  };
  if (params.opaque !== undefined) digest.opaque = params.opaque;
  return digest;
}

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(HASHES[algorithm.replace(/-sess$/, '')])
    .update(text, 'utf8')
    .digest('hex');
}

/** The `response` value of RFC 7616 §3.4.1 (and §3.4.2 for the -sess algorithms). */
export function digestResponse(challenge: DigestChallenge, credentials: HttpCredentials, request: DigestRequest): string {
  const { algorithm, realm, nonce, qop } = challenge;
  let ha1 = hash(algorithm, `${credentials.username}:${realm}:${credentials.password}`);
  if (algorithm.endsWith('-sess')) ha1 = hash(algorithm, `${ha1}:${nonce}:${request.cnonce}`);
  const ha2 = hash(algorithm, `${request.method}:${request.uri}`);
  if (qop === null) return hash(algorithm, `${ha1}:${nonce}:${ha2}`);
  return hash(algorithm, `${ha1}:${nonce}:${ncText(request.nc)}:${request.cnonce}:${qop}:${ha2}`);
}

/** The whole Authorization header value answering `challenge` (RFC 7616 §3.4). */
export function digestAuthorization(challenge: DigestChallenge, credentials: HttpCredentials, request: DigestRequest): string {
  const { username } = credentials;
  const fields: string[] = [];
  if (challenge.userhash) fields.push(`username="${hash(challenge.algorithm, `${username}:${challenge.realm}`)}"`);
  // A name that a quoted-string cannot carry goes in username* (RFC 7616 §3.4.4, RFC 8187 encoding).
  else if (/[^\x20-\x7e]/.test(username)) fields.push(`username*=UTF-8''${encodeRfc8187(username)}`);
  else fields.push(`username=${quote(username)}`);
  fields.push(`realm=${quote(challenge.realm)}`, `uri=${quote(request.uri)}`, `algorithm=${challenge.algorithm}`, `nonce=${quote(challenge.nonce)}`);
  if (challenge.qop !== null) fields.push(`nc=${ncText(request.nc)}`, `cnonce=${quote(request.cnonce)}`, `qop=${challenge.qop}`);
  fields.push(`response="${digestResponse(challenge, credentials, request)}"`);
  if (challenge.opaque !== undefined) fields.push(`opaque=${quote(challenge.opaque)}`);
  if (challenge.userhash) fields.push('userhash=true');
  return `Digest ${fields.join(', ')}`;
}

function ncText(nc: number): string {
  return nc.toString(16).padStart(8, '0');
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function encodeRfc8187(value: string): string {
  return encodeURIComponent(value).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export type ChallengeVerdict = { retry: true } | { retry: false; reason: string };

/**
 * Answers a server's challenges for one URL. After the first 401 it remembers the scheme (and, for Digest, the
 * nonce with a running nonce count), so later requests authenticate up front; a stale or expired nonce costs one
 * more 401, after which the caller retries once.
 */
export class HttpAuthenticator {
  private basic = false;
  private digest: DigestChallenge | null = null;
  private nc = 0;

  constructor(
    private readonly credentials: HttpCredentials | undefined,
    private readonly cnonce = () => randomBytes(16).toString('hex'),
  ) {}

  /** The Authorization value for the next request, or undefined until a challenge has said which scheme to use. */
  header(method: string, uri: string): string | undefined {
    if (this.credentials === undefined) return undefined;
    if (this.digest !== null) {
      this.nc += 1;
      return digestAuthorization(this.digest, this.credentials, { method, uri, nc: this.nc, cnonce: this.cnonce() });
    }
    return this.basic ? basicAuthorization(this.credentials) : undefined;
  }

  /** Learns from the WWW-Authenticate values of a 401 response whether a retry with credentials can succeed. */
  challenge(headers: string[]): ChallengeVerdict {
    const challenges = headers.flatMap(parseAuthenticate);
    if (this.credentials === undefined) {
      return { retry: false, reason: 'the camera asks for a username and password and none is configured' };
    }
    const digests = challenges.filter((c) => c.scheme === 'digest').map(toDigestChallenge);
    const usable = digests.filter((d): d is DigestChallenge => typeof d !== 'string');
    usable.sort((a, b) => PREFERENCE.indexOf(a.algorithm) - PREFERENCE.indexOf(b.algorithm));
    if (usable.length > 0) {
      this.digest = usable[0];
      this.basic = false;
      this.nc = 0;
      return { retry: true };
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      this.digest = null;
      this.basic = true;
      return { retry: true };
    }
    const reasons = digests.filter((d): d is string => typeof d === 'string');
    const schemes = challenges.map((c) => c.scheme).join(', ') || 'none';
    return { retry: false, reason: `no supported authentication scheme offered (got ${schemes}${reasons.length > 0 ? `: ${reasons[0]}` : ''})` };
  }
}

export type FetchFailure = 'http' | 'timeout' | 'oversize';

export class FetchError extends Error {
  constructor(
    readonly kind: FetchFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface FetchedBody {
  /** The media type without parameters, lower-cased; '' when the server sent none. */
  contentType: string;
  body: Buffer;
}

export interface SnapshotClientOptions {
  /** Without user and password: those come in `credentials`. */
  url: URL;
  /** How the URL appears in error messages (secrets masked). */
  shown: string;
  credentials?: HttpCredentials;
  timeoutMs: number;
  maxBytes: number;
  urlPolicy?: UrlPolicy;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  challenges: string[];
  body: Buffer;
}

const ACCEPT = 'image/jpeg, image/png;q=0.9, image/webp;q=0.9, */*;q=0.1';

/**
 * GETs one camera URL over a single kept-alive connection (many cameras limit concurrent clients) with a deadline,
 * a body size limit enforced while the body streams in, authentication, and no redirects: a redirect target would
 * bypass the address checks made on the configured URL.
 */
export class SnapshotClient {
  private readonly auth: HttpAuthenticator;
  private readonly lookup: LookupFunction;
  private agent: http.Agent | null = null;
  private inFlight: http.ClientRequest | null = null;

  constructor(private readonly opts: SnapshotClientOptions) {
    this.auth = new HttpAuthenticator(opts.credentials);
    this.lookup = guardedLookup(opts.url.hostname, opts.urlPolicy);
  }

  /** One request, and one retry when a 401 brings a challenge that the configured credentials can answer. */
  async get(): Promise<FetchedBody> {
    const { url, shown } = this.opts;
    const target = `${url.pathname}${url.search}`;
    let reply = await this.request(this.auth.header('GET', target));
    if (reply.status === 401) {
      const verdict = this.auth.challenge(reply.challenges);
      if (!verdict.retry) throw new FetchError('http', `${shown} returned 401 Unauthorized: ${verdict.reason}`);
      reply = await this.request(this.auth.header('GET', target));
      if (reply.status === 401) throw new FetchError('http', `${shown} returned 401 Unauthorized: the camera refused the username and password`);
    }
    if (reply.status >= 300 && reply.status < 400) {
      const location = reply.headers.location === undefined ? '' : ` to ${redactUrl(reply.headers.location)}`;
      throw new FetchError('http', `${shown} returned ${reply.status} (a redirect${location}): configure the final snapshot URL`);
    }
    if (reply.status !== 200) throw new FetchError('http', `${shown} returned HTTP ${reply.status}, expected 200 with an image`);
    return { contentType: (reply.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase(), body: reply.body };
  }

  /** Aborts a request in flight and closes the kept-alive connection; the next get() opens a new one. */
  close(): void {
    // With an error, so the pending get() settles instead of hanging forever.
    this.inFlight?.destroy(new Error('closed'));
    this.inFlight = null;
    this.agent?.destroy();
    this.agent = null;
  }

  private request(authorization: string | undefined): Promise<Reply> {
    const { url, shown, maxBytes, timeoutMs } = this.opts;
    const secure = url.protocol === 'https:';
    this.agent ??= new (secure ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 });
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: ACCEPT, 'user-agent': 'glimpser' };
      if (authorization !== undefined) headers.authorization = authorization;
      const request = (secure ? https.get : http.get)(url, { headers, agent: this.agent ?? undefined, lookup: this.lookup });
      this.inFlight = request;
      const fail = (kind: FetchFailure, message: string) => {
        reject(new FetchError(kind, message));
        request.destroy();
      };
      const timer = setTimeout(() => fail('timeout', `${shown} did not answer within ${timeoutMs / 1000} s`), timeoutMs);
      request.on('close', () => clearTimeout(timer));
      request.on('error', (err: NodeJS.ErrnoException) => fail('http', `${shown} could not be fetched: ${err.code ?? err.message}`));
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        const reply = { status, headers: response.headers, challenges: response.headersDistinct['www-authenticate'] ?? [], body: Buffer.alloc(0) };
        if (status !== 200) {
          response.resume();
          response.on('end', () => resolve(reply));
          return;
        }
        const tooBig = (bytes: number) => fail('oversize', `${shown} sent ${formatBytes(bytes)} or more, over the ${formatBytes(maxBytes)} limit (maxBytes)`);
        const declared = Number(response.headers['content-length']);
        if (declared > maxBytes) return tooBig(declared);
        const chunks: Buffer[] = [];
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxBytes) return tooBig(received);
          chunks.push(chunk);
        });
        response.on('end', () => resolve({ ...reply, body: Buffer.concat(chunks, received) }));
        response.on('error', (err) => fail('http', `${shown} broke off the image: ${err.message}`));
      });
    });
  }
}

/**
 * Resolves as usual, then refuses a name that resolves to a blocked address, so DNS (or a rebinding attack) cannot
 * turn an allowed name into 169.254.169.254. The check runs on the addresses actually connected to.
 */
function guardedLookup(hostname: string, policy: UrlPolicy | undefined): LookupFunction {
  const allowed = policy?.allowHosts?.map((h) => h.toLowerCase()).includes(hostname.toLowerCase()) === true;
  return (host, options, callback) => {
    dnsLookup(host, options, (err, address, family) => {
      if (err === null && !allowed) {
        const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
        for (const ip of addresses) {
          const reason = blockedAddressReason(ip);
          if (reason !== null)
            return callback(new Error(`${host} resolves to ${ip}, ${reason}; add it to the allow-list if you really mean it`), address, family);
        }
      }
      callback(err, address, family);
    });
  };
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
