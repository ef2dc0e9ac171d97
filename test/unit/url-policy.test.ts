import { embeddedIpv4, ipv6Words } from '../../core/net/ip-address';
import { PolicyProxy } from '../../core/net/policy-proxy';
import { addressRefusal, blockedAddressReason, checkWebUrl, checkWebUrlResolved } from '../../core/net/url-policy';

describe('IPv6 forms that embed an IPv4 address', () => {
  it.each([
    ['::ffff:169.254.169.254', 'IPv4-mapped, dotted'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped, hex (what the URL parser makes of the dotted form)'],
    ['0:0:0:0:0:FFFF:A9FE:A9FE', 'IPv4-mapped, written out in upper case'],
    ['::ffff:0:a9fe:a9fe', 'IPv4-translated (RFC 2765)'],
    ['::169.254.169.254', 'IPv4-compatible, dotted'],
    ['::a9fe:a9fe', 'IPv4-compatible, hex'],
    ['64:ff9b::169.254.169.254', 'NAT64 well-known prefix (RFC 6052)'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 well-known prefix, hex'],
    ['64:ff9b:1::a9fe:a9fe', 'NAT64 local-use prefix, /96 (RFC 8215)'],
    ['64:ff9b:1:a9fe:a9:fe00::', 'NAT64 local-use prefix, /48 (bits 64-71 skipped)'],
    ['2002:a9fe:a9fe::1', '6to4 (RFC 3056)'],
    ['2001:0:4136:e378:8000:63bf:5601:5601', 'Teredo, client address inverted'],
    ['fe80::1%eth0', 'link-local with a zone index'],
  ])('%s (%s) is refused like 169.254.169.254', (ip) => {
    expect(blockedAddressReason(ip)).toMatch(/link-local/);
  });

  it('unwraps each form to the IPv4 address it carries', () => {
    expect(embeddedIpv4('::ffff:127.0.0.1')).toEqual(['127.0.0.1']);
    expect(embeddedIpv4('64:ff9b::7f00:1')).toEqual(['127.0.0.1']);
    expect(embeddedIpv4('2002:7f00:1::')).toEqual(['127.0.0.1']);
    expect(embeddedIpv4('2001:db8::1')).toEqual([]);
    expect(embeddedIpv4('::1')).toEqual([]);
    expect(ipv6Words('1::2:3')).toEqual([1, 0, 0, 0, 0, 0, 2, 3]);
    expect(ipv6Words('169.254.169.254')).toBeNull();
  });

  it('leaves ordinary addresses alone', () => {
    for (const ip of ['8.8.8.8', '192.168.1.10', '10.0.0.1', '2001:db8::1', '::ffff:192.168.1.10', '64:ff9b::808:808', '2002:808:808::1']) {
      expect(addressRefusal(ip, { refuseLoopback: true })).toBeNull();
    }
  });

  it('refuses loopback, in every form, only when asked to', () => {
    for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::7f00:1', '2002:7f00:1::']) {
      expect(addressRefusal(ip)).toBeNull();
      expect(addressRefusal(ip, { refuseLoopback: true })?.kind).toBe('loopback');
    }
    expect(addressRefusal('::')?.kind).toBe('unspecified');
    expect(addressRefusal('::ffff:0.0.0.0')?.kind).toBe('unspecified');
  });
});

describe('checkWebUrl', () => {
  it.each(['http://[::ffff:169.254.169.254]/', 'http://[::ffff:a9fe:a9fe]/latest/', 'http://[64:ff9b::169.254.169.254]/', 'http://[2002:a9fe:a9fe::]/'])(
    'refuses %s before anything is fetched',
    (url) => {
      expect(() => checkWebUrl(url)).toThrow(/an IPv6 form of 169\.254\.169\.254, a link-local address .*allow-list/);
    },
  );

  it('reads the URL parser’s other spellings of an IPv4 address as that address', () => {
    for (const url of ['http://2852039166/', 'http://0xa9.0xfe.0xa9.0xfe/', 'http://169.254.43518/'])
      expect(() => checkWebUrl(url)).toThrow(/169\.254\.169\.254/);
  });

  it('takes allow-list entries as a host (any port) or host:port (that port only)', () => {
    expect(checkWebUrl('http://169.254.10.2:8080/', { allowHosts: ['169.254.10.2'] }).port).toBe('8080');
    expect(checkWebUrl('http://169.254.10.2:8080/', { allowHosts: ['169.254.10.2:8080'] }).port).toBe('8080');
    expect(() => checkWebUrl('http://169.254.10.2:9090/', { allowHosts: ['169.254.10.2:8080'] })).toThrow(/allow-list/);
    expect(checkWebUrl('http://169.254.10.2/', { allowHosts: ['169.254.10.2:80'] }).hostname).toBe('169.254.10.2');
    expect(checkWebUrl('http://[::1]:3000/', { allowHosts: ['[::1]:3000'], refuseLoopback: true }).port).toBe('3000');
    expect(() => checkWebUrl('http://127.0.0.1:3001/', { allowHosts: ['127.0.0.1:3000'], refuseLoopback: true })).toThrow(/loopback/);
  });

  it('checks what a name resolves to', async () => {
    await expect(checkWebUrlResolved('http://localhost/', { refuseLoopback: true })).rejects.toThrow(/localhost resolves to .*loopback/);
    await expect(checkWebUrlResolved('http://localhost/')).resolves.toBeInstanceOf(URL);
  });
});

describe('the policy proxy’s verdicts', () => {
  let proxy: PolicyProxy;
  beforeAll(async () => {
    proxy = await PolicyProxy.start({ lookup: async (host) => (host === 'rebind.test' ? ['93.184.216.34', '169.254.169.254'] : ['192.0.2.7']) });
  });
  afterAll(() => proxy.close());
  afterEach(() => proxy.setRules(null));

  it('refuses everything while no capture is under way', async () => {
    expect(await proxy.check(new URL('http://192.0.2.7/'))).toMatchObject({ refused: 'idle' });
  });

  it('lets loopback through only at the configured host and port, and pins the address it checked', async () => {
    proxy.setRules({ origin: new URL('http://127.0.0.1:8123/dash'), allowHosts: [] });
    expect(await proxy.check(new URL('http://127.0.0.1:8123/api'))).toEqual({ address: '127.0.0.1' });
    expect(await proxy.check(new URL('http://127.0.0.1:1880/'))).toMatchObject({ refused: 'loopback', status: 403 });
    expect(await proxy.check(new URL('http://[::ffff:7f00:1]:1880/'))).toMatchObject({ refused: 'loopback' });
    expect(await proxy.check(new URL('http://[::ffff:169.254.169.254]/'))).toMatchObject({ refused: 'link-local' });
    expect(await proxy.check(new URL('http://metadata.google.internal/'))).toMatchObject({ refused: 'metadata' });
    expect(await proxy.check(new URL('http://example.test/'))).toEqual({ address: '192.0.2.7' });
    expect(await proxy.check(new URL('http://rebind.test/'))).toMatchObject({ refused: 'link-local', reason: /rebind\.test resolves to 169\.254\.169\.254/ });
  });
});
