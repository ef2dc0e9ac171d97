import { notifySmsConfig, notifySmsConfigFrom } from '../../../nodes/notify-sms/schema';
import { currentVersion } from '../../../nodes/shared/config';

const DEFAULTS = {
  version: 1,
  name: '',
  twilio: '',
  to: [],
  from: '',
  messagingServiceSid: '',
  template: '{{severity}} on {{camera}}: {{headline}} ({{time}})',
  maxLength: 160,
  includeMedia: false,
  publicUrl: '',
};
const SERVICE = `MG${'0a'.repeat(16)}`;

describe('notify-sms node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(notifySmsConfig.schema)).toBe(1);
    expect(notifySmsConfig.migrations).toEqual([]);
  });

  it('loads a version 1 node as a flow saved it, Node-RED keys and all', () => {
    const v1 = {
      id: 's1',
      type: 'notify-sms',
      z: 'tab',
      x: 300,
      y: 80,
      wires: [],
      version: 1,
      name: 'phones',
      twilio: 't1',
      to: ['+14155550100'],
      from: '+14155550199',
      messagingServiceSid: '',
      template: '{{headline}}',
      maxLength: 320,
      includeMedia: true,
      publicUrl: 'https://glimpser.example.org',
    };
    expect(notifySmsConfigFrom(v1)).toEqual({
      ...DEFAULTS,
      name: 'phones',
      twilio: 't1',
      to: ['+14155550100'],
      from: '+14155550199',
      template: '{{headline}}',
      maxLength: 320,
      includeMedia: true,
      publicUrl: 'https://glimpser.example.org',
    });
  });

  it("reads a node saved without a version as version 1 with the first release's defaults", () => {
    expect(notifySmsConfigFrom({ id: 's1', type: 'notify-sms' })).toEqual(DEFAULTS);
  });

  it('reads numbers typed in the editor as a list, without blanks, dashes or brackets, and numbers typed as text', () => {
    expect(
      notifySmsConfigFrom({ version: '1', to: '+1 (415) 555-0100, +44 7700 900123;\n', messagingServiceSid: ` ${SERVICE} `, maxLength: '200' }),
    ).toMatchObject({
      to: ['+14155550100', '+447700900123'],
      messagingServiceSid: SERVICE,
      maxLength: 200,
    });
  });

  it.each([
    [{ to: ['+14155550100', '0044 7700'] }, 'notify-sms setting "to" must match pattern "^\\+[1-9]\\d{6,14}$" (expected phone numbers in E.164 form'],
    [{ from: '4155550100' }, 'notify-sms setting "from" must match pattern'],
    [
      { messagingServiceSid: 'MG123' },
      'notify-sms setting "messagingServiceSid" must match pattern "^(MG[0-9a-fA-F]{32})?$" (expected MG followed by 32 hex digits)',
    ],
    [{ maxLength: 5 }, 'notify-sms setting "maxLength" must be >= 20 (characters, 20 to 1600)'],
    [{ from: '+14155550199', messagingServiceSid: SERVICE }, 'notify-sms settings "from" and "messagingServiceSid" are both set'],
    [{ includeMedia: true }, 'notify-sms setting "publicUrl" is empty: "includeMedia" needs Glimpser\'s public address'],
    [{ template: 'Alert {{zone}}' }, 'notify-sms setting "template" uses {{zone}}: expected {{headline}}, {{camera}}, {{time}}, {{severity}}'],
    [{ authToken: 'x' }, 'notify-sms setting "authToken" must NOT have additional properties'],
    [{ version: 2 }, 'notify-sms setting "version" is 2: this Glimpser reads versions 1 to 1'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => notifySmsConfigFrom(def)).toThrow(message);
  });
});
