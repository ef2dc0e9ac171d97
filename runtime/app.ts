import { mkdir, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Express } from 'express';
import { collectDefaultMetrics, register } from 'prom-client';
import { closeInterruptedEvents } from '../core/alerts/interrupted';
import { openAlertService, type AlertServiceHandle } from '../core/alerts/service';
import { SuspensionMqtt } from '../core/alerts/suspend-mqtt';
import { FrameArchive } from '../core/archive/frame-archive';
import { BrowserPoolLease } from '../core/capture/browser-lease';
import { CameraRegistry } from '../core/capture/registry';
import { AiProviderRegistry } from '../core/describe/registry';
import { JobStateMqtt } from '../core/jobs/mqtt';
import { Scheduler } from '../core/jobs/scheduler';
import { JobStore } from '../core/jobs/store';
import { MediaLinks } from '../core/alerts/media-links';
import { metrics } from '../core/metrics';
import { CaptureFailureRecorder } from '../core/store/capture-failures';
import { EventPublisher } from '../core/store/event-publisher';
import { LiveFeed } from '../core/live-feed';
import { EventJournal } from '../core/store/journal';
import { topics } from '../core/topics';
import { buildNodeRedSettings } from '../settings';
import { MjpegStreams } from './api/mjpeg';
import { openPushHandles, type PushHandles } from './api/push';
import { apiRouter } from './api/router';
import { docsRouter } from './api/docs';
import { webAppRouter } from './web/app-router';
import { SignInLimiter } from './auth/limiter';
import { Authenticator } from './auth/middleware';
import { TokenSigner } from './auth/tokens';
import { EmbeddedBroker } from './broker';
import type { Config } from './config';
import { clientAddress, closeRoutes, createHttp, listen } from './http';
import type { RuntimeLogger } from './logger';
import { EmbeddedNodeRed, seedDefaultFlows } from './node-red';
import { Readiness } from './readiness';
import { ApiKeyStore } from './stores/api-keys';
import { secureDataDir } from './stores/data-dir';
import { loadSecrets } from './stores/secrets';
import { UserStore } from './stores/users';
import { registerSystemJobs } from './system-jobs';
import { versions } from './version';

interface Phase {
  name: string;
  start(): Promise<void>;
  stop?(): Promise<void>;
}

export interface RuntimeAddresses {
  httpPort: number;
  mqttPort: number;
}

/**
 * One Glimpser process: named start phases (stores → broker → alerts → jobs → http → node-red → ready) and one stop() that undoes
 * the phases that started, in reverse.
 */
export class GlimpserRuntime {
  readonly readiness = new Readiness();
  readonly cameras = new CameraRegistry();
  /** The glimpser-ai providers the flows deploy, for POST /api/ai/analyze. */
  readonly aiProviders = new AiProviderRegistry();
  private readonly users: UserStore;
  private readonly keys: ApiKeyStore;
  /** One sign-in limit for HTTP, the editor and the broker. */
  readonly signInGate = new SignInLimiter();
  private broker: EmbeddedBroker | null = null;
  private archive: FrameArchive | null = null;
  private browsers: BrowserPoolLease | null = null;
  private journal: EventJournal | null = null;
  private publisher: EventPublisher | null = null;
  private failures: CaptureFailureRecorder | null = null;
  private push: PushHandles | null = null;
  /** Signs the snapshot links in MMS and webhooks, checked by GET /api/media/…; made from secrets.json at start. */
  private mediaLinks: MediaLinks | undefined;
  private alerts: AlertServiceHandle | null = null;
  private suspendMqtt: SuspensionMqtt | null = null;
  private jobStore: JobStore | null = null;
  private scheduler: Scheduler | null = null;
  private jobMqtt: JobStateMqtt | null = null;
  private http: { app: Express; server: Server } | null = null;
  /** What GET /api/live sends the web app; opened with the http phase, after every part it hears from. */
  private live: LiveFeed | null = null;
  private readonly nodeRed = new EmbeddedNodeRed();
  private stopEditorRevocation: (() => void) | null = null;
  private readonly started: Phase[] = [];
  private stopping: Promise<void> | null = null;
  readonly addresses: RuntimeAddresses = { httpPort: 0, mqttPort: 0 };

