import sharp from 'sharp';
import { greyPlaneSize } from '../capture/ffmpeg-args';
import { jpegDimensions } from '../frames/jpeg';
import type { GreyFrame } from './detector';

/**
 * A JPEG as a grey plane of `height` rows, for frames that come without one (snapshots, websites, archived
 * JPEGs). The width follows capture's grey output (greyPlaneSize), so both give the same size for one camera.
 */
export async function jpegToGrey(jpeg: Buffer, height: number, at: { timestamp?: number; sequence?: number } = {}): Promise<GreyFrame> {
  if (!Number.isInteger(height) || height < 16 || height > 2160) {
    throw new Error(`grey height ${String(height)} is invalid: expected a whole number of rows from 16 to 2160`);
  }
  if (!Buffer.isBuffer(jpeg) || jpeg.length < 3 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8 || jpeg[2] !== 0xff) {
    const start = Buffer.isBuffer(jpeg) ? [...jpeg.subarray(0, 4)].map((byte) => byte.toString(16).padStart(2, '0')).join(' ') : typeof jpeg;
    throw new Error(`frame is not a JPEG (starts with ${start || 'nothing: it is empty'})`);
  }
  const size = jpegDimensions(jpeg);
  if (size === null) throw new Error(`frame is not a readable JPEG: no picture size before its image data (${jpeg.length} bytes)`);
  const { width } = greyPlaneSize(size, height);
  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    decoded = await sharp(jpeg).toColourspace('b-w').resize(width, height, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new Error(`frame is a JPEG that cannot be decoded (${size.width}x${size.height}, ${jpeg.length} bytes): ${(err as Error).message}`);
  }
  const { data, info } = decoded;
  if (info.channels !== 1) throw new Error(`grey conversion gave ${info.channels} channels: expected 1`);
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    timestamp: at.timestamp ?? 0,
    sequence: at.sequence ?? 0,
  };
}
