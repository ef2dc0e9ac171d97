import pino from 'pino';
import pinoPretty from 'pino-pretty';
import type { Logger } from '../core/log/logger';

/**
 * Structured JSON logs (pretty on a terminal). Two layers keep secrets out: pino's redaction of secret-named keys
 * wherever they sit, and a scrubber that replaces every registered secret value (admin password, credential
 * secret, camera passwords) wherever it appears in a message or a field.
 */
const REDACT_PATHS = ['password', 'pass', 'token', 'secret', 'authorization', 'credentialSecret', 'adminPassword', 'apiKey'].flatMap((k) => [
  k,
  `*.${k}`,
  `*.*.${k}`,
]);

export class SecretScrubber {
  private readonly secrets = new Set<string>();

  add(secret: string | undefined): void {
    if (secret && secret.length >= 4) this.secrets.add(secret);
  }

  scrub<T>(value: T): T {
    if (this.secrets.size === 0) return value;
    if (typeof value === 'string') {
      let out: string = value;
      for (const s of this.secrets) out = out.split(s).join('[REDACTED]');
      return out as T;
    }
    if (Array.isArray(value)) return value.map((v) => this.scrub(v)) as T;
    if (value && typeof value === 'object' && !Buffer.isBuffer(value) && !(value instanceof Error)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.scrub(v)])) as T;
    }
    if (value instanceof Error) {
      const copy = new Error(this.scrub(value.message));
      copy.stack = this.scrub(value.stack);
      return copy as T;
    }
    return value;
  }
}

export interface RuntimeLogger extends Logger {
  readonly scrubber: SecretScrubber;
  flush(): void;
}

export function createLogger(level: string, scrubber = new SecretScrubber(), destination?: NodeJS.WritableStream): RuntimeLogger {
  const stream = destination ?? (process.stdout.isTTY ? pinoPretty({ colorize: true, sync: true }) : pino.destination({ sync: true }));
  const base = pino(
    {
      level,
      base: { service: 'glimpser' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => scrubber.scrub(a)) as Parameters<typeof method>);
        },
      },
    },
    stream,
  );
  return wrap(base, scrubber);
}

function wrap(inner: pino.Logger, scrubber: SecretScrubber): RuntimeLogger {
  return {
    scrubber,
    error: inner.error.bind(inner),
    warn: inner.warn.bind(inner),
    info: inner.info.bind(inner),
    debug: inner.debug.bind(inner),
    child: (bindings) => wrap(inner.child(bindings), scrubber),
    flush: () => inner.flush(),
  };
}
