import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CAP_PROFILES, checkCapProfile, parseCap, type CapAlert, type CapCategory } from '../../core/alerts/cap';

const CAP_DATA = path.resolve(__dirname, '../../../shared/testdata/cap');
const load = (file: string) => parseCap(readFileSync(path.join(CAP_DATA, file)));
const xpaths = (problems: { xpath?: string }[]) => problems.map((problem) => problem.xpath);

/** Appendix A.2, the thunderstorm warning: an EAS-style alert that meets IPAWS once it declares the profile. */
async function thunderstorm(): Promise<CapAlert> {
  const alert = await load('oasis-spec-examples/cap12_appendix_A2.xml');
  return { ...alert, code: ['IPAWSv1.0'] };
}

describe('oasis-strict profile', () => {
  test.each(readdirSync(path.join(CAP_DATA, 'oasis-spec-examples')))('the specification example %s has no errors', async (file) => {
    expect(checkCapProfile(await load(`oasis-spec-examples/${file}`), 'oasis-strict').errors).toEqual([]);
  });

  test('an Update with empty <references> is an error at /alert/references (CAP 1.2 §3.2.1 msgType; google_canada_errors.cap)', async () => {
    const result = checkCapProfile(await load('negative/google_canada_errors.cap'), 'oasis-strict');
    expect(result.errors).toEqual([{ xpath: '/alert/references', message: expect.stringContaining('msgType Update needs <references>') }]);
  });

  test('Cancel, Ack and Error need references in the "sender,identifier,sent" form (CAP 1.2 §3.2.1 references)', async () => {
    const base = await thunderstorm();
    for (const msgType of ['Cancel', 'Ack', 'Error'] as const)
      expect(xpaths(checkCapProfile({ ...base, msgType }, 'oasis-strict').errors)).toEqual(['/alert/msgType']);
    const malformed = checkCapProfile({ ...base, msgType: 'Cancel', references: 'KSTO@NWS.NOAA.GOV,KSTO1055887203 x,y,2003-06-17T14:57:00Z' }, 'oasis-strict');
    expect(malformed.errors.map((problem) => problem.message)).toEqual([
      expect.stringContaining('got "KSTO@NWS.NOAA.GOV,KSTO1055887203"'),
      expect.stringContaining('got "x,y,2003-06-17T14:57:00Z"'),
    ]);
    expect(
      checkCapProfile({ ...base, msgType: 'Cancel', references: 'a@b,1,2003-06-17T14:57:00-07:00 a@b,2,2003-06-17T15:00:00-07:00' }, 'oasis-strict').errors,
    ).toEqual([]);
  });

  test('scope Private needs <addresses>, Restricted needs <restriction> (CAP 1.2 §3.2.1 scope)', async () => {
    const base = await thunderstorm();
    expect(checkCapProfile({ ...base, scope: 'Private' }, 'oasis-strict').errors).toEqual([
      { xpath: '/alert/scope', message: expect.stringContaining('<addresses> is required') },
    ]);
    expect(checkCapProfile({ ...base, scope: 'Restricted', restriction: ' ' }, 'oasis-strict').errors).toEqual([
      { xpath: '/alert/scope', message: expect.stringContaining('<restriction> is required') },
    ]);
    expect(checkCapProfile({ ...base, scope: 'Private', addresses: 'ops@example.org' }, 'oasis-strict').errors).toEqual([]);
    expect(xpaths(checkCapProfile({ ...base, restriction: 'staff' }, 'oasis-strict').recommendations)).toEqual(['/alert/restriction']);
  });

  test('identifier and sender carry no spaces, commas, "<" or "&" (CAP 1.2 §3.2.1)', async () => {
    const result = checkCapProfile({ ...(await thunderstorm()), identifier: 'a b', sender: 'x,y' }, 'oasis-strict');
    expect(xpaths(result.errors)).toEqual(['/alert/identifier', '/alert/sender']);
  });

  test('times need a time-zone offset and no "Z" (CAP 1.2 §3.3.2)', async () => {
    const base = await thunderstorm();
    const info = { ...base.info![0], expires: '2003-06-17T16:00:00Z', onset: '2003-06-17T15:00:00.5-07:00' };
    expect(xpaths(checkCapProfile({ ...base, sent: '2003-06-17T14:57:00', info: [info] }, 'oasis-strict').errors)).toEqual([
      '/alert/sent',
      '/alert/info[1]/onset',
      '/alert/info[1]/expires',
    ]);
  });

  test('<web> must be a full, absolute URI (CAP 1.2 §3.2.2 web)', async () => {
    const base = await thunderstorm();
    const result = checkCapProfile({ ...base, info: [{ ...base.info![0], web: '/alerts/1' }] }, 'oasis-strict');
    expect(result.errors).toEqual([{ xpath: '/alert/info[1]/web', message: 'expected a full, absolute URI (CAP 1.2 §3.2.2), got "/alerts/1"' }]);
  });

  test('resources need a mimeType, an absolute uri and a SHA-1 hex digest (CAP 1.2 §3.2.3)', async () => {
    const base = await thunderstorm();
    const resource = [
      { resourceDesc: 'ok', mimeType: 'image/jpeg', uri: 'https://example.org/a.jpg', digest: 'a9993e364706816aba3e25717850c26c9cd0d89d' },
      { resourceDesc: 'bad', mimeType: ' ', uri: 'a.jpg', digest: 'a9993e36' },
      { resourceDesc: 'embedded', mimeType: 'image/jpeg', uri: 'a.jpg', derefUri: 'not base64!' },
    ];
    expect(xpaths(checkCapProfile({ ...base, info: [{ ...base.info![0], resource }] }, 'oasis-strict').errors)).toEqual([
      '/alert/info[1]/resource[2]/mimeType',
      '/alert/info[1]/resource[2]/uri',
      '/alert/info[1]/resource[2]/digest',
      '/alert/info[1]/resource[3]/derefUri',
    ]);
  });

  test('polygons are closed rings of 4+ pairs, circles "lat,lon radius", ceiling only with altitude (CAP 1.2 §3.2.4)', async () => {
    const base = await thunderstorm();
    const area = [
      { areaDesc: 'open', polygon: ['1,1 1,2 2,2 2,1', '1,1 2,2 1,1', '1,1 1,2 2,2 1,1'], circle: ['32.9525,-115.5527 0', '32.9525 -115.5527 1', '95,0 1'] },
      { areaDesc: 'ceiling', ceiling: 100 },
      { areaDesc: 'inverted', altitude: 200, ceiling: 100 },
    ];
    expect(xpaths(checkCapProfile({ ...base, info: [{ ...base.info![0], area }] }, 'oasis-strict').errors)).toEqual([
      '/alert/info[1]/area[1]/polygon[1]',
      '/alert/info[1]/area[1]/polygon[2]',
      '/alert/info[1]/area[1]/circle[2]',
      '/alert/info[1]/area[1]/circle[3]',
      '/alert/info[1]/area[2]/ceiling',
      '/alert/info[1]/area[3]/altitude',
    ]);
  });

  test('SHOULD rules are recommendations, not errors (CAP 1.2 §3.2.2 headline)', async () => {
    const base = await thunderstorm();
    const result = checkCapProfile({ ...base, info: [{ ...base.info![0], headline: 'x'.repeat(161) }] }, 'oasis-strict');
    expect(result.errors).toEqual([]);
    expect(xpaths(result.recommendations)).toEqual(['/alert/info[1]/headline']);
  });
});

