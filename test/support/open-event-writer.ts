/**
 * The victim of test/integration/events-interrupted.test.ts: opens the event journal and the alert service on a
 * data dir as the runtime does, starts a motion event, updates it, stores its Alert as cap-alert would and enqueues
 * it to a webhook target as notify-webhook would, then prints `<event id> <alert id>` and stays up with the event
 * still open, as Glimpser is mid-event. The test SIGKILLs it there.
 *
 *   open-event-writer <dataDir> <webhook url> <start time> <update time>
 */
import { buildAlert } from '../../core/alerts/build';
import { CAP_ALERT_DEFAULTS } from '../../core/alerts/build-settings';
import { openAlertService } from '../../core/alerts/service';
import { EventJournal } from '../../core/store/journal';

const [dataDir, url, startText, updateText] = process.argv.slice(2);
const start = Number(startText);
const update = Number(updateText);
if (!dataDir || !url || !Number.isInteger(start) || !Number.isInteger(update)) {
  process.stderr.write('usage: open-event-writer <dataDir> <webhook url> <start time> <update time>\n');
  process.exit(2);
}

async function main(): Promise<void> {
  let clock = start;
  const journal = new EventJournal({ dataDir, now: () => clock });
  journal.open();
  const alerts = openAlertService({ dataDir });
  const event = journal.insert({ camera: 'porch', type: 'motion', startTime: start, zones: ['door'], score: 0.3 });
  clock = update;
  journal.update(event.id, { score: 0.6 });
  const alert = await buildAlert(
    {
      step: { kind: 'alert' },
      event: { id: event.id, ref: event.id, camera: event.camera, type: event.type, zones: event.zones, startTime: start, endTime: null, score: 0.3 },
      ai: null,
      gate: null,
      snapshot: null,
      snapshotMissing: null,
      now: start + 500,
    },
    CAP_ALERT_DEFAULTS,
  );
  await alerts.enqueue(alert, []);
  await alerts.enqueue(alert, [{ channel: 'webhook', notifier: 'hook', target: url }]);
  process.stdout.write(`${event.id} ${alert.id}\n`);
  // No notifier is registered: nothing is delivered, and the process stays up until it is killed.
  setInterval(() => undefined, 60_000);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
