import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CAP_MAX_BYTES, CapError, guardCapInput, parseCap, serializeCap, validateCapXml } from '../../core/alerts/cap';
import { loadLibxml } from '../../core/alerts/cap/libxml';

/** The public CAP material beside the clone (see its README.md for sources and expected results). */
const CAP_DATA = path.resolve(__dirname, '../../../shared/testdata/cap');
const filesIn = (folder: string) => readdirSync(path.join(CAP_DATA, folder)).map((name) => path.join(folder, name));
const read = (file: string) => readFileSync(path.join(CAP_DATA, file));

/** The README's table: file → VALID or INVALID under `xmllint --schema CAP-v1.2.xsd`. */
const EXPECTED = new Map(
  [...readFileSync(path.join(CAP_DATA, 'README.md'), 'utf8').matchAll(/^(\S+\.(?:xml|cap))\t(VALID|INVALID)$/gm)].map(([, file, result]) => [file, result]),
);

async function refusal(input: string | Uint8Array): Promise<CapError> {
  const error = await parseCap(input).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof CapError)) throw new Error(`expected a CapError, got ${String(error)}`);
  return error;
}

/** Canonical XML (C14N 1.0, no comments) without the whitespace-only text between elements, for comparing documents. */
async function canonical(xml: string | Uint8Array): Promise<string> {
  const libxml = await loadLibxml();
  const doc = typeof xml === 'string' ? libxml.XmlDocument.fromString(xml) : libxml.XmlDocument.fromBuffer(xml);
  try {
    for (const blank of doc.find('//text()[normalize-space(.) = ""]')) blank.remove();
    return doc.canonicalizeToString({ mode: libxml.XmlC14NMode.XML_C14N_1_0 });
  } finally {
    doc.dispose();
  }
}

describe('CAP 1.2 parser and XSD validation', () => {
  test('the shipped schema is the OASIS CAP 1.2 XSD, byte for byte', () => {
    expect(readFileSync(path.join(__dirname, '../../core/alerts/cap/schema/CAP-v1.2.xsd'))).toEqual(read('schema/CAP-v1.2.xsd'));
  });

  test('the README lists every test file with its expected schema result', () => {
    expect([...EXPECTED.keys()].sort()).toEqual([...filesIn('oasis-spec-examples'), ...filesIn('negative')].sort());
  });

  test('the canonical form used for round trips keeps content and drops only the indentation', async () => {
    const form = await canonical(read('oasis-spec-examples/cap12_appendix_A1.xml'));
    expect(form).toContain('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>43b080713727</identifier><sender>hsas@dhs.gov</sender>');
    expect(form).toContain('<instruction> A High Condition');
  });

  describe.each(filesIn('oasis-spec-examples'))('%s', (file) => {
    test('is valid against the OASIS XSD (CAP 1.2 §3.4)', async () => {
      expect(await validateCapXml(read(file))).toEqual([]);
    });

    test('round-trips: parse → serialize gives the same canonical XML (CAP 1.2 §3.2 element order)', async () => {
      const alert = await parseCap(read(file));
      const written = serializeCap(alert);
      expect(await canonical(written)).toBe(await canonical(read(file)));
      expect(await validateCapXml(written)).toEqual([]);
      expect(await parseCap(written)).toEqual(alert);
    });
  });

  test('the Appendix A.2 thunderstorm warning reads into the model (CAP 1.2 Appendix A.2)', async () => {
    const alert = await parseCap(read('oasis-spec-examples/cap12_appendix_A2.xml'));
    expect(alert).toMatchObject({ identifier: 'KSTO1055887203', sent: '2003-06-17T14:57:00-07:00', status: 'Actual', msgType: 'Alert', scope: 'Public' });
    expect(alert.info?.[0]).toMatchObject({
      category: ['Met'],
      responseType: ['Shelter'],
      eventCode: [{ valueName: 'SAME', value: 'SVR' }],
      expires: '2003-06-17T16:00:00-07:00',
    });
    expect(alert.info?.[0].area?.[0].polygon).toEqual(['38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14']);
    expect(alert.info?.[0].area?.[0].geocode).toHaveLength(3);
  });

  test('schema-valid files that differ only in their XML signature parse (signatures are not verified)', async () => {
    for (const file of filesIn('negative').filter((name) => EXPECTED.get(name) === 'VALID')) {
      await expect(parseCap(read(file))).resolves.toMatchObject({ identifier: expect.any(String) });
    }
  });

  test.each(filesIn('negative').filter((file) => EXPECTED.get(file) === 'INVALID' && !file.endsWith('xee.cap')))(
    '%s is rejected with the XPath and line of the offending element (CAP 1.2 §3.4)',
    async (file) => {
      const error = await refusal(read(file));
      expect(['schema', 'not-cap']).toContain(error.refusal);
      expect(error.problems[0]).toEqual({ xpath: expect.stringMatching(/^\/\w+/), line: expect.any(Number), message: expect.any(String) });
      expect(error.message).toContain(error.problems[0].xpath);
    },
  );

  test('a missing <scope> is named at the element where it was expected (CAP 1.2 §3.2.1)', async () => {
    const error = await refusal(read('negative/google_invalid.cap'));
    expect(error.problems[0]).toMatchObject({ xpath: '/alert/info[1]', line: 9 });
    expect(error.message).toMatch(/scope/);
  });

  test('elements out of the XSD sequence are named by XPath and line (CAP 1.2 §3.2.2)', async () => {
    expect((await refusal(read('negative/wmo_tg_invalid_schema.xml'))).problems[0]).toMatchObject({ xpath: '/alert/info[1]/audience', line: 16 });
    expect((await refusal(read('negative/wmo_bf_invalid_schema.xml'))).problems[0]).toMatchObject({ xpath: '/alert/info[1]/certainty', line: 16 });
  });

  test('a document that is not an alert says what its root is', async () => {
    const error = await refusal(read('negative/wmo_sc_invalid_schema.xml'));
    expect(error.refusal).toBe('not-cap');
    expect(error.message).toContain('{http://www.w3.org/2001/XMLSchema}schema');
  });

  test.each(filesIn('cap11-for-reference'))('%s is refused as CAP 1.1', async (file) => {
    const error = await refusal(read(file));
    expect(error.refusal).toBe('old-version');
    expect(error.message).toMatch(/CAP 1\.1/);
  });

  test('malformed XML is refused with its line', async () => {
    const error = await refusal('<?xml version="1.0"?>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">\n<identifier>x</sender>\n</alert>');
    expect(error.refusal).toBe('malformed');
    expect(error.problems[0].line).toBe(3);
  });
});

