import { isIPv6 } from 'node:net';

/**
 * The IPv4 address an IPv6 address stands for, where it embeds one that a network on the way may translate or
 * tunnel to: IPv4-mapped (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96), IPv4-compatible (::/96, deprecated but
 * still routed by some stacks), NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48, RFC 6052 and 8215), 6to4
 * (2002::/16) and Teredo (2001::/32, whose client address is stored inverted). A check that looks only at the IPv6
 * form lets `[::ffff:169.254.169.254]` through to the metadata service, so every check unwraps these first.
 */
export function embeddedIpv4(ip: string): string[] {
  const words = ipv6Words(ip);
  if (words === null) return [];
  const zeroes = (from: number, to: number): boolean => words.slice(from, to).every((word) => word === 0);
  const found: string[] = [];
  // ::/96 holds :: and ::1 themselves, which are IPv6 addresses in their own right, not IPv4 ones.
  if (zeroes(0, 6) && (words[6] !== 0 || words[7] > 1)) found.push(ipv4Of(words[6], words[7]));
  if (zeroes(0, 5) && words[5] === 0xffff) found.push(ipv4Of(words[6], words[7]));
  if (zeroes(0, 4) && words[4] === 0xffff && words[5] === 0) found.push(ipv4Of(words[6], words[7]));
  if (words[0] === 0x64 && words[1] === 0xff9b && zeroes(2, 6)) found.push(ipv4Of(words[6], words[7]));
  // The local-use NAT64 prefix may be any of RFC 6052's lengths from /48 on, and each puts the address elsewhere.
  if (words[0] === 0x64 && words[1] === 0xff9b && words[2] === 1) found.push(...rfc6052Candidates(words));
  if (words[0] === 0x2002) found.push(ipv4Of(words[1], words[2]));
  if (words[0] === 0x2001 && words[1] === 0) found.push(ipv4Of(words[2], words[3]), ipv4Of(words[6] ^ 0xffff, words[7] ^ 0xffff));
  return [...new Set(found)];
}

/** The eight 16-bit words of an IPv6 address (a zone index is ignored), or null for anything else. */
export function ipv6Words(ip: string): number[] | null {
  const address = ip.replace(/%.*$/, '');
  if (!isIPv6(address)) return null;
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((word) => parseInt(word, 16)));
  const front = parse(head);
  if (tail === null) return front;
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

function ipv4Of(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/**
 * RFC 6052 §2.2: the 32 bits follow the prefix, skipping bits 64-71, which are always zero. Where a length reads
 * 0.x.x.x it is the zero filler of another length, not an address, and is left out.
 */
function rfc6052Candidates(words: number[]): string[] {
  const bytes = words.flatMap((word) => [word >> 8, word & 0xff]);
  const found: string[] = [];
  for (const prefixBytes of [6, 7, 8, 12]) {
    const octets: number[] = [];
    for (let at = prefixBytes; octets.length < 4; at++) if (at !== 8) octets.push(bytes[at]);
    if (octets[0] !== 0) found.push(octets.join('.'));
  }
  return found;
}
