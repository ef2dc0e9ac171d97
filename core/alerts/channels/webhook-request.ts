import { createHmac, randomBytes } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { blockedAddressReason } from '../../net/url-policy';

/**
 * The parts of a webhook request that are not about alerts: the Standard Webhooks signature
 * (https://www.standardwebhooks.com, "Signature scheme"), the secret's form, the custom headers a user may add, and
 * a DNS lookup that refuses blocked addresses at connect time (so a name cannot resolve to 169.254.169.254 between
 * the policy check and the connection).
 */
export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` and 32 random bytes in base64 (the spec asks for 24 to 64 bytes). */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The secret's key bytes, or an error naming the credential; the secret itself is never part of the message. */
export function webhookKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.length < 24 || key.length > 64)
    throw new Error('secret: expected "whsec_" followed by 24 to 64 bytes in base64 (leave it empty and Glimpser makes one)');
  return key;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` (Standard Webhooks, "Signature scheme"). */
export function signWebhook(key: Buffer, id: string, timestampSeconds: number, body: Buffer): string {
  const hmac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body);
  return `v1,${hmac.digest('base64')}`;
}

/** Headers Glimpser writes itself: the signature's, and those that frame the request. */
const RESERVED = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);
/** RFC 9110 §5.1 token. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 §5.5 field value, visible ASCII with spaces and tabs: no CR, LF or NUL (no header injection). */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
const MAX_HEADERS = 20;

/**
 * Reads the custom headers setting, one `Name: value` per line, refusing what could split the request (CR/LF),
 * override the signature, or put a secret into the flow file (Authorization belongs in the credentials).
 */
export function parseWebhookHeaders(text: string, field = 'headers'): Record<string, string> {
  const headers: Record<string, string> = {};
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${field} line ${i + 1}`;
    const colon = line.indexOf(':');
    if (colon < 0) throw new Error(`${where}: expected "Name: value", got ${JSON.stringify(line.slice(0, 40))}`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) throw new Error(`${where}: ${JSON.stringify(name)} is not a header name (expected letters, digits and !#$%&'*+-.^_\`|~)`);
    if (!HEADER_VALUE.test(value) || value.length > 1024)
      throw new Error(`${where}: the value of ${name} must be at most 1024 printable ASCII characters, without line breaks`);
    if (RESERVED.has(lower)) throw new Error(`${where}: ${name} is written by Glimpser itself and cannot be set`);
    if (SECRET_HEADERS.has(lower)) throw new Error(`${where}: ${name} would keep a secret in the flow file; put it in the Authorization credential`);
    if (lower in headers) throw new Error(`${where}: ${name} is set twice`);
    headers[lower] = value;
  });
  if (Object.keys(headers).length > MAX_HEADERS) throw new Error(`${field}: at most ${MAX_HEADERS} headers`);
  return headers;
}

/** An Authorization credential as a header value, or an error naming it (the value itself is never shown). */
export function checkAuthorization(value: string): string {
  if (!HEADER_VALUE.test(value) || value.length > 4096) throw new Error('authorization: expected printable ASCII without line breaks, at most 4096 characters');
  return value;
}

/** Thrown by the guarded lookup: the name resolved to an address the URL policy refuses. */
export class BlockedAddressError extends Error {}

/** A DNS lookup for http.request that refuses a name resolving to a blocked address, checked when connecting. */
export function guardedLookup(field: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      for (const { address } of addresses) {
        const reason = blockedAddressReason(address);
        if (reason)
          return callback(
            new BlockedAddressError(`${field}: ${hostname} resolves to ${address}, ${reason}; add it to the allow-list if you really mean it`),
            '',
            0,
          );
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
