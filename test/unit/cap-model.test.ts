import { createHash } from 'node:crypto';
import {
  CAP_NAMESPACE,
  CapError,
  checkCapModel,
  circleText,
  formatCapTime,
  parseCap,
  parseCapTime,
  polygonText,
  capResourceDigest,
  resourceFor,
  serializeCap,
  validateCapXml,
  type CapAlert,
  type CapInfo,
} from '../../core/alerts/cap';

/** A full alert with every element CAP 1.2 defines, written in a shuffled property order. */
function everyElement(): CapAlert {
  return {
    info: [
      {
        area: [
          {
            ceiling: 2000,
            altitude: 0.5,
            geocode: [{ valueName: 'SAME', value: '006037' }],
            circle: ['32.9525,-115.5527 0'],
            polygon: ['1,1 1,2 2,2 1,1'],
            areaDesc: 'Yard',
          },
        ],
        resource: [
          {
            digest: capResourceDigest(Buffer.from('jpeg')),
            derefUri: 'anBlZw==',
            uri: 'https://example.org/a.jpg',
            size: 4,
            mimeType: 'image/jpeg',
            resourceDesc: 'Snapshot',
          },
        ],
        parameter: [{ valueName: 'camera', value: 'driveway' }],
        contact: 'Gate house',
        web: 'https://example.org/alerts/1',
        instruction: 'Check the camera.',
        description: 'A person was seen.',
        headline: 'Person at the gate',
        senderName: 'Glimpser',
        expires: '2024-06-06T16:15:00+02:00',
        onset: '2024-06-06T15:15:00+02:00',
        effective: '2024-06-06T15:15:00+02:00',
        eventCode: [{ valueName: 'glimpser', value: 'person' }],
        audience: 'Security staff',
        certainty: 'Observed',
        severity: 'Minor',
        urgency: 'Immediate',
        responseType: ['Monitor', 'Assess'],
        event: 'Intruder',
        category: ['Security', 'Safety'],
        language: 'en-GB',
      },
    ],
    incidents: 'incident-1',
    references: 'glimpser@example.org,earlier-1,2024-06-06T15:00:00+02:00',
    note: 'Exercise run',
    code: ['one', 'two'],
    addresses: 'ops@example.org',
    restriction: 'Staff only',
    scope: 'Private',
    source: 'driveway camera',
    msgType: 'Update',
    status: 'Exercise',
    sent: '2024-06-06T15:15:00+02:00',
    sender: 'glimpser@example.org',
    identifier: 'glimpser-1',
  };
}

const tagsOf = (xml: string) => [...xml.matchAll(/<([a-zA-Z]+)[ >]/g)].map(([, name]) => name);

describe('CAP 1.2 times (§3.3.2)', () => {
  test('UTC is written "-00:00", never "Z", without fractional seconds', () => {
    expect(formatCapTime(new Date('2024-06-06T15:15:00.789Z'))).toBe('2024-06-06T15:15:00-00:00');
  });

  test('a local offset shifts the wall clock and is written ±hh:mm', () => {
    expect(formatCapTime(new Date('2024-06-06T15:15:00Z'), 120)).toBe('2024-06-06T17:15:00+02:00');
    expect(formatCapTime(new Date('2024-01-01T03:00:00Z'), -570)).toBe('2023-12-31T17:30:00-09:30');
  });

  test('an invalid date or offset is refused with what was expected', () => {
    expect(() => formatCapTime(new Date('nope'))).toThrow(/expected a valid Date/);
    expect(() => formatCapTime(new Date(), 1440)).toThrow(/expected whole minutes between -1439 and 1439, got 1440/);
  });

  test('parseCapTime reads the offset and refuses "Z", fractions and impossible dates', () => {
    expect(parseCapTime('2003-06-17T14:57:00-07:00')).toEqual({ date: new Date('2003-06-17T21:57:00Z'), offsetMinutes: -420 });
    expect(parseCapTime('2012-05-02T23:21:04-00:00')?.offsetMinutes).toBe(0);
    for (const bad of ['2003-06-17T14:57:00Z', '2003-06-17T14:57:00.5-07:00', '2003-02-30T14:57:00-07:00', '2003-06-17T24:00:00-07:00'])
      expect(parseCapTime(bad)).toBeUndefined();
  });
});

