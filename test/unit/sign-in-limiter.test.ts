import { metrics } from '../../core/metrics';
import { SignInLimiter } from '../../runtime/auth/limiter';
import type { SignInTicket } from '../../runtime/auth/sign-in-gate';

/** The limiter on a clock the test moves: no sleeps, no timing in the assertions. */
function limiterAt(start = 1_000_000, maxEntries?: number) {
  const clock = { now: start };
  return { clock, limiter: new SignInLimiter({ now: () => clock.now, maxEntries }) };
}

function fail(ticket: SignInTicket): void {
  if (!ticket.ok) throw new Error(`expected an allowed attempt, got a refusal: ${ticket.reason}`);
  ticket.finish(false);
}

describe('SignInLimiter', () => {
  it('counts an attempt when it begins, so concurrent guesses wait for none of the hashes (finding 2)', () => {
    const { limiter } = limiterAt();
    const first = limiter.begin('alice', '10.0.0.1', 'http');
    // The first hash is still running: the second guess for the same pair is refused at once.
    const second = limiter.begin('alice', '10.0.0.1', 'http');
    expect(first.ok).toBe(true);
    expect(second).toEqual({ ok: false, retryAfterMs: 1000, reason: '1 failed sign-ins per second for this username from this address' });
  });

  it('limits a pair to 1/s, 5/min and 20/h, saying which limit and when to retry', () => {
    const { clock, limiter } = limiterAt();
    for (let i = 0; i < 5; i += 1) {
      fail(limiter.begin('alice', '10.0.0.1', 'mqtt'));
      clock.now += 1000;
    }
    const refused = limiter.begin('alice', '10.0.0.1', 'mqtt');
    expect(refused).toMatchObject({ ok: false, reason: '5 failed sign-ins per minute for this username from this address' });
    // The oldest of the five began 5 s ago, so it leaves the minute in 55 s.
    expect(!refused.ok && refused.retryAfterMs).toBe(55_000);
    clock.now += 55_000;
    expect(limiter.begin('alice', '10.0.0.1', 'mqtt').ok).toBe(true);
  });

  it('refuses past 20 failures an hour even when they are spread out', () => {
    const { clock, limiter } = limiterAt();
    for (let i = 0; i < 20; i += 1) {
      fail(limiter.begin('alice', '10.0.0.1', 'http'));
      clock.now += 61_000;
    }
    expect(limiter.begin('alice', '10.0.0.1', 'http')).toMatchObject({ ok: false, reason: expect.stringContaining('20 failed sign-ins per hour') });
  });

  it('never refuses the same username from another address, nor another username from the failing address', () => {
    const { limiter } = limiterAt();
    fail(limiter.begin('alice', '10.0.0.1', 'http'));
    expect(limiter.begin('alice', '10.0.0.1', 'http').ok).toBe(false);
    expect(limiter.begin('alice', '10.0.0.2', 'http').ok).toBe(true);
    expect(limiter.begin('bob', '10.0.0.1', 'http').ok).toBe(true);
  });

  it('limits one address spraying many usernames', () => {
    const { limiter } = limiterAt();
    for (let i = 0; i < 5; i += 1) fail(limiter.begin(`user${i}`, '10.0.0.9', 'http'));
    expect(limiter.begin('user99', '10.0.0.9', 'http')).toMatchObject({ ok: false, reason: '5 failed sign-ins per second from this address' });
    expect(limiter.begin('user99', '10.0.0.8', 'http').ok).toBe(true);
  });

  it('clears the pair on success', () => {
    const { clock, limiter } = limiterAt();
    for (let i = 0; i < 4; i += 1) {
      fail(limiter.begin('alice', '10.0.0.1', 'editor'));
      clock.now += 1000;
    }
    const good = limiter.begin('alice', '10.0.0.1', 'editor');
    if (!good.ok) throw new Error(good.reason);
    good.finish(true);
    for (let i = 0; i < 4; i += 1) {
      clock.now += 1000;
      fail(limiter.begin('alice', '10.0.0.1', 'editor'));
    }
    clock.now += 1000;
    expect(limiter.begin('alice', '10.0.0.1', 'editor').ok).toBe(true);
  });

  it('counts bad tokens (no username) on their own: they never limit password sign-in (finding 4)', () => {
    const { limiter } = limiterAt();
    for (let i = 0; i < 30; i += 1) {
      const ticket = limiter.begin('', '10.0.0.1', 'http');
      fail(ticket);
    }
    expect(limiter.begin('', '10.0.0.1', 'http')).toMatchObject({
      ok: false,
      reason: '30 failed sign-ins per minute with bearer tokens or API keys from this address',
    });
    expect(limiter.begin('alice', '10.0.0.1', 'http').ok).toBe(true);
  });

  it('takes back a valid token’s reservation, so a busy client with a good token is never limited', () => {
    const { limiter } = limiterAt();
    for (let i = 0; i < 1000; i += 1) {
      const ticket = limiter.begin('', '10.0.0.1', 'http');
      if (!ticket.ok) throw new Error(ticket.reason);
      ticket.finish(true);
    }
    expect(limiter.begin('', '10.0.0.1', 'http').ok).toBe(true);
  });

  it('bounds its memory: past maxEntries the least recently touched key is forgotten', () => {
    const { limiter } = limiterAt(1_000_000, 100);
    for (let i = 0; i < 1000; i += 1) fail(limiter.begin('alice', `10.1.${i >> 8}.${i & 255}`, 'mqtt'));
    expect(limiter.size).toBeLessThanOrEqual(100);
  });

  it('counts refusals in glimpser_sign_in_refusals_total by channel and limit', async () => {
    const { limiter } = limiterAt();
    const before = (await metrics.signInRefusalsTotal.get()).values.find((v) => v.labels.channel === 'mqtt' && v.labels.scope === 'user')?.value ?? 0;
    fail(limiter.begin('carol', '10.0.0.3', 'mqtt'));
    limiter.begin('carol', '10.0.0.3', 'mqtt');
    const after = (await metrics.signInRefusalsTotal.get()).values.find((v) => v.labels.channel === 'mqtt' && v.labels.scope === 'user')?.value ?? 0;
    expect(after - before).toBe(1);
  });
});
