import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * Which web addresses Glimpser may fetch or open in a browser. Only http(s); never link-local addresses or cloud
 * metadata endpoints (the classic server-side request forgery targets) unless an allow-list names the host.
 */
export interface UrlPolicy {
  /** Host names or IP literals that are allowed even when they would be refused (e.g. "169.254.10.2"). */
  allowHosts?: string[];
}

const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata', 'metadata.azure.com', 'instance-data', 'instance-data.ec2.internal']);

function ipv4Blocked(ip: string): string | null {
  const [a, b] = ip.split('.').map(Number);
  if (a === 169 && b === 254) return 'a link-local address (169.254.0.0/16, where cloud metadata services live)';
  if (a === 100 && b === 100 && ip === '100.100.100.200') return 'a cloud metadata address';
  if (a === 0) return 'an unspecified address (0.0.0.0/8)';
  return null;
}

function ipv6Blocked(ip: string): string | null {
  const lower = ip.toLowerCase();
  if (/^fe[89ab][0-9a-f]:/.test(lower)) return 'a link-local address (fe80::/10)';
  if (lower.startsWith('fd00:ec2::')) return 'a cloud metadata address';
  if (lower === '::') return 'the unspecified address';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped ? ipv4Blocked(mapped[1]) : null;
}

export function blockedAddressReason(ip: string): string | null {
  const family = isIP(ip);
  if (family === 4) return ipv4Blocked(ip);
  if (family === 6) return ipv6Blocked(ip);
  return null;
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
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!host) throw new Error(`${field} has no host`);
  if (policy.allowHosts?.map((h) => h.toLowerCase()).includes(host)) return url;
  if (METADATA_HOSTS.has(host)) throw new Error(`${field} points at ${host}, a cloud metadata service; add it to the allow-list if you really mean it`);
  const reason = blockedAddressReason(host);
  if (reason) throw new Error(`${field} points at ${host}, ${reason}; add it to the allow-list if you really mean it`);
  return url;
}

/**
 * Like checkWebUrl, and also resolves the host name, refusing a name that resolves to a blocked address (so a DNS
 * name cannot smuggle in 169.254.169.254).
 */
export async function checkWebUrlResolved(raw: string, policy: UrlPolicy = {}, field = 'url'): Promise<URL> {
  const url = checkWebUrl(raw, policy, field);
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(host) || policy.allowHosts?.map((h) => h.toLowerCase()).includes(host)) return url;
  const addresses = await lookup(host, { all: true }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${field}: cannot resolve ${host} (${err.code ?? err.message})`);
  });
  for (const { address } of addresses) {
    const reason = blockedAddressReason(address);
    if (reason) throw new Error(`${field}: ${host} resolves to ${address}, ${reason}; add it to the allow-list if you really mean it`);
  }
  return url;
}
