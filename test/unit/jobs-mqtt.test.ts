import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { JobStateMqtt, type JobStateMessage } from '../../core/jobs/mqtt';
import { ManualClock } from '../../core/jobs/manual-clock';
import { Scheduler } from '../../core/jobs/scheduler';
import { JobStore } from '../../core/jobs/store';
import { silentLogger } from '../../core/log/logger';
import { publishersOf, topics } from '../../core/topics';
import { EmbeddedBroker } from '../../runtime/broker';
import { UserStore } from '../../runtime/stores/users';

const ADMIN_PASSWORD = 'admin-password-for-jobs-mqtt-tests';
const START = Date.UTC(2026, 0, 5, 12, 0, 0);
const MINUTE = 60_000;
const STATES = 'glimpser/jobs/+/state';

interface StateMessage {
  topic: string;
  state: JobStateMessage;
  retain: boolean;
}

function connect(port: number): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, username: 'admin', password: ADMIN_PASSWORD });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** The next job state message the client gets that matches. */
function nextState(client: MqttClient, matches: (message: StateMessage) => boolean): Promise<StateMessage> {
  return new Promise((resolve) => {
    const onMessage = (topic: string, payload: Buffer, packet: { retain: boolean }) => {
      if (!topic.startsWith('glimpser/jobs/')) return;
      const message: StateMessage = { topic, state: JSON.parse(payload.toString('utf8')) as JobStateMessage, retain: packet.retain };
      if (!matches(message)) return;
      client.off('message', onMessage);
      resolve(message);
    };
    client.on('message', onMessage);
  });
}

function subscribe(client: MqttClient, filter: string): Promise<number> {
  return new Promise((resolve, reject) => client.subscribe(filter, { qos: 1 }, (err, granted) => (err ? reject(err) : resolve(granted?.[0]?.qos ?? -1))));
}

describe('job states on glimpser/jobs/<id>/state over the embedded broker', () => {
  let dir: string;
  let broker: EmbeddedBroker;
  let port: number;
  let store: JobStore;
  let scheduler: Scheduler;
  let publisher: JobStateMqtt;
  let release: (() => void) | null = null;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'glimpser-jobs-mqtt-'));
    const users = new UserStore(dir);
    await users.open();
    await users.ensureAdmin(ADMIN_PASSWORD);
    broker = await EmbeddedBroker.create(users, silentLogger);
    port = await broker.listenTcp('127.0.0.1', 0);
    store = JobStore.open(dir, undefined, START);
    scheduler = new Scheduler({ store, clock: new ManualClock(START), logger: silentLogger });
    // Registered before the publisher starts, as the system jobs are: its state goes out on start.
    scheduler.register({ id: 'retention.journal', kind: 'retention', owner: 'system', schedule: { kind: 'interval', everyMs: 10 * MINUTE } }, () =>
      Promise.resolve(),
    );
    publisher = new JobStateMqtt({ bus: broker, scheduler, logger: silentLogger });
    await publisher.start();
  });

  afterAll(async () => {
    for (const client of clients) client.end(true);
    release?.();
    await scheduler.close();
    await publisher.stop();
    store.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function subscriber(): Promise<MqttClient> {
    const client = await connect(port);
    clients.push(client);
    return client;
  }

  it('publishes a job registered before the start, retained, for late subscribers', async () => {
    const client = await subscriber();
    const retained = nextState(client, ({ state }) => state.id === 'retention.journal');
    await subscribe(client, STATES);
    expect(await retained).toEqual({
      topic: 'glimpser/jobs/retention.journal/state',
      retain: true,
      state: {
        id: 'retention.journal',
        kind: 'retention',
        camera: null,
        status: 'idle',
        lastOutcome: null,
        lastRunAt: null,
        nextRunAt: new Date(START + 10 * MINUTE).toISOString(),
      },
    });
  });

  it('publishes on register, pause, resume and a run starting and finishing', async () => {
    const client = await subscriber();
    expect(await subscribe(client, STATES)).toBe(1);
    const registered = nextState(client, ({ state }) => state.id === 'capture.porch');
    scheduler.register(
      { id: 'capture.porch', kind: 'capture', owner: 'node-1', camera: 'porch', schedule: { kind: 'interval', everyMs: MINUTE } },
      () => new Promise<void>((resolve) => (release = resolve)),
    );
    expect((await registered).state).toMatchObject({ camera: 'porch', status: 'idle', nextRunAt: new Date(START + MINUTE).toISOString() });

    const paused = nextState(client, ({ state }) => state.id === 'capture.porch');
    scheduler.pause('capture.porch');
    expect((await paused).state).toMatchObject({ status: 'paused', nextRunAt: null });

    const resumed = nextState(client, ({ state }) => state.id === 'capture.porch');
    scheduler.resume('capture.porch');
    expect((await resumed).state).toMatchObject({ status: 'idle', nextRunAt: new Date(START + MINUTE).toISOString() });

    const running = nextState(client, ({ state }) => state.id === 'capture.porch');
    const run = scheduler.runNow('capture.porch');
    expect((await running).state).toMatchObject({ status: 'running', lastRunAt: new Date(START).toISOString() });
    const finished = nextState(client, ({ state }) => state.id === 'capture.porch');
    release!();
    await run;
    expect((await finished).state).toMatchObject({ status: 'idle', lastOutcome: 'ok' });
  });

  it('keeps the latest state retained', async () => {
    await publisher.flush();
    const late = await subscriber();
    const retained = nextState(late, ({ state }) => state.id === 'capture.porch');
    await subscribe(late, topics.jobState('capture.porch'));
    expect(await retained).toMatchObject({ retain: true, state: { status: 'idle', lastOutcome: 'ok' } });
  });

  it('leaves the jobs subtree to the runtime, and refuses a job id that is no single topic level', () => {
    expect(publishersOf('glimpser/jobs/capture.porch/state')).toBe('runtime');
    expect(publishersOf('glimpser/jobs/anything/else')).toBe('runtime');
    expect(() => topics.jobState('a/b')).toThrow(/job id "a\/b" cannot be a topic level/);
    expect(() => topics.jobState('#')).toThrow(/cannot be a topic level/);
  });
});