  constructor(
    private readonly config: Config,
    private readonly log: RuntimeLogger,
  ) {
    this.users = new UserStore(config.dataDir);
    this.keys = new ApiKeyStore(config.dataDir, { creators: (username) => this.users.get(username) });
    log.scrubber.add(config.adminPassword);
    log.scrubber.add(config.credentialSecret);
  }

  private phases(): Phase[] {
    const { config, log } = this;
    let credentialSecret = '';
    let tokens: TokenSigner | null = null;
    let auth: Authenticator | null = null;
    return [
      {
        name: 'stores',
        start: async () => {
          await secureDataDir(config.dataDir, log);
          await mkdir(config.mediaDir, { recursive: true });
          const secrets = await loadSecrets(config.dataDir, config.credentialSecret);
          log.scrubber.add(secrets.credentialSecret);
          log.scrubber.add(secrets.tokenSecret);
          credentialSecret = secrets.credentialSecret;
          tokens = new TokenSigner(secrets.tokenSecret, config.tokenTtlSeconds);
          log.scrubber.add(secrets.vapid.privateKey);
          this.push = openPushHandles(config.dataDir, secrets.vapid);
          log.scrubber.add(secrets.mediaLinkSecret);
          this.mediaLinks = new MediaLinks(secrets.mediaLinkSecret);
          await this.users.open();
          await this.keys.open();
          auth = new Authenticator(this.users, tokens, { keys: this.keys, gate: this.signInGate, log: log.child({ component: 'auth' }) });
          const seed = await this.users.ensureAdmin(config.adminPassword);
          if (seed.generatedPassword) await this.announceGeneratedPassword(seed.generatedPassword);
          else if (seed.created) log.info({ username: 'admin' }, 'admin user created with the password from GLIMPSER_ADMIN_PASSWORD');
          this.archive = new FrameArchive({
            dataDir: config.dataDir,
            maxFramesPerCamera: config.archiveMaxFramesPerCamera,
            maxAgeMs: config.archiveMaxAgeDays * 86400000,
            maxTotalBytes: Math.round(config.archiveMaxMegabytes * 1048576),
            // Timed retention is the `retention.archive` job (runtime/system-jobs.ts); the check after each add stays.
            enforceEveryMs: null,
            logger: log.child({ component: 'archive' }),
          });
          await this.archive.open();
          this.journal = new EventJournal({
            dataDir: config.dataDir,
            maxAgeDays: config.eventsMaxAgeDays,
            maxBytes: Math.round(config.eventsMaxMegabytes * 1048576),
            synchronous: config.eventsSynchronous,
            // Timed retention is the `retention.journal` job (runtime/system-jobs.ts); the passes after writes stay.
            enforceEveryMs: null,
            logger: log.child({ component: 'journal' }),
          });
          this.journal.open();
          this.readiness.set('stores', () => true);
        },
        stop: async () => {
          await this.journal?.close();
          await this.archive?.close();
          await this.keys.flush();
          await this.users.flush();
        },
      },
      {
        name: 'broker',
        start: async () => {
          const broker = await EmbeddedBroker.create(this.users, log.child({ component: 'broker' }), undefined, {
            signInGate: this.signInGate,
            verifyKey: (secret) => this.keys.verify(secret),
            onKeyRevoked: (listener) => this.keys.onRevoked(listener),
            keyExpiresAt: (keyId) => {
              const expiresAt = this.keys.get(keyId)?.expiresAt;
              return expiresAt ? Date.parse(expiresAt) : null;
            },
          });
          this.broker = broker;
          this.addresses.mqttPort = await broker.listenTcp(config.mqttHost, config.mqttPort);
          await broker.publish(topics.available, 'online', { retain: true, qos: 1 });
          if (this.journal) {
            this.publisher = new EventPublisher({ bus: broker, journal: this.journal, logger: log.child({ component: 'events' }) });
            this.failures = new CaptureFailureRecorder(broker, this.journal, log.child({ component: 'events' }));
            await this.failures.start();
          }
          this.readiness.set('broker', () => broker.listening);
        },
        stop: async () => {
          await this.failures?.stop();
          await this.publisher?.close();
          if (!this.broker) return;
          await this.broker.publish(topics.available, 'offline', { retain: true, qos: 1 });
          await this.broker.close();
          this.broker = null;
        },
      },
      {
        // After the broker so new alerts go out on glimpser/alerts; stopped after Node-RED, whose nodes enqueue.
        name: 'alerts',
        start: async () => {
          this.alerts = openAlertService({ dataDir: config.dataDir, logger: log, bus: this.broker ?? undefined });
          if (this.broker) {
            this.suspendMqtt = new SuspensionMqtt({ bus: this.broker, suspensions: this.alerts.suspensions, logger: log });
            await this.suspendMqtt.start();
          }
          // Before Node-RED raises new events: whatever is open now, the last run left open when it died.
          if (this.journal) await closeInterruptedEvents(this.journal, this.alerts, { logger: log.child({ component: 'alerts' }) });
        },
        stop: async () => {
          await this.suspendMqtt?.stop();
          this.suspendMqtt = null;
          await this.alerts?.close();
          this.alerts = null;
        },
      },
      {
        // Before HTTP and Node-RED, which list and register jobs; stopped after Node-RED, whose nodes unregister theirs.
        name: 'jobs',
        start: async () => {
          this.jobStore = JobStore.open(config.dataDir);
          this.scheduler = new Scheduler({ store: this.jobStore, logger: log.child({ component: 'jobs' }) });
          if (this.broker) {
            this.jobMqtt = new JobStateMqtt({ bus: this.broker, scheduler: this.scheduler, logger: log });
            await this.jobMqtt.start();
          }
          registerSystemJobs(this.scheduler, { journal: this.journal ?? undefined, archive: this.archive ?? undefined, alerts: this.alerts ?? undefined });
        },
        stop: async () => {
          await this.scheduler?.close();
          await this.jobMqtt?.stop();
          this.jobStore?.close();
          this.scheduler = null;
          this.jobMqtt = null;
          this.jobStore = null;
        },
      },
      {
        name: 'http',
        start: async () => {
          const http = createHttp({
            readiness: this.readiness,
            auth: auth!,
            metricsAuth: config.metricsAuth,
            trustProxy: config.trustProxy,
            corsOrigins: config.corsOrigins,
          });
          const apiLog = log.child({ component: 'api' });
          const streams = new MjpegStreams({ maxClientsPerCamera: config.streamMaxClientsPerCamera, log: apiLog });
          const live = new LiveFeed({ journal: this.journal ?? undefined, alerts: this.alerts ?? undefined, logger: apiLog });
          this.live = live;
          if (this.broker) await live.watchCameras(this.broker);
          http.app.use(
            '/api',
            apiRouter({
              users: this.users,
              keys: this.keys,
              auth: auth!,
              config,
              cameras: this.cameras,
              ai: this.aiProviders,
              archive: this.archive ?? undefined,
              journal: this.journal ?? undefined,
              mediaLinks: this.mediaLinks,
              push: this.push ?? undefined,
              alerts: this.alerts ?? undefined,
              jobs: this.scheduler && this.jobStore ? { scheduler: this.scheduler, store: this.jobStore } : undefined,
              sources: {
                flows: () => this.nodeRed.flows,
                // A test capture runs outside the flows: its own registry, the shared browser pool (made with Node-RED).
                handles: () => ({
                  cameras: new CameraRegistry(),
                  ffmpegPath: config.ffmpegPath,
                  mediaDir: config.mediaDir,
                  browsers: this.browsers ?? new BrowserPoolLease(),
                  logger: apiLog.child({ component: 'sources' }),
                }),
              },
              streams,
              maxStreamClientsPerCamera: config.streamMaxClientsPerCamera,
              live,
              log: apiLog,
            }),
          );
          http.app.use('/docs', docsRouter(auth!));
          http.app.use(webAppRouter({ log: log.child({ component: 'web' }) }));
          http.server.on('upgrade', (request, socket, head) => this.broker?.handleUpgrade(request, socket, head, clientAddress(http.app, request)));
          this.http = http;
          this.addresses.httpPort = await listen(http.server, config.httpHost, config.httpPort);
          this.readiness.set('http', () => http.server.listening);
        },
        stop: async () => {
          const server = this.http?.server;
          if (server) {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
          }
          await this.live?.close();
          this.live = null;
        },
      },
      {
        name: 'node-red',
        start: async () => {
          const userDir = path.join(config.dataDir, 'node-red');
          await seedDefaultFlows(userDir, config.dataDir, log);
          this.browsers = new BrowserPoolLease({ logger: log.child({ component: 'browser' }) });
          const settings = buildNodeRedSettings({
            userDir,
            credentialSecret,
            users: this.users,
            auth: auth!,
            logger: log,
            logLevel: config.logLevel,
            handles: {
              bus: this.broker ?? undefined,
              devices: this.broker?.devices,
              cameras: this.cameras,
              ai: this.aiProviders,
              archive: this.archive ?? undefined,
              journal: this.journal ?? undefined,
              mediaLinks: this.mediaLinks,
              push: this.push ?? undefined,
              alerts: this.alerts ?? undefined,
              browsers: this.browsers,
              jobs: this.scheduler ?? undefined,
              ffmpegPath: config.ffmpegPath,
              mediaDir: config.mediaDir,
              logger: log.child({ component: 'nodes' }),
            },
          });
          await this.nodeRed.start(this.http!.server, this.http!.app, settings, auth!.requireUser());
          this.stopEditorRevocation = this.users.onTokensRevoked(() => {
            const closed = this.nodeRed.closeEditorConnections();
            if (closed > 0) log.info({ closed }, 'editor connections closed after a sign-out or an account change; editors sign in again');
          });
          closeRoutes(this.http!.app, log.child({ component: 'http' }));
          this.readiness.set('nodeRed', () => this.nodeRed.running);
        },
        stop: async () => {
          this.stopEditorRevocation?.();
          await this.nodeRed.stop();
          await this.browsers?.close();
        },
      },
    ];
  }

