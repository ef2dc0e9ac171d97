import { eventConfig, eventNodeConfigFrom } from '../../../nodes/event/schema';
import { currentVersion } from '../../../nodes/shared/config';

describe('event node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(eventConfig.schema)).toBe(1);
    expect(eventConfig.migrations).toEqual([]);
  });

  it('loads a version 1 node as a flow saved it, Node-RED keys and all', () => {
    const v1 = { id: 'e1', type: 'event', z: 'tab', x: 440, y: 100, wires: [['debug']], version: 1, name: 'door log', eventType: 'door', snapshot: false };
    expect(eventNodeConfigFrom(v1)).toEqual({ version: 1, name: 'door log', eventType: 'door', snapshot: false });
  });

  it('reads a node saved without a version, or with it as text, as version 1 with its defaults', () => {
    expect(eventNodeConfigFrom({ id: 'e1', type: 'event' })).toEqual({ version: 1, name: '', eventType: 'motion', snapshot: true });
    expect(eventNodeConfigFrom({ version: '1', eventType: 'door' })).toMatchObject({ version: 1, eventType: 'door' });
  });

  it.each([
    [{ eventType: 'Door!' }, 'event setting "eventType" must match pattern "^[a-z_]{1,32}$" (1-32 characters of a-z or "_", e.g. motion)'],
    [{ snapshot: 'yes' }, 'event setting "snapshot" must be boolean'],
    [{ surprise: 1 }, 'event setting "surprise" must NOT have additional properties'],
    [{ version: 2 }, 'event setting "version" is 2: this Glimpser reads versions 1 to 1'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => eventNodeConfigFrom(def)).toThrow(message);
  });
});
