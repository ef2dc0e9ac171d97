import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import type { Frame } from '../../core/frames/frame';
import { FramePostProcessor, type PostProcessOptions, type PostProcessResult } from '../../core/frames/postprocess';
import { metrics } from '../../core/metrics';
import { findTool } from '../support/tools';

/** One JPEG from ffmpeg's lavfi generators, the encoder capture itself uses. */
function lavfiJpeg(source: string): Buffer {
  return execFileSync(
    findTool('ffmpeg'),
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', source, '-frames:v', '1', '-c:v', 'mjpeg', '-q:v', '3', '-f', 'image2pipe', 'pipe:1'],
    { maxBuffer: 16 * 1024 * 1024 },
  );
}

function frameOf(jpeg: Buffer, camera = 'porch'): Frame {
  return { jpeg, meta: { camera, timestamp: Date.UTC(2024, 4, 1, 12, 0, 0), sequence: 7, width: 320, height: 240, bytes: jpeg.length } };
}

function asFrame(result: PostProcessResult): Frame {
  if ('rejected' in result) throw new Error(`frame was rejected: ${result.rejected}`);
  return result;
}

async function rgb(jpeg: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The smallest box holding every pixel that differs between two same-sized images, or null if none does. */
async function changedBox(a: Buffer, b: Buffer): Promise<{ minX: number; minY: number; maxX: number; maxY: number } | null> {
  const left = await rgb(a);
  const right = await rgb(b);
  expect([right.width, right.height]).toEqual([left.width, left.height]);
  let box: { minX: number; minY: number; maxX: number; maxY: number } | null = null;
  for (let i = 0; i < left.data.length; i++) {
    if (left.data[i] === right.data[i]) continue;
    const pixel = Math.floor(i / 3);
    const x = pixel % left.width;
    const y = Math.floor(pixel / left.width);
    box = box
      ? { minX: Math.min(box.minX, x), minY: Math.min(box.minY, y), maxX: Math.max(box.maxX, x), maxY: Math.max(box.maxY, y) }
      : { minX: x, minY: y, maxX: x, maxY: y };
  }
  return box;
}

async function rejectedCount(camera: string, reason: string): Promise<number> {
  const { values } = await metrics.framesRejectedTotal.get();
  return values.find((value) => value.labels.camera === camera && value.labels.reason === reason)?.value ?? 0;
}

let busy: Buffer;
let black: Buffer;
let white: Buffer;
let grey: Buffer;

beforeAll(() => {
  busy = lavfiJpeg('testsrc2=size=320x240');
  black = lavfiJpeg('color=c=black:size=320x240');
  white = lavfiJpeg('color=c=white:size=320x240');
  grey = lavfiJpeg('color=c=0x7f7f90:size=320x240');
});

describe('FramePostProcessor pipeline', () => {
  const plain: PostProcessOptions = { quality: 80 };

  it('draws the overlay in its corner and leaves every other pixel as it was', async () => {
    const without = asFrame(await new FramePostProcessor(plain).process(frameOf(busy)));
    for (const position of ['top-left', 'bottom-right'] as const) {
      const withOverlay = asFrame(
        await new FramePostProcessor({ ...plain, overlay: { text: 'Porch', timestamp: true, timeZone: 'UTC', position } }).process(frameOf(busy)),
      );
      const box = await changedBox(without.jpeg, withOverlay.jpeg);
      expect(box).not.toBeNull();
      // JPEG works on 16 px blocks, so a change can spread up to one block past the overlay's own box.
      if (position === 'top-left') {
        expect(box).toMatchObject({ minX: 0, minY: 0 });
        expect(box!.maxX).toBeLessThan(320 * 0.85);
        expect(box!.maxY).toBeLessThan(240 * 0.25);
      } else {
        expect(box).toMatchObject({ maxX: 319, maxY: 239 });
        expect(box!.minX).toBeGreaterThan(320 * 0.15);
        expect(box!.minY).toBeGreaterThan(240 * 0.75);
      }
    }
  });

  it('escapes overlay text, so markup in a camera name is drawn rather than parsed', async () => {
    const result = asFrame(
      await new FramePostProcessor({ ...plain, overlay: { text: '<b>"Tom & Jerry\'s"</b>', position: 'top-left' } }).process(frameOf(busy)),
    );
    expect(result.meta).toMatchObject({ width: 320, height: 240 });
  });

  it('swaps width and height when rotating by 90 degrees, turning the left edge to the top', async () => {
    // Left half white, right half black: after a clockwise quarter turn the top half is white.
    const halves = await sharp({ create: { width: 64, height: 32, channels: 3, background: '#000' } })
      .composite([{ input: { create: { width: 32, height: 32, channels: 3, background: '#fff' } }, left: 0, top: 0 }])
      .jpeg({ quality: 95 })
      .toBuffer();
    const rotated = asFrame(await new FramePostProcessor({ quality: 95, rotate: 90 }).process(frameOf(halves)));
    expect(rotated.meta).toMatchObject({ width: 32, height: 64, bytes: rotated.jpeg.length });
    const { data, width } = await rgb(rotated.jpeg);
    expect(data[(8 * width + 16) * 3]).toBeGreaterThan(200);
    expect(data[(56 * width + 16) * 3]).toBeLessThan(50);

    const upsideDown = asFrame(await new FramePostProcessor({ quality: 95, rotate: 180 }).process(frameOf(halves)));
    expect(upsideDown.meta).toMatchObject({ width: 64, height: 32 });
  });

  it('crops to the normalised region, then resizes with the chosen fit', async () => {
    const crop = { left: 0.25, top: 0.5, width: 0.5, height: 0.5 };
    const cropped = asFrame(await new FramePostProcessor({ ...plain, crop }).process(frameOf(busy)));
    expect(cropped.meta).toMatchObject({ width: 160, height: 120 });
    expect(await sharp(cropped.jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 160, height: 120 });

    const cases: [PostProcessOptions['resize'], number, number][] = [
      [{ width: 80, height: 80, fit: 'inside' }, 80, 60],
      [{ width: 80, height: 80, fit: 'cover' }, 80, 80],
      [{ width: 100, height: 30, fit: 'fill' }, 100, 30],
      [{ height: 60, fit: 'inside' }, 80, 60],
    ];
    for (const [resize, width, height] of cases) {
      const result = asFrame(await new FramePostProcessor({ ...plain, crop, resize }).process(frameOf(busy)));
      expect(result.meta).toMatchObject({ width, height, bytes: result.jpeg.length });
    }
  });

  it('crops the region of the unrotated picture whatever the rotation', async () => {
    const colours = { tl: '#ff0000', tr: '#00ff00', bl: '#0000ff', br: '#ffff00' };
    const block = (background: string) => ({ create: { width: 32, height: 16, channels: 3 as const, background } });
    const quadrants = await sharp({ create: { width: 64, height: 32, channels: 3, background: '#000' } })
      .composite([
        { input: block(colours.tl), left: 0, top: 0 },
        { input: block(colours.tr), left: 32, top: 0 },
        { input: block(colours.bl), left: 0, top: 16 },
        { input: block(colours.br), left: 32, top: 16 },
      ])
      .png()
      .toBuffer();
    const jpeg = await sharp(quadrants).jpeg({ quality: 100 }).toBuffer();
    const crops = { tl: [0, 0], tr: [0.5, 0], bl: [0, 0.5], br: [0.5, 0.5] } as const;
    for (const rotate of [0, 90, 180, 270] as const) {
      for (const [name, [left, top]] of Object.entries(crops)) {
        for (const resize of [undefined, { width: 10, height: 10, fit: 'fill' as const }]) {
          // An inset keeps JPEG's chroma bleed at the quadrant borders out of the picture.
          const crop = { left: left + 0.1, top: top + 0.1, width: 0.3, height: 0.3 };
          const result = asFrame(await new FramePostProcessor({ quality: 100, rotate, crop, resize }).process(frameOf(jpeg)));
          const { data } = await rgb(result.jpeg);
          const expected = colours[name as keyof typeof colours];
          const want = [1, 3, 5].map((at) => parseInt(expected.slice(at, at + 2), 16));
          const centre = Math.floor(data.length / 6) * 3;
          expect({ rotate, name, resize: resize !== undefined, pixel: [...data.subarray(centre, centre + 3)].map((v) => Math.round(v / 255) * 255) }).toEqual({
            rotate,
            name,
            resize: resize !== undefined,
            pixel: want,
          });
        }
      }
    }
  });

  it('crops, rotates, resizes and overlays in that order', async () => {
    const options: PostProcessOptions = {
      quality: 70,
      crop: { left: 0, top: 0, width: 0.5, height: 1 },
      rotate: 270,
      resize: { width: 120, fit: 'inside' },
      overlay: { text: 'porch', timestamp: true, position: 'bottom-left' },
    };
    // The crop is 160x240, on its side 240x160, scaled to 120 wide: 120x80.
    const result = asFrame(await new FramePostProcessor(options).process(frameOf(busy)));
    expect(result.meta).toMatchObject({ camera: 'porch', sequence: 7, width: 120, height: 80 });
  });

  it('never changes the input Buffer and always returns a new one', async () => {
    const input = Buffer.from(busy);
    const frame = frameOf(input);
    const result = asFrame(
      await new FramePostProcessor({
        quality: 50,
        crop: { left: 0.1, top: 0.1, width: 0.8, height: 0.8 },
        rotate: 90,
        resize: { width: 100, height: 100, fit: 'cover' },
        overlay: { text: 'x', timestamp: true, position: 'top-right' },
        rejectBlank: { enabled: true },
      }).process(frame),
    );
    expect(input.equals(busy)).toBe(true);
    expect(frame.meta).toMatchObject({ width: 320, height: 240, bytes: busy.length });
    expect(result.jpeg).not.toBe(input);
    expect(result.jpeg.buffer).not.toBe(input.buffer);
  });
});

describe('FramePostProcessor blank rejection', () => {
  const rejecting = new FramePostProcessor({ quality: 80, rejectBlank: { enabled: true } });

  it.each([
    ['black', () => black, 'blank_black'],
    ['white', () => white, 'blank_white'],
    ['flat grey-blue', () => grey, 'blank_flat'],
  ])('rejects a %s frame and counts it', async (_name, image, reason) => {
    const before = await rejectedCount('blanks', reason);
    expect(await rejecting.process(frameOf(image(), 'blanks'))).toEqual({ rejected: reason });
    expect(await rejectedCount('blanks', reason)).toBe(before + 1);
  });

  it('passes a busy test pattern', async () => {
    expect(asFrame(await rejecting.process(frameOf(busy))).meta.width).toBe(320);
  });

  it('passes a dark scene with a lit window, which is mostly but not nearly all black', async () => {
    const night = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#050505' } })
      .composite([{ input: { create: { width: 64, height: 48, channels: 3, background: '#e0d090' } }, left: 200, top: 40 }])
      .jpeg()
      .toBuffer();
    expect('rejected' in (await rejecting.process(frameOf(night)))).toBe(false);
  });

  it('judges only the cropped region', async () => {
    // testsrc2's left quarter is busy; a crop of a black frame is black either way.
    const crop = { left: 0, top: 0, width: 0.25, height: 0.25 };
    const cropping = new FramePostProcessor({ quality: 80, crop, rejectBlank: { enabled: true } });
    expect(await cropping.process(frameOf(black))).toEqual({ rejected: 'blank_black' });
    expect('rejected' in (await cropping.process(frameOf(busy)))).toBe(false);
  });

  it('lets blank frames through when rejection is off', async () => {
    expect('rejected' in (await new FramePostProcessor({ quality: 80 }).process(frameOf(black)))).toBe(false);
    expect('rejected' in (await new FramePostProcessor({ quality: 80, rejectBlank: { enabled: false } }).process(frameOf(black)))).toBe(false);
  });

  it('rejects bytes that do not decode as corrupt', async () => {
    const before = await rejectedCount('broken', 'corrupt');
    const truncated = busy.subarray(0, Math.floor(busy.length / 2));
    expect(await new FramePostProcessor({ quality: 80 }).process(frameOf(truncated, 'broken'))).toEqual({ rejected: 'corrupt' });
    expect(await new FramePostProcessor({ quality: 80 }).process(frameOf(Buffer.from('not a jpeg'), 'broken'))).toEqual({ rejected: 'corrupt' });
    expect(await rejectedCount('broken', 'corrupt')).toBe(before + 2);
  });
});

describe('FramePostProcessor options', () => {
  it.each([
    [{ quality: 0 }, /quality 0 is invalid/],
    [{ quality: 80, rotate: 45 }, /rotate 45 is invalid: expected a right angle/],
    [{ quality: 80, crop: { left: -0.1, top: 0, width: 0.5, height: 0.5 } }, /crop.left -0.1 is invalid: expected a share of the picture from 0 to 1/],
    [{ quality: 80, crop: { left: 0, top: 0, width: 1.5, height: 0.5 } }, /crop.width 1.5 is invalid/],
    [{ quality: 80, crop: { left: 0.6, top: 0, width: 0.5, height: 0.5 } }, /crop.left \+ crop.width .* past the right edge/],
    [{ quality: 80, crop: { left: 0, top: 0, width: 0, height: 0.5 } }, /must be above 0/],
    [{ quality: 80, resize: { width: 100, fit: 'cover' } }, /resize.fit "cover" needs both width and height/],
    [{ quality: 80, resize: { fit: 'inside' } }, /resize needs a width, a height or both/],
    [{ quality: 80, resize: { width: 0, fit: 'inside' } }, /resize.width 0 is invalid/],
    [{ quality: 80, overlay: { position: 'middle', text: 'x' } }, /overlay.position "middle" is invalid/],
    [{ quality: 80, overlay: { position: 'top-left' } }, /overlay needs text, timestamp/],
    [{ quality: 80, overlay: { position: 'top-left', text: 'a\u0007b' } }, /overlay.text is invalid/],
    [{ quality: 80, overlay: { position: 'top-left', timestamp: true, timeZone: 'Mars/Olympus' } }, /overlay.timeZone "Mars\/Olympus" is invalid/],
    [{ quality: 80, rejectBlank: { enabled: true, whiteLevel: 300 } }, /rejectBlank.whiteLevel 300 is invalid/],
    [{ quality: 80, rejectBlank: { enabled: true, blackLevel: 200, whiteLevel: 100 } }, /blackLevel \(200\) must be below/],
    [{ quality: 80, roatte: 90 }, /roatte is not an option/],
  ])('refuses %j', (options, message) => {
    expect(() => new FramePostProcessor(options as unknown as PostProcessOptions)).toThrow(message);
  });
});