  private async announceGeneratedPassword(password: string): Promise<void> {
    const file = path.join(this.config.dataDir, 'initial-admin-password');
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    // Shown once on the terminal, deliberately outside the logger (which would redact it).
    process.stdout.write(
      `\n  Glimpser created the user "admin" with the password:\n\n      ${password}\n\n  It is also in ${file} (mode 0600). Change it by starting with GLIMPSER_ADMIN_PASSWORD on a fresh data dir.\n\n`,
    );
    this.log.info({ username: 'admin', file }, 'admin user created with a generated password');
  }

  async start(): Promise<RuntimeAddresses> {
    collectDefaultMetrics();
    // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool check metrics fails).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) register.removeSingleMetric(name);
    for (const phase of this.phases()) {
      const began = process.hrtime.bigint();
      try {
        await phase.start();
      } catch (err) {
        this.log.error({ phase: phase.name, err: (err as Error).message }, 'start phase failed');
        this.started.push(phase);
        await this.stop();
        throw err;
      }
      this.started.push(phase);
      const seconds = Number(process.hrtime.bigint() - began) / 1e9;
      metrics.startPhaseSeconds.set({ phase: phase.name }, seconds);
      this.log.debug({ phase: phase.name, seconds }, 'start phase done');
    }
    metrics.ready.set(1);
    this.log.info(
      {
        http: `http://${this.config.httpHost}:${this.addresses.httpPort}/`,
        editor: `http://${this.config.httpHost}:${this.addresses.httpPort}/editor/`,
        httpPort: this.addresses.httpPort,
        mqttPort: this.addresses.mqttPort,
        dataDir: this.config.dataDir,
        ...versions(),
      },
      'glimpser ready',
    );
    return this.addresses;
  }

  /** Undoes the started phases in reverse; safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      metrics.ready.set(0);
      while (this.started.length > 0) {
        const phase = this.started.pop()!;
        try {
          await phase.stop?.();
        } catch (err) {
          this.log.error({ phase: phase.name, err: (err as Error).message }, 'stop phase failed');
        }
      }
      this.log.info('glimpser stopped');
    })();
    return this.stopping;
  }
}
