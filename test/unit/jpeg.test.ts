import { execFileSync } from 'node:child_process';
import { JpegSplitter, isJpeg, jpegDimensions, type JpegRejectReason } from '../../core/frames/jpeg';

/** One real JPEG from ffmpeg's MJPEG encoder, the same encoder capture uses. */
function ffmpegJpeg(source: string, quality = 5): Buffer {
  return execFileSync(
    '/usr/bin/ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      source,
      '-frames:v',
      '1',
      '-c:v',
      'mjpeg',
      '-q:v',
      String(quality),
      '-f',
      'image2pipe',
      'pipe:1',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
}

/** A JPEG whose APP1 (EXIF) segment holds a whole thumbnail JPEG, so it contains FF D8 and FF D9 before its scan. */
function withThumbnail(image: Buffer, thumbnail: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), thumbnail]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([image.subarray(0, 2), header, body, image.subarray(2)]);
}

function splitInChunks(stream: Buffer, sizes: (index: number) => number, splitter = new JpegSplitter()): Buffer[] {
  const frames: Buffer[] = [];
  for (let at = 0, i = 0; at < stream.length; i++) {
    const end = Math.min(stream.length, at + sizes(i));
    frames.push(...splitter.push(stream.subarray(at, end)));
    at = end;
  }
  return frames;
}

function recorder(): { rejects: [JpegRejectReason, number][]; onReject: (reason: JpegRejectReason, bytes: number) => void } {
  const rejects: [JpegRejectReason, number][] = [];
  return { rejects, onReject: (reason, bytes) => rejects.push([reason, bytes]) };
}

let small: Buffer;
let wide: Buffer;
let big: Buffer;
let exif: Buffer;

beforeAll(() => {
  small = ffmpegJpeg('testsrc2=size=64x48:rate=1');
  wide = ffmpegJpeg('testsrc2=size=96x64:rate=1');
  // Noise defeats compression: about 2 MB in one frame.
  big = ffmpegJpeg('testsrc2=size=1920x1080:rate=1,noise=alls=100:allf=t', 2);
  exif = withThumbnail(small, wide);
});

