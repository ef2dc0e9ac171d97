import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bus } from '../../core/bus/bus';
import { referenceOf } from '../../core/alerts/build';
import { parseCap } from '../../core/alerts/cap';
import { closeInterruptedEvents } from '../../core/alerts/interrupted';
import { EventPublisher, type EventMessage } from '../../core/store/event-publisher';
import { EventJournal } from '../../core/store/journal';
import { topics } from '../../core/topics';
import { postChannel, startAlertReceiver, type AlertReceiver } from '../support/alert-receiver';
import { openTestAlertService } from '../support/alerts';

const WRITER = path.join(__dirname, '..', 'support', 'open-event-writer.ts');
/** Runs the TypeScript writer from source with the SWC compiler jest uses, as journal-crash.test.ts does. */
const RUN_TYPESCRIPT = `
const { readFileSync } = require('node:fs');
const { transformSync } = require(${JSON.stringify(require.resolve('@swc/core'))});
require.extensions['.ts'] = (module, filename) => {
  const options = { filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } };
  module._compile(transformSync(readFileSync(filename, 'utf8'), options).code, filename);
};
require(process.argv[1]);
`;
const START = Date.UTC(2026, 11, 7, 20, 0, 0);
const LAST_UPDATE = START + 4000;
const RESTART = START + 600_000;

let dataDir: string;
let receiver: AlertReceiver;

beforeEach(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'glimpser-events-interrupted-'));
  receiver = await startAlertReceiver();
});

afterEach(async () => {
  await receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts the writer, SIGKILLs it once it has stored its open event and Alert, and returns their ids. */
function writeUntilKilled(): Promise<{ eventId: string; alertId: string }> {
  const child = spawn(process.execPath, ['--no-warnings', '-e', RUN_TYPESCRIPT, WRITER, dataDir, receiver.url, String(START), String(LAST_UPDATE)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the writer did not store its event in time: ${stderr}`));
    }, 30000);
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      if (stdout.includes('\n') && child.signalCode === null) child.kill('SIGKILL');
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const [eventId, alertId] = stdout.trim().split(' ');
      if (signal === 'SIGKILL' && eventId && alertId) resolve({ eventId, alertId });
      else reject(new Error(`the writer exited by itself (code ${code}): ${stderr}`));
    });
  });
}

/** A bus that keeps what is published, in order. */
function recordingBus(published: { topic: string; payload: string }[]): Bus {
  return {
    publish: (topic, payload) => {
      published.push({ topic, payload: payload.toString() });
      return Promise.resolve();
    },
    subscribe: () => Promise.resolve(() => Promise.resolve()),
  };
}

describe('events left open by a SIGKILL (issue 11: events left open by a crash)', () => {
  it('are closed at their last update and marked interrupted at the next start, and their Alert gets its Cancel', async () => {
    const { eventId, alertId } = await writeUntilKilled();

    // The next start, in the order of the runtime's phases: the journal, its bus publisher, the alert service.
    const journal = new EventJournal({ dataDir, now: () => RESTART });
    journal.open();
    const published: { topic: string; payload: string }[] = [];
    const publisher = new EventPublisher({ bus: recordingBus(published), journal });
    const alerts = openTestAlertService({ dataDir, keepDataDir: true });
    try {
      expect(journal.get(eventId)?.endTime).toBeNull();
      const { events, ends } = await closeInterruptedEvents(journal, alerts.service, { now: () => RESTART });

      expect(events.map((event) => event.id)).toEqual([eventId]);
      expect(journal.get(eventId)).toMatchObject({ endTime: LAST_UPDATE, score: 0.6, data: { interrupted: true } });
      await publisher.flush();
      const messages = published.filter((message) => message.topic === topics.events).map((message) => JSON.parse(message.payload) as EventMessage);
      expect(messages).toEqual([expect.objectContaining({ type: 'end', after: expect.objectContaining({ id: eventId, endTimeMs: LAST_UPDATE }) })]);

      const first = alerts.service.getAlert(alertId)!;
      expect(ends).toHaveLength(1);
      const [cancel] = ends;
      expect(cancel).toMatchObject({
        msgType: 'Cancel',
        eventId,
        references: referenceOf({ sender: 'glimpser', identifier: first.identifier, sent: first.sent }),
      });
      expect((await parseCap(cancel.capXml)).msgType).toBe('Cancel');
      const deliveries = alerts.service.detail(cancel.id)!.deliveries;
      expect(deliveries.map(({ channel, notifier, target }) => ({ channel, notifier, target }))).toEqual([
        { channel: 'webhook', notifier: 'hook', target: receiver.url },
      ]);

      // Once the webhook notifier is back, the Alert that was pending at the kill and its Cancel both arrive.
      alerts.service.registerChannel('hook', postChannel());
      const received = await receiver.waitFor(2);
      expect(received.map((delivery) => delivery.body.alert).sort()).toEqual([alertId, cancel.id].sort());
    } finally {
      await alerts.close();
      await publisher.close();
      await journal.close();
    }
  });
});