describe('ipaws-1.0 profile', () => {
  test('the Appendix A.2 thunderstorm warning meets IPAWS 1.0 once it declares <code>IPAWSv1.0</code>', async () => {
    const withoutCode = await load('oasis-spec-examples/cap12_appendix_A2.xml');
    expect(checkCapProfile(withoutCode, 'ipaws-1.0').errors).toEqual([
      { xpath: '/alert', message: expect.stringContaining('<code>IPAWSv1.0</code> is required') },
    ]);
    expect(checkCapProfile(await thunderstorm(), 'ipaws-1.0')).toEqual({ errors: [], recommendations: [] });
  });

  test('includes the oasis-strict rules', async () => {
    expect(xpaths(checkCapProfile({ ...(await thunderstorm()), scope: 'Private' }, 'ipaws-1.0').errors)).toEqual(['/alert/scope']);
  });

  test('every <info> needs <expires>, one SAME event code and an <area> (Appendix A.4 has no expires)', async () => {
    const amber = { ...(await load('oasis-spec-examples/cap12_appendix_A4.xml')), code: ['IPAWSv1.0'] };
    expect(checkCapProfile(amber, 'ipaws-1.0').errors).toEqual([
      { xpath: '/alert/info[1]', message: '<expires> is required (IPAWS profile 1.0)' },
      { xpath: '/alert/info[2]', message: '<expires> is required (IPAWS profile 1.0)' },
    ]);
    const base = await thunderstorm();
    const twoSame = { ...base.info![0], eventCode: [...base.info![0].eventCode!, { valueName: 'SAME', value: 'TOR' }] };
    expect(checkCapProfile({ ...base, info: [twoSame] }, 'ipaws-1.0').errors).toEqual([
      { xpath: '/alert/info[1]', message: expect.stringContaining('exactly one <eventCode> with valueName "SAME"') },
    ]);
    const noArea = { ...base.info![0], area: undefined };
    expect(checkCapProfile({ ...base, info: [noArea] }, 'ipaws-1.0').errors).toEqual([
      { xpath: '/alert/info[1]', message: 'at least one <area> is required (IPAWS profile 1.0)' },
    ]);
  });

  test('all <info> blocks carry the same categories and event codes', async () => {
    const base = await thunderstorm();
    const spanish = { ...base.info![0], language: 'es-US', category: ['Met', 'Safety'] as CapCategory[] };
    const result = checkCapProfile(
      { ...base, info: [base.info![0], spanish, { ...base.info![0], eventCode: [{ valueName: 'SAME', value: 'TOR' }] }] },
      'ipaws-1.0',
    );
    expect(result.errors).toEqual([
      { xpath: '/alert/info[2]', message: expect.stringContaining('same <category> values') },
      { xpath: '/alert/info[3]', message: expect.stringContaining('same <eventCode> values') },
    ]);
  });

  test('ignored or missing fields are recommendations: effective, onset, description, instruction, SAME geocode, a zero offset', async () => {
    const base = await thunderstorm();
    const info = {
      ...base.info![0],
      effective: '2003-06-17T14:57:00-07:00',
      onset: '2003-06-17T14:57:00-07:00',
      description: undefined,
      instruction: ' ',
      expires: '2003-06-17T23:00:00-00:00',
    };
    info.area = [{ areaDesc: 'county', geocode: [{ valueName: 'FIPS6', value: '006109' }] }];
    const result = checkCapProfile({ ...base, info: [info] }, 'ipaws-1.0');
    expect(result.errors).toEqual([]);
    expect(xpaths(result.recommendations)).toEqual([
      '/alert/info[1]/expires',
      '/alert/info[1]/effective',
      '/alert/info[1]/onset',
      '/alert/info[1]',
      '/alert/info[1]',
      '/alert/info[1]/area[1]',
    ]);
  });
});

test('profiles are chosen by id from one list, and an unknown id names the choices', () => {
  expect(Object.keys(CAP_PROFILES)).toEqual(['oasis-strict', 'ipaws-1.0']);
  expect(() => checkCapProfile({} as CapAlert, 'ipaws-2')).toThrow('CAP profile "ipaws-2" is unknown: expected one of oasis-strict, ipaws-1.0');
});