describe('JpegSplitter', () => {
  test('finds every frame at every possible chunk boundary, with garbage and an EXIF thumbnail in the stream', () => {
    const stream = Buffer.concat([
      Buffer.from('garbage\0\xff\x00\xff', 'latin1'),
      small,
      Buffer.from([0xff, 0xd9, 0x00, 0x42, 0xff]),
      exif,
      Buffer.from('trailing text between frames', 'latin1'),
      wide,
    ]);
    const expected = [small, exif, wide];
    for (let cut = 0; cut <= stream.length; cut++) {
      const splitter = new JpegSplitter();
      const frames = [...splitter.push(stream.subarray(0, cut)), ...splitter.push(stream.subarray(cut))];
      if (frames.length !== 3 || !frames.every((frame, i) => frame.equals(expected[i]))) {
        throw new Error(`split at byte ${cut} gave ${frames.length} frames, not the 3 expected`);
      }
    }
    expect(splitInChunks(stream, () => 1)).toEqual(expected);
    expect(splitInChunks(stream, (i) => 1 + ((i * 7919) % 613))).toEqual(expected);
  });

  test('an EOI inside the APP1 segment does not end the frame early', () => {
    expect(exif.indexOf(Buffer.from([0xff, 0xd9]))).toBeLessThan(exif.length - 2);
    const frames = new JpegSplitter().push(exif);
    expect(frames).toHaveLength(1);
    expect(frames[0].equals(exif)).toBe(true);
    expect(jpegDimensions(frames[0])).toEqual({ width: 64, height: 48 });
  });

  test('a false SOI in garbage is rejected as corrupt and the next frame is still found', () => {
    const { rejects, onReject } = recorder();
    const stream = Buffer.concat([Buffer.from([0xff, 0xd8, 0x00, 0x11, 0x22]), small]);
    expect(splitInChunks(stream, () => 3, new JpegSplitter({ onReject }))).toEqual([small]);
    expect(rejects.map(([reason]) => reason)).toEqual(['corrupt']);
  });

  test('a frame cut off mid-scan is reported as truncated and the next frame is found', () => {
    const { rejects, onReject } = recorder();
    const stream = Buffer.concat([small.subarray(0, small.length - 100), wide]);
    expect(splitInChunks(stream, () => 64, new JpegSplitter({ onReject }))).toEqual([wide]);
    expect(rejects).toEqual([['truncated', small.length - 100]]);
  });

  test.each([1, 7, 4096])('an oversize frame is dropped once and walked to its real end, not to a thumbnail inside it (%i-byte chunks)', (chunk) => {
    // 4 KB of padding before the thumbnail: the limit is crossed before the thumbnail's SOI is reached.
    const padded = withThumbnail(small, Buffer.concat([Buffer.alloc(4096), wide]));
    expect(Math.max(small.length, wide.length)).toBeLessThan(2500);
    const { rejects, onReject } = recorder();
    const splitter = new JpegSplitter({ maxFrameBytes: 2500, onReject });
    expect(splitInChunks(Buffer.concat([small, padded, wide]), () => chunk, splitter)).toEqual([small, wide]);
    expect(rejects).toHaveLength(1);
    expect(rejects[0][0]).toBe('oversize');
    expect(rejects[0][1]).toBeGreaterThan(2500);
  });

  test.each([4096, 1 << 20])('a 2 MB frame over a 100 kB limit is dropped and the next frame found (%i-byte chunks)', (chunk) => {
    const { rejects, onReject } = recorder();
    const splitter = new JpegSplitter({ maxFrameBytes: 100_000, onReject });
    expect(splitInChunks(Buffer.concat([small, big, wide]), () => chunk, splitter)).toEqual([small, wide]);
    expect(rejects.map(([reason]) => reason)).toEqual(['oversize']);
  });

  // That this takes linear time (the same bytes a second at any frame size) is measured by bench/jpeg.ts.
  test('a 2 MB frame in 64-byte chunks comes out whole', () => {
    const frames = splitInChunks(big, () => 64);
    expect(frames).toHaveLength(1);
    expect(frames[0].equals(big)).toBe(true);
  });

  test('returned frames own their memory and do not change when the input chunk is reused', () => {
    const chunk = Buffer.concat([small, wide]);
    const frames = new JpegSplitter().push(chunk);
    chunk.fill(0);
    expect(frames).toEqual([small, wide]);
    for (const frame of frames) {
      expect(frame.byteOffset).toBe(0);
      expect(frame.buffer.byteLength).toBe(frame.length);
    }
  });

  test('reset() forgets a partial frame', () => {
    const splitter = new JpegSplitter();
    splitter.push(small.subarray(0, 500));
    splitter.reset();
    expect(splitter.push(small.subarray(500))).toEqual([]);
    expect(splitter.push(wide)).toEqual([wide]);
  });
});

describe('jpegDimensions', () => {
  test('reads the size of ffmpeg output', () => {
    expect(jpegDimensions(small)).toEqual({ width: 64, height: 48 });
    expect(jpegDimensions(wide)).toEqual({ width: 96, height: 64 });
    expect(jpegDimensions(big)).toEqual({ width: 1920, height: 1080 });
  });

  test('skips DHT (C4), JPG (C8) and DAC (CC), which sit in the SOF range but carry no size', () => {
    const segment = (marker: number, body: number[]): number[] => [0xff, marker, 0, body.length + 2, ...body];
    const sizeLike = [8, 0x11, 0x11, 0x22, 0x22, 1, 1, 0x11, 0];
    const jpeg = Buffer.from([
      0xff,
      0xd8,
      ...segment(0xc4, sizeLike),
      ...segment(0xc8, sizeLike),
      ...segment(0xcc, sizeLike),
      ...segment(0xc2, [8, 0x00, 0xf0, 0x01, 0x40, 1, 1, 0x11, 0]),
      0xff,
      0xd9,
    ]);
    expect(jpegDimensions(jpeg)).toEqual({ width: 320, height: 240 });
  });

  test('returns null for what is not a JPEG with a size', () => {
    expect(jpegDimensions(Buffer.from('not a jpeg'))).toBeNull();
    expect(jpegDimensions(small.subarray(0, 20))).toBeNull();
    expect(jpegDimensions(Buffer.from([0xff, 0xd8, 0xff, 0xd9]))).toBeNull();
  });
});

describe('isJpeg', () => {
  test('accepts a whole JPEG and refuses a cut or foreign one', () => {
    expect(isJpeg(small)).toBe(true);
    expect(isJpeg(exif)).toBe(true);
    expect(isJpeg(small.subarray(0, small.length - 1))).toBe(false);
    expect(isJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xd9]))).toBe(false);
    expect(isJpeg(Buffer.from('GIF89a'))).toBe(false);
  });
});
