/**
 * A real alert service (SQLite outbox + delivery worker) in a temp data dir, with delays short enough for tests,
 * and a StoredAlert factory. Use it wherever a test needs `handles.alerts` or a channel's deliveries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bus } from '../../core/bus/bus';
import { eventId } from '../../core/store/event-id';
import type { Logger } from '../../core/log/logger';
import type { DeliveryResult, StoredAlert } from '../../core/alerts/index';
import { openAlertService, type AlertServiceHandle, type AlertServiceOptions } from '../../core/alerts/service';

export interface TestAlertService {
  service: AlertServiceHandle;
  dataDir: string;
  /** Resolves with the next `count` recorded attempts that match (all attempts when no filter is given). */
  results(count: number, match?: (result: DeliveryResult) => boolean): Promise<DeliveryResult[]>;
  /** Closes the service and deletes the data dir. */
  close(): Promise<void>;
}

/** Retries after 20-200 ms, 5 attempts, breaker opens after 3 failures and half-opens after 300 ms. */
export const FAST_WORKER: NonNullable<AlertServiceOptions['worker']> = {
  pollMs: 200,
  attemptTimeoutMs: 5_000,
  leaseMs: 10_000,
  retry: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 5, maxRetryAfterMs: 5_000 },
  breaker: { consecutiveFailures: 3, halfOpenAfterMs: 300 },
};

export function openTestAlertService(
  options: { dataDir?: string; bus?: Bus; logger?: Logger; worker?: AlertServiceOptions['worker']; keepDataDir?: boolean } = {},
): TestAlertService {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'glimpser-alerts-'));
  const worker = {
    ...FAST_WORKER,
    ...options.worker,
    retry: { ...FAST_WORKER.retry, ...options.worker?.retry },
    breaker: { ...FAST_WORKER.breaker, ...options.worker?.breaker },
  };
  const service = openAlertService({ dataDir, bus: options.bus, logger: options.logger, worker });
  return {
    service,
    dataDir,
    results(count, match = () => true) {
      return new Promise((resolve) => {
        const seen: DeliveryResult[] = [];
        const stop = service.onResult((result) => {
          if (!match(result)) return;
          seen.push(result);
          if (seen.length < count) return;
          stop();
          resolve(seen);
        });
      });
    },
    async close() {
      await service.close();
      if (!options.keepDataDir && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const SAMPLE_CAP = (id: string, sent: string, msgType: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>${id}</identifier><sender>glimpser@example.org</sender><sent>${sent}</sent>` +
  `<status>Actual</status><msgType>${msgType}</msgType><scope>Public</scope><info><category>Security</category><event>motion</event>` +
  `<urgency>Immediate</urgency><severity>Minor</severity><certainty>Observed</certainty><headline>Motion at porch</headline></info></alert>`;

/** A stored alert as cap-alert would make it; `sent` defaults to now. */
export function sampleAlert(overrides: Partial<StoredAlert> = {}): StoredAlert {
  const sent = overrides.sent ?? Date.now();
  const id = overrides.id ?? eventId(sent);
  const msgType = overrides.msgType ?? 'Alert';
  const sentText = new Date(sent).toISOString().replace(/\.\d{3}Z$/, '+00:00');
  return {
    id,
    identifier: `glimpser-${id}`,
    msgType,
    references: null,
    eventId: null,
    camera: 'porch',
    sent,
    headline: 'Motion at porch',
    description: 'Someone walked up to the door.',
    severity: 'Minor',
    capXml: SAMPLE_CAP(`glimpser-${id}`, sentText, msgType),
    snapshot: null,
    snapshotMissing: null,
    ...overrides,
  };
}
