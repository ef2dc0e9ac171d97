import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, envName, loadConfig } from '../../runtime/config';

describe('loadConfig', () => {
  it('applies the documented defaults and resolves the data and media dirs', () => {
    const config = loadConfig({}, '/srv/glimpser');
    expect(config).toMatchObject({
      httpHost: '127.0.0.1',
      httpPort: 1880,
      mqttPort: 1883,
      dataDir: '/srv/glimpser/data',
      mediaDir: '/srv/glimpser/data/media',
      metricsAuth: true,
      logLevel: 'info',
    });
  });

  it('derives every variable name from the schema key', () => {
    expect(envName('httpPort')).toBe('GLIMPSER_HTTP_PORT');
    expect(envName('credentialSecret')).toBe('GLIMPSER_CREDENTIAL_SECRET');
  });

  it('reads and coerces GLIMPSER_* variables', () => {
    const config = loadConfig({ GLIMPSER_HTTP_PORT: '8080', GLIMPSER_METRICS_AUTH: 'false', GLIMPSER_LOG_LEVEL: 'debug' }, '/x');
    expect(config.httpPort).toBe(8080);
    expect(config.metricsAuth).toBe(false);
    expect(config.logLevel).toBe('debug');
  });

  it.each([
    [{ GLIMPSER_HTTP_PORT: 'abc' }, 'GLIMPSER_HTTP_PORT: expected an integer from 0 to 65535, got "abc"'],
    [{ GLIMPSER_MQTT_PORT: '70000' }, 'GLIMPSER_MQTT_PORT: expected an integer from 0 to 65535, got 70000'],
    [{ GLIMPSER_LOG_LEVEL: 'loud' }, 'GLIMPSER_LOG_LEVEL: expected one of error, warn, info, debug, got "loud"'],
    [{ GLIMPSER_METRICS_AUTH: 'maybe' }, 'GLIMPSER_METRICS_AUTH: expected true or false, got "maybe"'],
    [{ GLIMPSER_HTTP_PROT: '1' }, 'GLIMPSER_HTTP_PROT: unknown setting'],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env, '/x')).toThrow(ConfigError);
    expect(() => loadConfig(env, '/x')).toThrow(message);
  });

  it('keeps trustProxy and corsOrigins empty by default: no proxy is believed, no other origin may call the API', () => {
    expect(loadConfig({}, '/x')).toMatchObject({ trustProxy: [], corsOrigins: [] });
  });

  it('reads list settings comma-separated from a variable and as arrays from the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-config-'));
    writeFileSync(path.join(dir, 'lists.json'), JSON.stringify({ corsOrigins: ['https://app.example.com', 'http://localhost:5173'] }));
    expect(loadConfig({ GLIMPSER_TRUST_PROXY: 'loopback, 10.0.0.0/8,::1' }, '/x').trustProxy).toEqual(['loopback', '10.0.0.0/8', '::1']);
    expect(loadConfig({ GLIMPSER_CONFIG: 'lists.json' }, dir).corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
  });

  it.each([
    [{ GLIMPSER_CORS_ORIGINS: 'https://app.example.com/' }, 'GLIMPSER_CORS_ORIGINS: expected a comma-separated list of origins like https://app.example.com'],
    [{ GLIMPSER_CORS_ORIGINS: '*' }, 'GLIMPSER_CORS_ORIGINS: expected a comma-separated list of origins'],
    [{ GLIMPSER_TRUST_PROXY: 'true' }, 'GLIMPSER_TRUST_PROXY: expected a comma-separated list of proxy addresses'],
    [
      { GLIMPSER_TRUST_PROXY: '10.0.0.0/33' },
      'GLIMPSER_TRUST_PROXY: expected a comma-separated list of proxy addresses or subnets (10.0.0.1, 10.0.0.0/8, ::1) or loopback, linklocal, uniquelocal, got "10.0.0.0/33"',
    ],
    [{ GLIMPSER_TRUST_PROXY: '999.1.1.1' }, 'got "999.1.1.1"'],
  ])('refuses the list %j naming the variable and the wrong item', (env, message) => {
    expect(() => loadConfig(env, '/x')).toThrow(ConfigError);
    expect(() => loadConfig(env, '/x')).toThrow(message);
  });

  it('never echoes a secret that failed validation', () => {
    expect(() => loadConfig({ GLIMPSER_ADMIN_PASSWORD: 'short' }, '/x')).toThrow(
      'GLIMPSER_ADMIN_PASSWORD: expected a string of at least 8 characters, got (hidden)',
    );
  });

  it('reads a JSON config file, lets variables override it and refuses unknown keys in it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-config-'));
    writeFileSync(path.join(dir, 'good.json'), JSON.stringify({ httpPort: 9000, mqttPort: 9001 }));
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ httpPortt: 9000 }));
    expect(loadConfig({ GLIMPSER_CONFIG: 'good.json', GLIMPSER_MQTT_PORT: '9999' }, dir)).toMatchObject({ httpPort: 9000, mqttPort: 9999 });
    expect(() => loadConfig({ GLIMPSER_CONFIG: 'bad.json' }, dir)).toThrow('bad.json: unknown key "httpPortt"');
    expect(() => loadConfig({ GLIMPSER_CONFIG: 'missing.json' }, dir)).toThrow(/^GLIMPSER_CONFIG: cannot read missing.json as JSON/);
  });
});
