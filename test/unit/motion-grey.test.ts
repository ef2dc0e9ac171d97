import { execFileSync } from 'node:child_process';
import { jpegToGrey } from '../../core/frames/grey';
import { findTool } from '../support/tools';

/** A real JPEG from ffmpeg: the left half black, the right half white. */
function halves(width: number, height: number): Buffer {
  return execFileSync(findTool('ffmpeg'), [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `color=c=black:s=${width}x${height}`,
    '-vf',
    `drawbox=x=${width / 2}:y=0:w=${width / 2}:h=${height}:color=white:t=fill`,
    '-frames:v',
    '1',
    '-c:v',
    'mjpeg',
    '-q:v',
    '2',
    '-f',
    'image2pipe',
    'pipe:1',
  ]);
}

describe('JPEG to grey plane', () => {
  test('scales to the asked height, keeping the aspect with the same even width as capture gives', async () => {
    const grey = await jpegToGrey(halves(640, 360), 100, { timestamp: 1234, sequence: 7 });
    expect(grey).toMatchObject({ width: 178, height: 100, timestamp: 1234, sequence: 7 });
    expect(grey.data).toHaveLength(178 * 100);
    expect(grey.data[50 * 178 + 10]).toBeLessThan(20);
    expect(grey.data[50 * 178 + 170]).toBeGreaterThan(235);
  });

  test('names the first bytes of something that is not a JPEG', async () => {
    await expect(jpegToGrey(Buffer.from('<html><body>login</body></html>'), 100)).rejects.toThrow('frame is not a JPEG (starts with 3c 68 74 6d)');
    await expect(jpegToGrey(Buffer.alloc(0), 100)).rejects.toThrow('frame is not a JPEG (starts with nothing: it is empty)');
  });

  test('a JPEG cut short before its picture size, or one that cannot be decoded, is a clear error', async () => {
    const jpeg = halves(64, 32);
    await expect(jpegToGrey(jpeg.subarray(0, 20), 16)).rejects.toThrow('frame is not a readable JPEG: no picture size before its image data (20 bytes)');
    // Headers intact, image data cut off a few bytes into the scan.
    const damaged = jpeg.subarray(0, jpeg.indexOf(Buffer.from([0xff, 0xda])) + 16);
    await expect(jpegToGrey(damaged, 16)).rejects.toThrow(/frame is a JPEG that cannot be decoded \(64x32, \d+ bytes\)/);
  });

  test('refuses a height outside 16..2160', async () => {
    await expect(jpegToGrey(halves(64, 32), 8)).rejects.toThrow('grey height 8 is invalid: expected a whole number of rows from 16 to 2160');
  });
});
