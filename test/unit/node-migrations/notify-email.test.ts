import { notifyEmailConfig, notifyEmailConfigFrom } from '../../../nodes/notify-email/schema';
import { currentVersion } from '../../../nodes/shared/config';

const FIRST_RELEASE = {
  version: 1,
  name: '',
  smtp: '',
  to: [],
  subject: '{{headline}}',
  text: '{{headline}}\n\n{{description}}\n\nCamera: {{camera}}\nTime: {{time}}\nSeverity: {{severity}}\n',
  html: '<h2>{{headline}}</h2>\n<p>{{description}}</p>\n<p>Camera: {{camera}}<br>Time: {{time}}<br>Severity: {{severity}}</p>\n{{snapshot}}\n',
  snapshot: 'attach',
  attachCap: false,
  timeZone: '',
};

describe('notify-email node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(notifyEmailConfig.schema)).toBe(1);
    expect(notifyEmailConfig.migrations).toEqual([]);
  });

  it('loads a version 1 node as a flow saved it, Node-RED keys and all', () => {
    const v1 = {
      id: 'e1',
      type: 'notify-email',
      z: 'tab',
      x: 100,
      y: 200,
      wires: [],
      version: 1,
      name: 'mail ops',
      smtp: 's1',
      to: ['ops@example.com', 'Night <night@example.com>'],
      subject: '[{{severity}}] {{headline}}',
      text: '{{description}}',
      html: '',
      snapshot: 'none',
      attachCap: true,
      timeZone: 'Europe/Paris',
    };
    expect(notifyEmailConfigFrom(v1)).toEqual({
      ...FIRST_RELEASE,
      name: 'mail ops',
      smtp: 's1',
      to: ['ops@example.com', 'Night <night@example.com>'],
      subject: '[{{severity}}] {{headline}}',
      text: '{{description}}',
      html: '',
      snapshot: 'none',
      attachCap: true,
      timeZone: 'Europe/Paris',
    });
  });

  it("reads a node saved without a version as version 1 with the first release's defaults (not configured, snapshot attached)", () => {
    expect(notifyEmailConfigFrom({ id: 'e1', type: 'notify-email' })).toEqual(FIRST_RELEASE);
  });

  it('reads recipients typed as text into a list', () => {
    expect(notifyEmailConfigFrom({ to: ' a@example.com, Ops <ops@example.com>;\nb@example.com ' }).to).toEqual([
      'a@example.com',
      'Ops <ops@example.com>',
      'b@example.com',
    ]);
  });

  it.each([
    [{ to: 'ops@example.com, nobody' }, 'notify-email setting "to": "nobody" is not an email address (expected name@example.com or Name <name@example.com>)'],
    [
      { to: ['ops(at)example.com'] },
      'notify-email setting "to": "ops(at)example.com" is not an email address (expected name@example.com or Name <name@example.com>)',
    ],
    [
      { subject: 'Alert {{zone}}' },
      'notify-email setting "subject" uses {{zone}}: expected {{headline}}, {{description}}, {{camera}}, {{time}}, {{severity}}, {{snapshot}}',
    ],
    [{ subject: '' }, 'notify-email setting "subject" must NOT have fewer than 1 characters'],
    [{ snapshot: 'inline', html: '' }, 'notify-email setting "snapshot" is "inline" but "html" is empty'],
    [{ snapshot: 'embed' }, 'notify-email setting "snapshot" must be equal to constant (expected "attach", "inline" or "none")'],
    [{ timeZone: 'Paris' }, 'notify-email setting "timeZone": time zone "Paris" is not an IANA time zone name such as "Europe/Paris"'],
    [{ version: 2 }, 'notify-email setting "version" is 2: this Glimpser reads versions 1 to 1'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => notifyEmailConfigFrom(def)).toThrow(message);
  });
});
