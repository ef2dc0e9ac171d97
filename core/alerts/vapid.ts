import webpush from 'web-push';

/** A VAPID key pair (RFC 8292), both base64url: the public key is the uncompressed P-256 point browsers subscribe with. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** Generated once per install (the runtime keeps them in secrets.json): changing them orphans every subscription. */
export function generateVapidKeys(): VapidKeys {
  const keys = webpush.generateVAPIDKeys();
  return { publicKey: keys.publicKey, privateKey: keys.privateKey };
}

/** Whether a stored value is a usable key pair (65-byte public point, 32-byte private scalar). */
export function isVapidKeys(value: unknown): value is VapidKeys {
  if (!value || typeof value !== 'object') return false;
  const { publicKey, privateKey } = value as Record<string, unknown>;
  return (
    typeof publicKey === 'string' &&
    typeof privateKey === 'string' &&
    Buffer.from(publicKey, 'base64url').length === 65 &&
    Buffer.from(privateKey, 'base64url').length === 32
  );
}

const MAILBOX = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]{2,}$/;
const RESERVED_HOSTS = /(^|\.)(localhost|example|invalid|test|local)$|^(example\.(com|net|org))$/i;

/**
 * Checks a VAPID subject (RFC 8292 §2.1): a contact the push service can reach, as a `mailto:` address or an
 * `https:` URL. Apple's push service refuses anything else (and localhost or reserved names), so a wrong subject
 * is caught here, named, before any delivery. Returns the subject trimmed; throws saying what was expected.
 */
export function checkVapidSubject(subject: string): string {
  const value = subject.trim();
  const expected = 'expected a mailto: address (mailto:alerts@your-domain) or an https: URL of your site';
  if (!value) throw new Error(`VAPID subject is empty: ${expected}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`VAPID subject "${value}" is not a URL: ${expected}`);
  }
  if (url.protocol === 'mailto:') {
    const address = decodeURIComponent(url.pathname);
    if (!MAILBOX.test(address)) throw new Error(`VAPID subject "${value}" is not a real mail address: ${expected}`);
    const domain = address.slice(address.lastIndexOf('@') + 1);
    if (RESERVED_HOSTS.test(domain)) throw new Error(`VAPID subject "${value}" uses a reserved domain (${domain}): ${expected}`);
    return value;
  }
  if (url.protocol === 'https:') {
    if (!url.hostname.includes('.') || RESERVED_HOSTS.test(url.hostname) || /^[\d.]+$|^\[/.test(url.hostname))
      throw new Error(`VAPID subject "${value}" names no public host: ${expected}`);
    return value;
  }
  throw new Error(`VAPID subject "${value}" uses ${url.protocol}: ${expected}`);
}
