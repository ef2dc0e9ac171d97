import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { embeddedIpv4, ipv6Words } from './ip-address';

/**
 * Which web addresses Glimpser may fetch or open in a browser. Only http(s); never link-local addresses or cloud
 * metadata endpoints (the classic server-side request forgery targets) unless an allow-list names the host.
 */
export interface UrlPolicy {
  /**
   * Hosts allowed even when they would be refused: a host name or IP literal allows every port ("169.254.10.2"),
   * host:port only that port ("127.0.0.1:8123", "[::1]:8123").
   */
  allowHosts?: string[];
  /**
   * Refuse loopback addresses (127.0.0.0/8, ::1) too. Off for cameras and webhooks, which often live on the same
   * machine; on for whatever a web page makes the browser load, since loopback there is Glimpser itself.
   */
  refuseLoopback?: boolean;
}

/** Why an address was refused, as a metric label: a small fixed set. */
export type RefusalKind = 'metadata' | 'link-local' | 'loopback' | 'unspecified';

export interface Refusal {
  kind: RefusalKind;
  /** For messages: "a link-local address (169.254.0.0/16, …)". */
  reason: string;
}

const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata', 'metadata.azure.com', 'instance-data', 'instance-data.ec2.internal']);

function ipv4Refusal(ip: string, policy: UrlPolicy): Refusal | null {
  const [a, b] = ip.split('.').map(Number);
  if (a === 169 && b === 254) return { kind: 'link-local', reason: 'a link-local address (169.254.0.0/16, where cloud metadata services live)' };
  if (ip === '100.100.100.200') return { kind: 'metadata', reason: 'a cloud metadata address' };
  if (a === 0) return { kind: 'unspecified', reason: 'an unspecified address (0.0.0.0/8)' };
  if (a === 127 && policy.refuseLoopback) return { kind: 'loopback', reason: 'a loopback address (127.0.0.0/8), this machine itself' };
  return null;
}

function ipv6Refusal(ip: string, policy: UrlPolicy): Refusal | null {
  const words = ipv6Words(ip) ?? [];
  const zeroUpTo = (to: number): boolean => words.slice(0, to).every((word) => word === 0);
  if ((words[0] & 0xffc0) === 0xfe80) return { kind: 'link-local', reason: 'a link-local address (fe80::/10)' };
  if (words[0] === 0xfd00 && words[1] === 0xec2) return { kind: 'metadata', reason: 'a cloud metadata address' };
  if (zeroUpTo(8)) return { kind: 'unspecified', reason: 'the unspecified address' };
  if (zeroUpTo(7) && words[7] === 1 && policy.refuseLoopback) return { kind: 'loopback', reason: 'the loopback address (::1), this machine itself' };
  for (const ipv4 of embeddedIpv4(ip)) {
    const refusal = ipv4Refusal(ipv4, policy);
    if (refusal) return { kind: refusal.kind, reason: `an IPv6 form of ${ipv4}, ${refusal.reason}` };
  }
  return null;
}

/** Why an IP address is refused, IPv6 forms that embed an IPv4 address included; null when it is not. */
export function addressRefusal(ip: string, policy: UrlPolicy = {}): Refusal | null {
  const family = isIP(ip.replace(/%.*$/, ''));
  if (family === 4) return ipv4Refusal(ip, policy);
  if (family === 6) return ipv6Refusal(ip, policy);
  return null;
}

export function blockedAddressReason(ip: string, policy: UrlPolicy = {}): string | null {
  return addressRefusal(ip, policy)?.reason ?? null;
}

/** The host as an IP literal or name: lower case, without IPv6 brackets. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/** The port a URL connects to, its scheme's default included. */
export function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80;
}

/** Whether an allow-list entry names this host (any port) or this host and port. */
export function isAllowListed(url: URL, policy: UrlPolicy): boolean {
  const host = bareHost(url);
  const hostPort = `${url.hostname.toLowerCase()}:${portOf(url)}`;
  return (policy.allowHosts ?? []).some((entry) => {
    const wanted = entry.trim().toLowerCase();
    return wanted === host || wanted === hostPort || wanted === `[${host}]`;
  });
}

/** Why the URL's host is refused on its face (a metadata name, a refused IP literal); null when it may be tried. */
export function hostRefusal(url: URL, policy: UrlPolicy = {}): Refusal | null {
  if (isAllowListed(url, policy)) return null;
  const host = bareHost(url);
  if (METADATA_HOSTS.has(host)) return { kind: 'metadata', reason: 'a cloud metadata service' };
  return addressRefusal(host, policy);
}

/** Checks the URL's form: parsable, http(s), a host, not a metadata name or a blocked IP literal. Returns the URL. */
export function checkWebUrl(raw: string, policy: UrlPolicy = {}, field = 'url'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${field} ${JSON.stringify(raw)} is not a valid URL: expected http:// or https://`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`${field} uses ${url.protocol.replace(':', '')}: only http:// and https:// pages can be captured`);
  const host = bareHost(url);
  if (!host) throw new Error(`${field} has no host`);
  const refusal = hostRefusal(url, policy);
  if (refusal) throw new Error(`${field} points at ${host}, ${refusal.reason}; add it to the allow-list if you really mean it`);
  return url;
}

/**
 * Like checkWebUrl, and also resolves the host name, refusing a name that resolves to a blocked address (so a DNS
 * name cannot smuggle in 169.254.169.254).
 */
export async function checkWebUrlResolved(raw: string, policy: UrlPolicy = {}, field = 'url'): Promise<URL> {
  const url = checkWebUrl(raw, policy, field);
  const host = bareHost(url);
  if (isIP(host) || isAllowListed(url, policy)) return url;
  const addresses = await lookup(host, { all: true }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${field}: cannot resolve ${host} (${err.code ?? err.message})`);
  });
  for (const { address } of addresses) {
    const reason = blockedAddressReason(address, policy);
    if (reason) throw new Error(`${field}: ${host} resolves to ${address}, ${reason}; add it to the allow-list if you really mean it`);
  }
  return url;
}
