import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Bus } from '../bus/bus';
import { silentLogger, type Logger } from '../log/logger';
import { metrics } from '../metrics';
import { topics } from '../topics';
import type { AlertMsgType, AlertService, Channel, Delivery, DeliveryResult, DeliveryTarget, StoredAlert } from './index';
import { TurnBatch } from '../store/turn-batch';
import { Outbox, type AlertDetail, type AlertPage, type AlertQuery, type EnqueueItem } from './outbox';
import { SuspensionStore } from './suspensions';
import { DeliveryWorker, type WorkerOptions } from './worker';

/** What `glimpser/alerts` carries when an alert is first stored. */
export interface AlertMessage {
  type: 'new' | 'update' | 'end';
  alert: StoredAlert;
}

const MESSAGE_TYPE: Record<AlertMsgType, AlertMessage['type']> = { Alert: 'new', Update: 'update', Cancel: 'end' };

export interface AlertServiceOptions {
  /** Glimpser's data folder: the outbox is `<dataDir>/alerts/alerts.db`, snapshot paths are relative to it. */
  dataDir: string;
  logger?: Logger;
  bus?: Bus;
  now?: () => number;
  /** Worker tuning (concurrency, timeouts, retry policy, breaker); tests shorten the delays. */
  worker?: Omit<WorkerOptions, 'outbox' | 'channels' | 'loadSnapshot' | 'logger' | 'now' | 'onResult'>;
}

/** The alert service as the runtime holds it: what nodes use, plus what the API and the runtime need. */
export interface AlertServiceHandle extends AlertService {
  list(query: AlertQuery): AlertPage;
  detail(id: string): AlertDetail | null;
  /** The alerts about one journal event, oldest first. */
  alertsOfEvent(eventId: string): StoredAlert[];
  /** The channel registered under a notifier node's id, if that node is deployed (the API sends test alerts through it). */
  channelOf(notifier: string): Channel | undefined;
  /** Cameras whose notifications are suspended (`<dataDir>/alerts/suspensions.json`): enqueue adds no deliveries for them. */
  suspensions: SuspensionStore;
  /** Makes the alert's dead-lettered deliveries due again; null when there is no such alert. */
  retryDead(alertId: string): Delivery[] | null;
  /** Looks for due deliveries now (the `alerts.sweep` job); answers what the outbox holds. */
  sweep(): { pending: number; dead: number };
  /** Holds or releases every delivery (pausing the `alerts.sweep` job); enqueues go on being stored. */
  pauseDeliveries(paused: boolean): void;
  /** Every recorded delivery attempt; returns the unsubscribe function. */
  onResult(listener: (result: DeliveryResult) => void): () => void;
  /** Every alert when first stored (as glimpser/alerts announces it); returns the unsubscribe function. */
  onAlert(listener: (alert: StoredAlert) => void): () => void;
  /** Resolves once the bus messages announced so far have been published or have failed. */
  flush(): Promise<void>;
  /** Stops the worker (attempts in flight stay due), waits for bus messages and closes the database. */
  close(): Promise<void>;
}

