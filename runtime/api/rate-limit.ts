import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Logger } from '../../core/log/logger';
import { metrics } from '../../core/metrics';
import { HttpError } from './errors';

/** Requests per minute a signed-in caller may make to /api: per API key, and per client address for everyone else. */
export interface RequestLimits {
  perKeyPerMinute: number;
  perAddressPerMinute: number;
}

const MINUTE = 60_000;

/** Whose budget a request spends: its API key's, or its address's (req.ip: `trustProxy` decides what that is). */
function bucketOf(req: Request): { key: string; kind: 'key' | 'address' } {
  const keyId = req.user?.via === 'key' ? req.user.keyId : undefined;
  // IPv6 clients are counted per /56, as one customer gets a whole prefix: one address each would be no limit.
  return keyId ? { key: `key:${keyId}`, kind: 'key' } : { key: `address:${ipKeyGenerator(req.ip ?? 'unknown')}`, kind: 'address' };
}

/**
 * The API's request limits, after sign-in (so a key's requests count against the key wherever they come from), with
 * the IETF RateLimit and RateLimit-Policy headers (draft-ietf-httpapi-ratelimit-headers-08) on every answer and a
 * 429 problem with Retry-After past the limit. Counters live in memory for the current minute only.
 */
export function requestLimiter(limits: RequestLimits, log: Logger): RequestHandler {
  const limiter = (kind: 'key' | 'address', limit: number) =>
    rateLimit({
      windowMs: MINUTE,
      limit,
      identifier: kind === 'key' ? 'per-key' : 'per-address',
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: (req) => bucketOf(req).key,
      // X-Forwarded-For and trust proxy are Glimpser's own setting (trustProxy); req.ip already follows it.
      validate: { xForwardedForHeader: false, trustProxy: false },
      handler: (req, _res, next, options) => {
        const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
        const seconds = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + MINUTE) - Date.now()) / 1000));
        metrics.apiRequestsLimitedTotal.inc({ scope: kind });
        log.info({ scope: kind, user: req.user?.username, path: req.path.slice(0, 200) }, 'API request over its limit');
        next(
          new HttpError(
            429,
            'too_many_requests',
            `more than ${options.limit} requests per minute ${kind === 'key' ? 'with this API key' : 'from this address'}`,
            {
              'Retry-After': String(seconds),
            },
          ),
        );
      },
    });
  const perKey = limiter('key', limits.perKeyPerMinute);
  const perAddress = limiter('address', limits.perAddressPerMinute);
  return (req, res, next) => (bucketOf(req).kind === 'key' ? perKey : perAddress)(req, res, next);
}
