import { CAP_ALERT_DEFAULTS } from '../../../core/alerts/build-settings';
import { capAlertConfig, capAlertConfigFrom } from '../../../nodes/cap-alert/schema';
import { currentVersion } from '../../../nodes/shared/config';

describe('cap-alert node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(capAlertConfig.schema)).toBe(1);
    expect(capAlertConfig.migrations).toEqual([]);
  });

  it('loads a version 1 node as a flow saved it, Node-RED keys and all, numbers typed as text read as numbers', () => {
    const v1 = {
      id: 'c1',
      type: 'cap-alert',
      z: 'tab',
      x: 640,
      y: 100,
      wires: [['debug']],
      version: 1,
      name: 'porch alerts',
      ...CAP_ALERT_DEFAULTS,
      scope: 'Public',
      addresses: '',
      areaShape: 'circle',
      areaDesc: 'Porch',
      latitude: '52.52',
      longitude: '13.405',
      radiusKm: '0.05',
      updateEverySeconds: '30',
    };
    expect(capAlertConfigFrom(v1)).toEqual({
      version: 1,
      name: 'porch alerts',
      ...CAP_ALERT_DEFAULTS,
      scope: 'Public',
      addresses: '',
      areaShape: 'circle',
      areaDesc: 'Porch',
      latitude: 52.52,
      longitude: 13.405,
      radiusKm: 0.05,
      updateEverySeconds: 30,
    });
  });

  it('reads a node saved without a version, or with it as text, as version 1 with its defaults', () => {
    expect(capAlertConfigFrom({ id: 'c1', type: 'cap-alert' })).toEqual({ version: 1, name: '', ...CAP_ALERT_DEFAULTS });
    expect(capAlertConfigFrom({ version: '1', endAs: 'allclear' })).toMatchObject({ version: 1, endAs: 'allclear' });
  });

  it.each([
    [{ sender: 'my sender' }, 'cap-alert setting "sender" must match pattern'],
    [{ scope: 'Everyone' }, 'cap-alert setting "scope"'],
    [{ scope: 'Private', addresses: '' }, 'cap-alert setting "addresses": expected the recipients of a Private alert'],
    [{ headline: '{{camera}} {{secret}}' }, 'cap-alert setting "headline": {{secret}} is not a placeholder'],
    [{ updateEverySeconds: -1 }, 'cap-alert setting "updateEverySeconds" must be >= 0'],
    [{ surprise: 1 }, 'cap-alert setting "surprise" must NOT have additional properties'],
    [{ version: 2 }, 'cap-alert setting "version" is 2: this Glimpser reads versions 1 to 1'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => capAlertConfigFrom(def)).toThrow(message);
  });
});
