import { smtpConfig, smtpConfigFrom } from '../../../nodes/glimpser-smtp/schema';
import { currentVersion } from '../../../nodes/shared/config';

const FIRST_RELEASE = {
  version: 1,
  name: '',
  host: '',
  port: 587,
  security: 'starttls',
  allowPlaintext: false,
  rejectUnauthorized: true,
  ca: '',
  from: '',
  pool: true,
  maxConnections: 2,
  timeout: 30,
};

const CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUeXl5\n-----END CERTIFICATE-----';

describe('glimpser-smtp node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(smtpConfig.schema)).toBe(1);
    expect(smtpConfig.migrations).toEqual([]);
  });

  it('loads a version 1 config node as a flow saved it, Node-RED keys and all', () => {
    const v1 = {
      id: 's1',
      type: 'glimpser-smtp',
      _users: ['e1'],
      credentials: { username: 'u', password: 'p' },
      version: 1,
      name: 'Office',
      host: 'smtp.example.com',
      port: 465,
      security: 'tls',
      allowPlaintext: false,
      rejectUnauthorized: true,
      ca: CA,
      from: 'Glimpser <alerts@example.com>',
      pool: false,
      maxConnections: 1,
      timeout: 20,
    };
    expect(smtpConfigFrom(v1)).toEqual({
      ...FIRST_RELEASE,
      name: 'Office',
      host: 'smtp.example.com',
      port: 465,
      security: 'tls',
      ca: CA,
      from: 'Glimpser <alerts@example.com>',
      pool: false,
      maxConnections: 1,
      timeout: 20,
    });
  });

  it("reads a node saved without a version as version 1 with the first release's defaults (not configured, STARTTLS on 587)", () => {
    expect(smtpConfigFrom({ id: 's1', type: 'glimpser-smtp' })).toEqual(FIRST_RELEASE);
  });

  it('reads numbers typed as text, and host and sender without surrounding blanks', () => {
    expect(
      smtpConfigFrom({ version: '1', port: '2525', timeout: '7.5', maxConnections: '3', host: ' mail.example.com ', from: ' a@example.com ' }),
    ).toMatchObject({
      version: 1,
      port: 2525,
      timeout: 7.5,
      maxConnections: 3,
      host: 'mail.example.com',
      from: 'a@example.com',
    });
  });

  it('allows mail without TLS to a loopback relay, and elsewhere only when the user opts in', () => {
    expect(smtpConfigFrom({ host: 'localhost', port: 25, security: 'none' })).toMatchObject({ security: 'none' });
    expect(smtpConfigFrom({ host: '::1', port: 25, security: 'none' })).toMatchObject({ security: 'none' });
    expect(smtpConfigFrom({ host: '10.0.0.5', security: 'none', allowPlaintext: true })).toMatchObject({ allowPlaintext: true });
  });

  it.each([
    [
      { host: 'smtp.example.com/x' },
      /^glimpser-smtp setting "host" must match pattern .* \(expected a host name such as smtp\.example\.com, or an IP address\)$/,
    ],
    [{ port: 0 }, 'glimpser-smtp setting "port" must be >= 1'],
    [{ security: 'ssl' }, 'glimpser-smtp setting "security" must be equal to constant (expected "tls", "starttls" or "none")'],
    [
      { from: 'alerts at example.com' },
      'glimpser-smtp setting "from": "alerts at example.com" is not an email address (expected name@example.com or Name <name@example.com>)',
    ],
    [{ ca: 'not a certificate' }, 'glimpser-smtp setting "ca" is not a PEM certificate'],
    [
      { host: 'smtp.example.com', security: 'none' },
      'glimpser-smtp setting "security" is "none" for smtp.example.com: mail and password would cross the network unencrypted',
    ],
    [{ password: 'secret-in-the-flow' }, 'glimpser-smtp setting "password" must NOT have additional properties'],
    [{ version: 2 }, 'glimpser-smtp setting "version" is 2: this Glimpser reads versions 1 to 1'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => smtpConfigFrom(def)).toThrow(message);
  });
});
