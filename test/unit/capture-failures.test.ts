import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../core/log/logger';
import { CaptureFailureRecorder } from '../../core/store/capture-failures';
import { EventJournal } from '../../core/store/journal';
import { EmbeddedBroker } from '../../runtime/broker';
import { UserStore } from '../../runtime/stores/users';
import { eventually } from '../support/tools';

describe('CaptureFailureRecorder', () => {
  it('records an outage from the retained camera state: starts on offline, ends on online, keeps the last error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-failures-'));
    const users = new UserStore(dir);
    await users.open();
    const broker = await EmbeddedBroker.create(users, silentLogger);
    const journal = new EventJournal({ dataDir: dir });
    journal.open();
    let now = Date.now();
    const recorder = new CaptureFailureRecorder(broker, journal, silentLogger, () => now);
    await recorder.start();
    const state = (s: string, lastError: string | null) =>
      broker.publish('glimpser/cameras/gate/state', JSON.stringify({ camera: 'gate', state: s, lastError }), { retain: true });

    await state('online', null);
    await state('offline', 'connection refused');
    const failures = () => journal.query({ camera: 'gate', type: 'capture_failure', limit: 10 }).events;
    const started = await eventually(async () => failures()[0], 3000, 'outage recorded');
    expect(started).toMatchObject({ camera: 'gate', endTime: null, data: { lastError: 'connection refused' } });
    await state('offline', 'no route to host');
    now += 5000;
    await state('online', null);
    const ended = await eventually(async () => (failures()[0]?.endTime ? failures()[0] : undefined), 3000, 'outage ended');
    expect(ended.endTime).toBe(now);
    expect(ended.data).toEqual({ lastError: 'no route to host' });
    expect(failures()).toHaveLength(1);
    await broker.publish('glimpser/cameras/gate/state', 'not json');
    await recorder.stop();
    await journal.close();
    await broker.close();
  });
});
