import { Writable } from 'node:stream';
import { createLogger, SecretScrubber } from '../../runtime/logger';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('the runtime logger', () => {
  it('writes structured JSON lines with the given fields', () => {
    const out = capture();
    const log = createLogger('info', new SecretScrubber(), out.stream);
    log.child({ component: 'broker' }).info({ clientId: 'c1' }, 'client connected');
    expect(out.lines()[0]).toMatchObject({ level: 30, service: 'glimpser', component: 'broker', clientId: 'c1', msg: 'client connected' });
  });

  it('redacts secret-named fields and every registered secret value, wherever it appears', () => {
    const out = capture();
    const scrubber = new SecretScrubber();
    scrubber.add('hunter2-password');
    const log = createLogger('debug', scrubber, out.stream);
    log.info({ password: 'whatever', nested: { token: 'abc' } }, 'login');
    log.warn({ url: 'rtsp://admin:hunter2-password@cam/stream' }, 'camera failed with hunter2-password');
    log.error({ err: new Error('bad hunter2-password') }, 'oops');
    const text = JSON.stringify(out.lines());
    expect(text).not.toContain('hunter2-password');
    expect(text).not.toContain('whatever');
    expect(text).not.toContain('"abc"');
    expect(out.lines()[1]).toMatchObject({ url: 'rtsp://admin:[REDACTED]@cam/stream', msg: 'camera failed with [REDACTED]' });
  });

  it('drops lines below the configured level', () => {
    const out = capture();
    const log = createLogger('warn', new SecretScrubber(), out.stream);
    log.info('not shown');
    log.warn('shown');
    expect(out.lines().map((l) => l.msg)).toEqual(['shown']);
  });
});
