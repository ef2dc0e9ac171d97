/**
 * The victim of test/integration/journal-crash.test.ts: writes events as fast as it can and prints each id on
 * its own line once insert() (or insertMany()) has returned, i.e. once the journal acknowledged it. The test
 * SIGKILLs it mid-stream and checks that every printed id survived.
 *
 *   journal-writer <dataDir> <normal|full>
 *
 * stdout to a pipe is synchronous on Linux, so a printed line was written before the next insert began.
 */
import { EventJournal } from '../../core/store/journal';

const [dataDir, synchronous] = process.argv.slice(2);
if (!dataDir || (synchronous !== 'normal' && synchronous !== 'full')) {
  process.stderr.write('usage: journal-writer <dataDir> <normal|full>\n');
  process.exit(2);
}

const journal = new EventJournal({ dataDir, synchronous, maxAgeDays: Number.POSITIVE_INFINITY, maxBytes: Number.POSITIVE_INFINITY });
journal.open();
const cameras = ['porch', 'garage', 'drive'];
for (let i = 0; ; i++) {
  const input = { camera: cameras[i % 3], type: 'motion', startTime: Date.now(), score: (i % 100) / 100, zones: i % 2 === 0 ? ['yard'] : [], data: { n: i } };
  if (i % 10 === 0) {
    const ids = journal.insertMany([input, { ...input, type: 'tamper' }, { ...input, type: 'capture_failure' }]).map((event) => event.id);
    process.stdout.write(`${ids.join('\n')}\n`);
  } else {
    const event = journal.insert(input);
    process.stdout.write(`${event.id}\n`);
    // Updates rewrite pages that inserts also touch, so a kill can land in either kind of transaction.
    if (i % 7 === 0) journal.update(event.id, { endTime: event.startTime + 1, data: { ended: true } });
  }
}