describe('CAP input guard (before any XML parser)', () => {
  test('the XXE probe google_xee.cap is refused at its DOCTYPE, before parsing', async () => {
    const xee = read('negative/google_xee.cap');
    expect(() => guardCapInput(xee)).toThrow(/line 3: it declares a DOCTYPE/);
    const error = await refusal(xee);
    expect(error.refusal).toBe('doctype');
    expect(error.problems).toEqual([{ line: 3, message: expect.stringContaining('DOCTYPE') }]);
  });

  test('a billion-laughs document is refused before parsing', async () => {
    const lol = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, n) => `<!ENTITY lol${n + 1} "${`&lol${n === 0 ? '' : n};`.repeat(10)}">`)];
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE alert [\n${lol.join('\n')}\n]>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><note>&lol9;</note></alert>`;
    expect(() => guardCapInput(bomb)).toThrow(/DOCTYPE/);
    expect((await refusal(bomb)).refusal).toBe('doctype');
    expect((await refusal(bomb.replace(/<!DOCTYPE alert \[\n/, '').replace(']>\n', ''))).refusal).toBe('doctype');
  });

  test('a 2 MB document is refused before parsing (limit 1 MiB)', async () => {
    const big = read('oasis-spec-examples/cap12_appendix_A1.xml')
      .toString('utf8')
      .replace('<description>', `<description>${'x'.repeat(2_000_000)}`);
    expect(() => guardCapInput(big)).toThrow(/limit is 1048576 bytes/);
    expect((await refusal(big)).refusal).toBe('too-large');
    expect((await refusal(Buffer.from(big))).message).toMatch(/has \d+ bytes; the limit is 1048576 bytes/);
  });

  test('a document of exactly 1 MiB is still read', () => {
    const text = read('oasis-spec-examples/cap12_appendix_A1.xml').toString('utf8');
    expect(() => guardCapInput(text + ' '.repeat(CAP_MAX_BYTES - Buffer.byteLength(text)))).not.toThrow();
  });

  test('UTF-16 input (NUL bytes) is refused, so the DOCTYPE check cannot be dodged by encoding', async () => {
    const utf16 = Buffer.from(`\ufeff${read('negative/google_xee.cap').toString('utf8')}`, 'utf16le');
    expect((await refusal(utf16)).refusal).toBe('encoding');
  });

  test('libxml2-wasm itself reads no local file for an external entity, even when asked to substitute entities', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'cap-xxe-'));
    try {
      const secret = path.join(folder, 'secret.txt');
      writeFileSync(secret, 'SECRET-FROM-DISK');
      const libxml = await loadLibxml();
      const option = libxml.ParseOption.XML_PARSE_NOENT | libxml.ParseOption.XML_PARSE_DTDLOAD;
      const doc = libxml.XmlDocument.fromString(`<!DOCTYPE a [<!ENTITY xxe SYSTEM "file://${secret}">]><a>&xxe;</a>`, { option });
      try {
        expect(doc.toString()).not.toContain('SECRET-FROM-DISK');
      } finally {
        doc.dispose();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
