import { randomInt } from 'node:crypto';
import { isoTime } from '../../core/store/iso-time';

/** isoTime must be exactly Date.prototype.toISOString, only faster (bench/api): checked across days, years and signs. */
describe('isoTime', () => {
  it('writes what toISOString writes', () => {
    const cases = [
      0,
      1,
      999,
      1000,
      86_399_999,
      86_400_000,
      -1,
      -86_400_000,
      -86_400_001,
      Date.UTC(2026, 2, 29, 1, 0, 0),
      Date.UTC(2028, 1, 29, 23, 59, 59, 999),
    ];
    for (let i = 0; i < 20_000; i++) cases.push(randomInt(-62_000_000_000_000, 200_000_000_000_000));
    // In order and out of order, so the one-day cache is both hit and missed.
    for (const ms of [...cases, ...cases.slice().sort((a, b) => a - b)]) expect({ ms, iso: isoTime(ms) }).toEqual({ ms, iso: new Date(ms).toISOString() });
  });

  it('falls back to toISOString for a time with a fraction of a millisecond, and throws like it for an invalid one', () => {
    expect(isoTime(1.5)).toBe(new Date(1.5).toISOString());
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