describe('CAP 1.2 serializer', () => {
  test('writes every element in the XSD sequence order, in the CAP 1.2 namespace (CAP 1.2 §3.2.1–§3.2.4)', async () => {
    const xml = serializeCap(everyElement());
    expect(xml.startsWith(`<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="${CAP_NAMESPACE}">`)).toBe(true);
    expect(tagsOf(xml).slice(0, 14)).toEqual([
      'alert',
      'identifier',
      'sender',
      'sent',
      'status',
      'msgType',
      'source',
      'scope',
      'restriction',
      'addresses',
      'code',
      'code',
      'note',
      'references',
    ]);
    expect(await validateCapXml(xml)).toEqual([]);
    expect(await parseCap(xml)).toEqual(JSON.parse(JSON.stringify(everyElement())));
  });

  test('escapes markup and keeps carriage returns, so text round-trips exactly (XML 1.0 §2.4, §2.11)', async () => {
    const alert = everyElement();
    alert.info![0].headline = 'Tom & Jerry <b>run</b> ]]> "quoted" \'single\'';
    alert.info![0].description = 'line one\r\nline two\n  indented ';
    const xml = serializeCap(alert);
    expect(xml).toContain('<headline>Tom &amp; Jerry &lt;b&gt;run&lt;/b&gt; ]]&gt; "quoted" \'single\'</headline>');
    const back = await parseCap(xml);
    expect(back.info?.[0].headline).toBe(alert.info![0].headline);
    expect(back.info?.[0].description).toBe(alert.info![0].description);
  });

  test('text XML cannot carry is refused naming the element', () => {
    const alert = everyElement();
    alert.info![0].headline = 'bell \u0007';
    expect(() => serializeCap(alert)).toThrow('/alert/info[1]/headline: expected text XML can carry, got U+0007');
  });

  test('decimals are written without exponents (xs:decimal, CAP 1.2 §3.2.4 altitude)', () => {
    const alert = everyElement();
    alert.info![0].area![0].altitude = 1e-7;
    expect(serializeCap(alert)).toContain('<altitude>0.0000001</altitude>');
  });

  test('a model that breaks the schema is refused with the XPath of each element (CAP 1.2 §3.2.2 category, §3.3.2 times)', () => {
    const alert = everyElement() as unknown as { sent: string; info: { category: string[]; colour?: string }[] };
    alert.sent = '2024-06-06T13:15:00Z';
    alert.info[0].category[1] = 'Weather';
    alert.info[0].colour = 'red';
    const problems = checkCapModel(alert);
    expect(problems).toEqual(
      expect.arrayContaining([
        { xpath: '/alert/sent', message: expect.stringContaining('"-00:00" rather than "Z"') },
        { xpath: '/alert/info[1]/category[2]', message: expect.stringMatching(/^expected a category: one of Geo, Met, .* got "Weather"$/) },
        { xpath: '/alert/info[1]/colour', message: 'is not a CAP 1.2 element here' },
      ]),
    );
    const error = (() => {
      try {
        return serializeCap(alert as unknown as CapAlert);
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(CapError);
    expect((error as CapError).refusal).toBe('model');
  });

  test('required elements are named when missing (CAP 1.2 §3.2.1 identifier, §3.2.2 event)', () => {
    const alert = everyElement() as Partial<CapAlert>;
    delete alert.identifier;
    delete (alert.info![0] as Partial<CapInfo>).event;
    expect(checkCapModel(alert).map((problem) => problem.xpath)).toEqual(expect.arrayContaining(['/alert/identifier', '/alert/info[1]/event']));
  });
});

describe('CAP 1.2 resource and area helpers', () => {
  test('digest is the SHA-1 of the bytes in hex (CAP 1.2 §3.2.3, FIPS 180-2 test vector "abc")', () => {
    expect(capResourceDigest(Buffer.from('abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });

  test('resourceFor gives mimeType, size and digest, and base64 derefUri when embedded (CAP 1.2 §3.2.3)', () => {
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    expect(resourceFor({ description: 'Snapshot', mimeType: 'image/jpeg', bytes, uri: 'https://example.org/s.jpg' })).toEqual({
      resourceDesc: 'Snapshot',
      mimeType: 'image/jpeg',
      size: 7,
      uri: 'https://example.org/s.jpg',
      digest: createHash('sha1').update(bytes).digest('hex'),
    });
    expect(resourceFor({ description: 'Snapshot', mimeType: 'image/jpeg', bytes, embed: true }).derefUri).toBe(bytes.toString('base64'));
    expect(() => resourceFor({ description: 'x', mimeType: 'jpeg', bytes })).toThrow(
      'resource mimeType: expected a MIME type such as "image/jpeg", got "jpeg"',
    );
  });

  test('polygonText closes the ring so the first pair is repeated last (CAP 1.2 §3.2.4)', () => {
    expect(
      polygonText([
        [38.47, -120.14],
        [38.34, -119.95],
        [38.52, -119.74],
      ]),
    ).toBe('38.47,-120.14 38.34,-119.95 38.52,-119.74 38.47,-120.14');
    expect(
      polygonText([
        [1, 1],
        [1, 2],
        [2, 2],
        [1, 1],
      ]),
    ).toBe('1,1 1,2 2,2 1,1');
    expect(
      polygonText([
        [0.1234567, 1e-7],
        [1, 2],
        [2, 2],
      ]),
    ).toBe('0.123457,0 1,2 2,2 0.123457,0');
  });

  test('polygonText refuses fewer than three corners and coordinates out of range', () => {
    expect(() =>
      polygonText([
        [1, 1],
        [1, 2],
        [1, 1],
      ]),
    ).toThrow('polygon: expected at least 3 distinct corners, got 2');
    expect(() =>
      polygonText([
        [91, 1],
        [1, 2],
        [2, 2],
      ]),
    ).toThrow('polygon point 1 latitude: expected degrees from -90 to 90, got 91');
  });

  test('circleText is "lat,lon radiusKm" (CAP 1.2 §3.2.4)', () => {
    expect(circleText([32.9525, -115.5527], 0)).toBe('32.9525,-115.5527 0');
    expect(circleText([51.5, -0.12], 2.5)).toBe('51.5,-0.12 2.5');
    expect(() => circleText([0, 0], -1)).toThrow('circle radius: expected kilometres, 0 or more, got -1');
  });
});
