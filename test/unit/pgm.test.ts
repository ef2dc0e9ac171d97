import { PgmSplitter } from '../../core/frames/pgm';

function pgm(width: number, height: number, fill: number, header = `P5\n${width} ${height}\n255\n`): Buffer {
  return Buffer.concat([Buffer.from(header, 'latin1'), Buffer.alloc(width * height, fill)]);
}

describe('PgmSplitter', () => {
  test('frames planes across arbitrary chunk boundaries, headers split included', () => {
    const stream = Buffer.concat([pgm(4, 2, 1), pgm(4, 2, 2), pgm(4, 2, 3)]);
    for (const size of [1, 2, 3, 7, 15, 16, stream.length]) {
      const splitter = new PgmSplitter();
      const planes = [];
      for (let at = 0; at < stream.length; at += size) planes.push(...splitter.push(stream.subarray(at, at + size)));
      expect(planes.map((p) => [p.width, p.height, [...p.data]])).toEqual([1, 2, 3].map((fill) => [4, 2, Array(8).fill(fill)]));
    }
  });

  test('reads each plane at its own size, so a change of picture size needs no restart', () => {
    const planes = new PgmSplitter().push(Buffer.concat([pgm(4, 2, 9), pgm(6, 3, 8)]));
    expect(planes.map((p) => [p.width, p.height, p.data.length])).toEqual([
      [4, 2, 8],
      [6, 3, 18],
    ]);
  });

  test('gives every plane memory of its own, which later chunks never overwrite', () => {
    const splitter = new PgmSplitter();
    const chunk = pgm(2, 2, 5);
    const [first] = splitter.push(chunk);
    chunk.fill(0);
    splitter.push(pgm(2, 2, 6));
    expect([...first.data]).toEqual([5, 5, 5, 5]);
    expect(first.data.byteLength).toBe(4);
  });

  test('accepts any whitespace ffmpeg or another writer puts between the header fields', () => {
    expect(new PgmSplitter().push(pgm(2, 1, 7, 'P5 2\t1\r\n255 '))).toMatchObject([{ width: 2, height: 1 }]);
  });

  test.each([
    ['bytes that are not PGM', Buffer.from('\xff\xd8\xff\xe0 a JPEG', 'latin1'), /expected a PGM header .*got bytes ff$/],
    ['a 16-bit PGM', pgm(2, 1, 0, 'P5\n2 1\n65535\n'), /maximum value 65535: expected 8-bit planes/],
    ['an absurd size', Buffer.from('P5\n99999 99999\n255\n'), /PGM of 99999x99999 is outside the accepted size/],
    ['a header that never ends', Buffer.from(`P5 ${'1'.repeat(80)}`), /expected a PGM header/],
  ])('refuses %s with an error that says what was expected', (_what, bytes, message) => {
    expect(() => new PgmSplitter().push(bytes)).toThrow(message);
  });
});
