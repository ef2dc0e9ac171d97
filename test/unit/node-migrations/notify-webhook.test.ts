import { currentVersion } from '../../../nodes/shared/config';
import { notifyWebhookConfig, notifyWebhookConfigFrom } from '../../../nodes/notify-webhook/schema';

const FIRST_RELEASE = { version: 1, name: '', url: '', format: 'json', includeSnapshot: false, publicUrl: '', headers: '', allowHosts: '' };

describe('notify-webhook node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(notifyWebhookConfig.schema)).toBe(1);
    expect(notifyWebhookConfig.migrations).toEqual([]);
  });

  it('loads a version 1 node as a flow saved it, Node-RED keys and credentials block aside', () => {
    const v1 = {
      id: 'hook1',
      type: 'notify-webhook',
      z: 'tab',
      x: 640,
      y: 120,
      wires: [],
      credentials: { secret: 'whsec_never-in-the-settings' },
      version: 1,
      name: 'ops webhook',
      url: 'https://hooks.example.org/glimpser',
      format: 'cap',
      includeSnapshot: true,
      publicUrl: 'https://glimpser.example.org',
      headers: 'X-Team: night shift',
      allowHosts: '169.254.10.2, camera-gw',
    };
    expect(notifyWebhookConfigFrom(v1)).toEqual({
      version: 1,
      name: 'ops webhook',
      url: 'https://hooks.example.org/glimpser',
      format: 'cap',
      includeSnapshot: true,
      publicUrl: 'https://glimpser.example.org',
      headers: 'X-Team: night shift',
      allowHosts: '169.254.10.2, camera-gw',
    });
  });

  it("reads a node saved without a version as version 1 with the first release's defaults (not configured, JSON)", () => {
    expect(notifyWebhookConfigFrom({ id: 'hook1', type: 'notify-webhook' })).toEqual(FIRST_RELEASE);
    expect(notifyWebhookConfigFrom({ version: '1', url: 'http://127.0.0.1:8080/hook' })).toEqual({ ...FIRST_RELEASE, url: 'http://127.0.0.1:8080/hook' });
  });

  it.each([
    [{ format: 'xml' }, 'notify-webhook setting "format" must be equal to constant (expected "json" or "cap")'],
    [{ publicUrl: 'glimpser.local' }, /^notify-webhook setting "publicUrl" must match pattern .* \(expected Glimpser's address as receivers reach it/],
    [{ includeSnapshot: 'yes' }, 'notify-webhook setting "includeSnapshot" must be boolean'],
    [{ secret: 'whsec_in-the-flow' }, 'notify-webhook setting "secret" must NOT have additional properties'],
    [{ headers: 'X-A: 1\r\nwebhook-id: forged' }, 'headers line 2: webhook-id is written by Glimpser itself and cannot be set'],
    [{ version: 2 }, 'notify-webhook setting "version" is 2: this Glimpser reads versions 1 to 1'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => notifyWebhookConfigFrom(def)).toThrow(message);
  });
});
