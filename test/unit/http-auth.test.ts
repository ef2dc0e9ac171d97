import {
  basicAuthorization,
  digestAuthorization,
  digestResponse,
  HttpAuthenticator,
  parseAuthenticate,
  toDigestChallenge,
  type DigestChallenge,
} from '../../core/capture/http-auth';

/** RFC 7616 §3.9.1: the two challenges of the example, as two WWW-Authenticate headers. */
const RFC7616_SHA256 = `Digest
    realm="http-auth@example.org",
    qop="auth, auth-int",
    algorithm=SHA-256,
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;
const RFC7616_MD5 = RFC7616_SHA256.replace('SHA-256', 'MD5');
const MUFASA = { username: 'Mufasa', password: 'Circle of Life' };
const REQUEST = { method: 'GET', uri: '/dir/index.html', nc: 1, cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' };

function digestOf(header: string): DigestChallenge {
  const challenge = toDigestChallenge(parseAuthenticate(header)[0]);
  if (typeof challenge === 'string') throw new Error(challenge);
  return challenge;
}

/** The auth-params of an Authorization value, parsed the way a server would. */
function paramsOf(authorization: string): Record<string, string> {
  const [challenge] = parseAuthenticate(authorization);
  return challenge.params;
}

describe('Basic authentication (RFC 7617)', () => {
  it('encodes user-id:password in base64 as in §2 ("Aladdin" / "open sesame")', () => {
    expect(basicAuthorization({ username: 'Aladdin', password: 'open sesame' })).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  });

  it('encodes non-ASCII as UTF-8 as in §2.1 ("test" / "123£")', () => {
    expect(basicAuthorization({ username: 'test', password: '123\u00a3' })).toBe('Basic dGVzdDoxMjPCow==');
  });
});

describe('WWW-Authenticate parsing (RFC 7235 §4.1)', () => {
  it('reads the RFC 7616 §3.9.1 challenge, with its folded lines and quoted lists', () => {
    expect(parseAuthenticate(RFC7616_SHA256)).toEqual([
      {
        scheme: 'digest',
        params: {
          realm: 'http-auth@example.org',
          qop: 'auth, auth-int',
          algorithm: 'SHA-256',
          nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
          opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
        },
      },
    ]);
  });

  it('splits several challenges joined into one header, and unescapes quoted-pairs', () => {
    const parsed = parseAuthenticate('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple", Bearer abc123==');
    expect(parsed).toEqual([
      { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'basic', params: { realm: 'simple' } },
      { scheme: 'bearer', params: { '': 'abc123==' } },
    ]);
  });

  it('stops at a malformed quoted string instead of throwing', () => {
    expect(parseAuthenticate('Digest realm="unterminated')).toEqual([{ scheme: 'digest', params: {} }]);
    expect(parseAuthenticate('')).toEqual([]);
  });
});

describe('Digest authentication (RFC 7616)', () => {
  it('computes the §3.9.1 MD5 response 8ca523f5…', () => {
    expect(digestResponse(digestOf(RFC7616_MD5), MUFASA, REQUEST)).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('computes the §3.9.1 SHA-256 response 753927fa…', () => {
    expect(digestResponse(digestOf(RFC7616_SHA256), MUFASA, REQUEST)).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('builds the §3.9.1 Authorization header with nc, cnonce, qop=auth and the opaque echoed', () => {
    const header = digestAuthorization(digestOf(RFC7616_MD5), MUFASA, REQUEST);
    expect(header.startsWith('Digest ')).toBe(true);
    expect(paramsOf(header)).toEqual({
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      uri: '/dir/index.html',
      algorithm: 'MD5',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      qop: 'auth',
      response: '8ca523f5e9506fed4657c9700eebdbec',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    });
  });

  it('hashes the username with userhash=true as in §3.9.2 (SHA-512-256, values of erratum 4897)', () => {
    const challenge = digestOf(`Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256,
      nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS",
      charset=UTF-8, userhash=true`);
    const params = paramsOf(
      digestAuthorization(
        challenge,
        { username: 'J\u00e4s\u00f8n Doe', password: 'Secret, or not?' },
        {
          method: 'GET',
          uri: '/doe.json',
          nc: 1,
          cnonce: 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v',
        },
      ),
    );
    expect(params).toMatchObject({
      username: '793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b',
      response: '3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5',
      userhash: 'true',
    });
  });

  it('sends a non-ASCII username as username* (§3.4.4) when the server does not ask for userhash', () => {
    const header = digestAuthorization(digestOf(RFC7616_MD5), { username: 'J\u00e4s\u00f8n Doe', password: 'x' }, REQUEST);
    expect(paramsOf(header)['username*']).toBe("UTF-8''J%C3%A4s%C3%B8n%20Doe");
  });

  it('answers the RFC 2069 form (no qop) without nc or cnonce', () => {
    const challenge = digestOf('Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"');
    const params = paramsOf(digestAuthorization(challenge, MUFASA, REQUEST));
    expect(params.nc).toBeUndefined();
    expect(params.qop).toBeUndefined();
    expect(params.response).toMatch(/^[0-9a-f]{32}$/);
  });

  it('derives the session key for -sess algorithms from the nonce and cnonce (§3.4.2)', () => {
    const plain = digestOf(RFC7616_SHA256);
    const session = { ...plain, algorithm: 'SHA-256-sess' as const };
    expect(digestResponse(session, MUFASA, REQUEST)).not.toBe(digestResponse(plain, MUFASA, REQUEST));
    expect(digestResponse(session, MUFASA, REQUEST)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses challenges it cannot answer, saying why', () => {
    expect(toDigestChallenge(parseAuthenticate('Digest realm="r", nonce="n", qop="auth-int"')[0])).toMatch(/qop="auth-int" is not supported/);
    expect(toDigestChallenge(parseAuthenticate('Digest realm="r", nonce="n", algorithm=SHA-1')[0])).toMatch(/algorithm SHA-1 is not supported/);
    expect(toDigestChallenge(parseAuthenticate('Digest realm="r"')[0])).toMatch(/no realm or nonce/);
  });
});

describe('HttpAuthenticator', () => {
  it('sends nothing before a challenge, then answers the strongest Digest algorithm offered', () => {
    const auth = new HttpAuthenticator(MUFASA, () => REQUEST.cnonce);
    expect(auth.header('GET', '/dir/index.html')).toBeUndefined();
    expect(auth.challenge([RFC7616_MD5, RFC7616_SHA256])).toEqual({ retry: true });
    const params = paramsOf(auth.header('GET', '/dir/index.html')!);
    expect(params.algorithm).toBe('SHA-256');
    expect(params.response).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('counts nonce uses (nc) so a remembered nonce can be reused on later requests', () => {
    const auth = new HttpAuthenticator(MUFASA);
    auth.challenge([RFC7616_MD5]);
    expect(paramsOf(auth.header('GET', '/a')!).nc).toBe('00000001');
    expect(paramsOf(auth.header('GET', '/a')!).nc).toBe('00000002');
    auth.challenge([RFC7616_MD5.replace('7ypf', 'fresh')]);
    expect(paramsOf(auth.header('GET', '/a')!).nc).toBe('00000001');
  });

  it('falls back to Basic when that is all the server offers, and sends it up front afterwards', () => {
    const auth = new HttpAuthenticator({ username: 'Aladdin', password: 'open sesame' });
    expect(auth.challenge(['Basic realm="camera"'])).toEqual({ retry: true });
    expect(auth.header('GET', '/snap')).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
    expect(auth.header('GET', '/snap')).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  });

  it('does not retry without credentials or with only unsupported schemes', () => {
    expect(new HttpAuthenticator(undefined).challenge(['Basic realm="x"'])).toEqual({ retry: false, reason: expect.stringContaining('none is configured') });
    expect(new HttpAuthenticator(MUFASA).challenge(['Negotiate', 'Digest realm="r", nonce="n", qop="auth-int"'])).toEqual({
      retry: false,
      reason: expect.stringMatching(/negotiate, digest.*auth-int/),
    });
  });
});
