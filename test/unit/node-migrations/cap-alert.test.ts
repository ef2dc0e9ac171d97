import { CAP_ALERT_DEFAULTS } from '../../../core/alerts/build-settings';
import { capAlertConfig, capAlertConfigFrom } from '../../../nodes/cap-alert/schema';
import { currentVersion } from '../../../nodes/shared/config';

const COOLDOWN_OFF = { cooldownSeconds: 0, ruleCooldownSeconds: 0 };

describe('cap-alert node settings across versions', () => {
  it('is at version 2, which added the cooldowns, off by default', () => {
    expect(currentVersion(capAlertConfig.schema)).toBe(2);
    expect(capAlertConfig.migrations.map((m) => m.to)).toEqual([2]);
    expect(capAlertConfig.defaults).toMatchObject({ cooldownSeconds: 0, ruleCooldownSeconds: 0 });
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
      version: 2,
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
      ...COOLDOWN_OFF,
    });
  });

  it('loads a version 2 node with its cooldowns, typed as text or as numbers', () => {
    const v2 = {
      id: 'c2',
      type: 'cap-alert',
      z: 'tab',
      wires: [[]],
      version: 2,
      name: '',
      ...CAP_ALERT_DEFAULTS,
      cooldownSeconds: '120',
      ruleCooldownSeconds: 30,
    };
    expect(capAlertConfigFrom(v2)).toEqual({ version: 2, name: '', ...CAP_ALERT_DEFAULTS, cooldownSeconds: 120, ruleCooldownSeconds: 30 });
  });

  it('reads a node saved without a version, or with it as text, as version 1 with its defaults', () => {
    expect(capAlertConfigFrom({ id: 'c1', type: 'cap-alert' })).toEqual({ version: 2, name: '', ...CAP_ALERT_DEFAULTS, ...COOLDOWN_OFF });
    expect(capAlertConfigFrom({ version: '1', endAs: 'allclear' })).toMatchObject({ version: 2, endAs: 'allclear' });
  });

  it.each([
    [{ sender: 'my sender' }, 'cap-alert setting "sender" must match pattern'],
    [{ scope: 'Everyone' }, 'cap-alert setting "scope"'],
    [{ scope: 'Private', addresses: '' }, 'cap-alert setting "addresses": expected the recipients of a Private alert'],
    [{ headline: '{{camera}} {{secret}}' }, 'cap-alert setting "headline": {{secret}} is not a placeholder'],
    [{ updateEverySeconds: -1 }, 'cap-alert setting "updateEverySeconds" must be >= 0'],
    [{ surprise: 1 }, 'cap-alert setting "surprise" must NOT have additional properties'],
    [{ cooldownSeconds: -5 }, 'cap-alert setting "cooldownSeconds" must be >= 0'],
    [{ ruleCooldownSeconds: 'soon' }, 'cap-alert setting "ruleCooldownSeconds"'],
    [{ version: 3 }, 'cap-alert setting "version" is 3: this Glimpser reads versions 1 to 2'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => capAlertConfigFrom(def)).toThrow(message);
  });
});
