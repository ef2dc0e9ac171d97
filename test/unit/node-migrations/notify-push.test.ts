import { readFileSync } from 'node:fs';
import path from 'node:path';
import { notifyPushConfig, notifyPushConfigFrom } from '../../../nodes/notify-push/schema';
import { currentVersion } from '../../../nodes/shared/config';

const FIRST_RELEASE = { version: 1, name: '', subject: '', ttl: 86400, subscriptions: 'all', tag: '' };

describe('notify-push node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(notifyPushConfig.schema)).toBe(1);
    expect(notifyPushConfig.migrations).toEqual([]);
  });

  it('loads a version 1 node as a flow saved it, Node-RED keys, credentials and all; TTL typed as text is read as a number', () => {
    const v1 = {
      id: 'p1',
      type: 'notify-push',
      z: 'tab',
      x: 100,
      y: 40,
      wires: [],
      credentials: { vapidPublicKey: 'B…', vapidPrivateKey: '…' },
      version: 1,
      name: 'night shift',
      subject: 'mailto:alerts@glimpser.dev',
      ttl: '3600',
      subscriptions: 'tag',
      tag: 'night-shift',
    };
    expect(notifyPushConfigFrom(v1)).toEqual({
      ...FIRST_RELEASE,
      name: 'night shift',
      subject: 'mailto:alerts@glimpser.dev',
      ttl: 3600,
      subscriptions: 'tag',
      tag: 'night-shift',
    });
  });

  it("reads a node saved without a version as version 1 with the first release's defaults", () => {
    expect(notifyPushConfigFrom({ id: 'p1', type: 'notify-push' })).toEqual(FIRST_RELEASE);
  });

  it('loads the example flow', () => {
    const flow = JSON.parse(readFileSync(path.resolve(__dirname, '../../../examples/notify-push/01-push-to-subscribed-browsers.json'), 'utf8')) as Array<
      Record<string, unknown>
    >;
    expect(notifyPushConfigFrom(flow.find((n) => n.type === 'notify-push')!)).toEqual({ ...FIRST_RELEASE, name: 'push to browsers' });
  });

  it.each([
    [{ ttl: -1 }, /notify-push setting "ttl" must be >= 0 \(seconds, 0 to 2419200 = 4 weeks\)/],
    [{ subscriptions: 'some' }, /notify-push setting "subscriptions"/],
    [{ subscriptions: 'tag', tag: '' }, /notify-push setting "tag" is empty/],
    [{ tag: 'no spaces' }, /notify-push setting "tag" must match/],
    [{ version: 2 }, /this Glimpser reads versions 1 to 1/],
    [{ colour: 'red' }, /notify-push setting "colour"/],
  ])('refuses %j naming the setting', (change, reason) => {
    expect(() => notifyPushConfigFrom({ ...FIRST_RELEASE, ...change })).toThrow(reason);
  });
});