/** Opens the outbox under the data folder and starts its worker. */
export function openAlertService(options: AlertServiceOptions): AlertServiceHandle {
  const log = (options.logger ?? silentLogger).child({ component: 'alerts' });
  const now = options.now ?? Date.now;
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(path.join(dataDir, 'alerts'), { recursive: true });
  const outbox = new Outbox(path.join(dataDir, 'alerts', 'alerts.db'));
  const suspensions = new SuspensionStore(path.join(dataDir, 'alerts', 'suspensions.json'), now);
  const channels = new Map<string, Channel>();
  const listeners = new Set<(result: DeliveryResult) => void>();
  const alertListeners = new Set<(alert: StoredAlert) => void>();
  let publishing: Promise<void> = Promise.resolve();
  let closed: Promise<void> | null = null;

  const loadSnapshot = async (alert: StoredAlert): Promise<Buffer | null> => {
    if (!alert.snapshot) return null;
    const file = path.resolve(dataDir, alert.snapshot.path);
    // A stored path that leaves the data folder is not read, whatever wrote it.
    if (!file.startsWith(dataDir + path.sep)) return null;
    try {
      return await readFile(file);
    } catch (err) {
      // Deleted by journal retention since: the alert goes without it rather than not at all.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  };
  const worker = new DeliveryWorker({
    ...options.worker,
    outbox,
    channels,
    loadSnapshot,
    logger: log,
    now,
    onResult: (result) => {
      for (const listener of listeners) listener(result);
    },
  });

  const publish = (alert: StoredAlert): void => {
    const bus = options.bus;
    if (!bus) return;
    const payload = JSON.stringify({ type: MESSAGE_TYPE[alert.msgType], alert } satisfies AlertMessage);
    // The alert is stored already; a failed publish is logged and loses nothing.
    publishing = publishing.then(() =>
      bus.publish(topics.alerts, payload, { qos: 1 }).catch((err: Error) => log.warn({ alert: alert.id, err: err.message }, 'alert not published on the bus')),
    );
  };

  /** Stores one turn's enqueues (outbox.enqueueMany: one transaction, one fsync), then counts, publishes and logs each. */
  const storeBatch = (items: EnqueueItem[]): Array<Delivery[] | Error> => {
    // Checked here, once for every notifier: a suspended camera's alert is still stored and shown, only not sent.
    const suspendedOf = items.map(({ alert, targets }) => (targets.length > 0 ? suspensions.get(alert.camera) : null));
    const results = outbox.enqueueMany(
      items.map(({ alert, targets }, i) => ({ alert, targets: suspendedOf[i] ? [] : targets })),
      now(),
    );
    let inserted = false;
    const answers = results.map((result, i) => {
      if (result instanceof Error) return result;
      const { alert, targets } = items[i];
      const suspended = suspendedOf[i];
      if (suspended) {
        for (const target of targets) metrics.alertDeliveriesSkippedTotal.inc({ channel: target.channel, reason: 'suspended' });
        const until = new Date(suspended.until).toISOString();
        log.info(
          { alert: alert.id, camera: alert.camera, until, skipped: targets.length },
          "alert deliveries skipped: the camera's notifications are suspended",
        );
      }
      if (result.alertIsNew) {
        metrics.alertsTotal.inc({ msg_type: alert.msgType });
        publish(alert);
        for (const listener of alertListeners) listener(alert);
      }
      if (result.inserted > 0) {
        inserted = true;
        log.debug({ alert: alert.id, deliveries: result.inserted }, 'alert deliveries enqueued');
      }
      return result.deliveries;
    });
    if (inserted) {
      worker.updateDepth();
      worker.kick();
    }
    return answers;
  };
  // The enqueues of one turn of the event loop go to disk together (a group commit).
  const enqueues = new TurnBatch<EnqueueItem, Delivery[]>(storeBatch);

  worker.updateDepth();
  worker.kick();
  return {
    enqueue(alert: StoredAlert, targets: DeliveryTarget[]): Promise<Delivery[]> {
      if (closed) return Promise.reject(new Error(`alert ${alert.id} not stored: the alert service is closed`));
      return enqueues.add({ alert, targets });
    },
    registerChannel(notifier: string, channel: Channel): () => void {
      channels.set(notifier, channel);
      worker.kick();
      return () => {
        if (channels.get(notifier) === channel) channels.delete(notifier);
      };
    },
    getAlert: (id) => outbox.getAlert(id),
    suspensions,
    channelOf: (notifier) => channels.get(notifier),
    list: (query) => outbox.list(query),
    detail: (id) => outbox.detail(id),
    alertsOfEvent: (eventId) => outbox.alertsOfEvent(eventId),
    retryDead(alertId: string): Delivery[] | null {
      if (!outbox.getAlert(alertId)) return null;
      const deliveries = outbox.retryDead(alertId, now());
      if (deliveries.length > 0) {
        log.info({ alert: alertId, deliveries: deliveries.length }, 'dead-lettered alert deliveries retried');
        worker.updateDepth();
        worker.kick();
      }
      return deliveries;
    },
    sweep() {
      worker.kick();
      return outbox.depth();
    },
    pauseDeliveries: (paused) => worker.setPaused(paused),
    onResult(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onAlert(listener) {
      alertListeners.add(listener);
      return () => alertListeners.delete(listener);
    },
    flush: () => publishing,
    close(): Promise<void> {
      closed ??= (async () => {
        // What was asked before close is stored and answered.
        enqueues.flush();
        await worker.close();
        await publishing;
        suspensions.close();
        outbox.close();
      })();
      return closed;
    },
  };
}
