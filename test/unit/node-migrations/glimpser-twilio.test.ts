import { twilioConfig, twilioConfigFrom } from '../../../nodes/glimpser-twilio/schema';
import { currentVersion } from '../../../nodes/shared/config';

const DEFAULTS = { version: 1, name: '', apiBaseUrl: 'https://api.twilio.com', timeout: 15 };

describe('glimpser-twilio node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(twilioConfig.schema)).toBe(1);
    expect(twilioConfig.migrations).toEqual([]);
  });

  it('loads a version 1 config node as a flow saved it, Node-RED keys and all', () => {
    const v1 = { id: 't1', type: 'glimpser-twilio', _users: ['s1'], version: 1, name: 'Twilio', apiBaseUrl: 'https://api.twilio.com', timeout: 20 };
    expect(twilioConfigFrom(v1)).toEqual({ ...DEFAULTS, name: 'Twilio', timeout: 20 });
  });

  it("reads a node saved without a version as version 1 with the first release's defaults (Twilio's own API)", () => {
    expect(twilioConfigFrom({ id: 't1', type: 'glimpser-twilio' })).toEqual(DEFAULTS);
  });

  it('reads numbers typed as text, and a base URL without blanks or trailing slashes', () => {
    expect(twilioConfigFrom({ version: '1', timeout: '30', apiBaseUrl: ' http://127.0.0.1:4010/ ' })).toEqual({
      ...DEFAULTS,
      timeout: 30,
      apiBaseUrl: 'http://127.0.0.1:4010',
    });
  });

  it.each([
    [
      { apiBaseUrl: 'ftp://twilio' },
      /^glimpser-twilio setting "apiBaseUrl" must match pattern .* \(expected an http\(s\) URL such as https:\/\/api\.twilio\.com\)$/,
    ],
    [
      { apiBaseUrl: 'http://twilio.example.org' },
      'glimpser-twilio setting "apiBaseUrl": Twilio API base URL "http://twilio.example.org" must be https (plain http only for 127.0.0.1, [::1] or localhost)',
    ],
    [{ timeout: 0 }, 'glimpser-twilio setting "timeout" must be >= 1 (seconds)'],
    [{ authToken: 'in-the-flow' }, 'glimpser-twilio setting "authToken" must NOT have additional properties'],
    [{ version: 2 }, 'glimpser-twilio setting "version" is 2: this Glimpser reads versions 1 to 1'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => twilioConfigFrom(def)).toThrow(message);
  });
});
