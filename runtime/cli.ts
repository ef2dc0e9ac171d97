#!/usr/bin/env node
import type { GlimpserRuntime } from './app';
import { ConfigError, loadConfig } from './config';
import { edgeMain } from './edge';
import { createLogger } from './logger';

// Before Express and Node-RED load (app.js is imported below): outside production Express' default error page
// shows stacks with install paths, and `npm start`, systemd or a shell may each leave NODE_ENV unset.
process.env.NODE_ENV = 'production';

// Before anything creates a file: the data directory holds password hashes, tokens, the credential key, Node-RED's
// sessions and the journal, and nothing else on the machine needs to read them. With this mask every file Glimpser,
// Node-RED, SQLite and ffmpeg create is 0600 and every directory 0700, without each writer asking for it.
process.umask(0o077);

/** `glimpser`: starts the runtime; SIGTERM/SIGINT stop it in reverse order and exit 0 within 10 s. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`glimpser: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  // Loaded here, not at the top, so `glimpser edge` on a small device does not load Node-RED.
  const { GlimpserRuntime: Runtime } = await import('./app.js');
  const runtime: GlimpserRuntime = new Runtime(config, log);
  let exiting = false;
  const shutdown = (signal: string) => {
    if (exiting) return;
    exiting = true;
    log.info({ signal }, 'stopping');
    const deadline = setTimeout(() => {
      log.error('stop took longer than 9 s; exiting anyway');
      process.exit(1);
    }, 9000);
    deadline.unref();
    runtime.stop().then(() => {
      log.flush();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await runtime.start();
  } catch (err) {
    log.error({ err: (err as Error).message }, 'glimpser failed to start');
    log.flush();
    process.exit(1);
  }
}

if (process.argv[2] === 'edge') edgeMain(process.argv.slice(3));
else void main();
