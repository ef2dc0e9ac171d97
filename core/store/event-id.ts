import { randomFillSync } from 'node:crypto';

/**
 * Event ids are ULIDs (https://github.com/ulid/spec): 10 characters of time, 16 of randomness, in Crockford's
 * base32. The time part is the event's start rather than the moment of writing, so ids sort like the events they
 * name, which keeps a list of ids readable and makes them a natural tie-break for events that start together.
 */
export const EVENT_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** The largest time a ULID can carry (year 10889); start times are validated against it. */
export const MAX_ID_TIME = 2 ** 48 - 1;

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_BYTES = 10;

// Filling a pool once per 409 ids is several times cheaper than a randomBytes() call per id, and ids are made
// at insert rates of tens of thousands a second in bursts.
const pool = Buffer.alloc(RANDOM_BYTES * 409);
let poolOffset = pool.length;

function randomPart(): string {
  if (poolOffset + RANDOM_BYTES > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let out = '';
  // Two groups of 5 bytes = 40 bits = 8 characters each.
  for (let group = 0; group < 2; group++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) bits = bits * 256 + pool[poolOffset++];
    for (let shift = 35; shift >= 0; shift -= 5) out += ALPHABET[Math.floor(bits / 2 ** shift) % 32];
  }
  return out;
}

export function eventId(time: number): string {
  if (!Number.isSafeInteger(time) || time < 0 || time > MAX_ID_TIME)
    throw new Error(`event id time ${time} is invalid: expected milliseconds from 0 to ${MAX_ID_TIME}`);
  let prefix = '';
  for (let rest = time, i = 0; i < 10; i++, rest = Math.floor(rest / 32)) prefix = ALPHABET[rest % 32] + prefix;
  return prefix + randomPart();
}

/** The time part of an id: the event's start time. */
export function eventIdTime(id: string): number {
  let time = 0;
  for (let i = 0; i < 10; i++) time = time * 32 + ALPHABET.indexOf(id[i]);
  return time;
}

export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID_PATTERN.test(value);
}
