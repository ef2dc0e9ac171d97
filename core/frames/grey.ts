import sharp from 'sharp';
import { jpegDimensions } from './jpeg';

/**
 * Grey pictures for motion detection: a frame's luma plane scaled down to 100-180 rows. Capture makes them from
 * its own decode (core/capture/ffmpeg-args.ts, the `grey` output) or, for cameras without one, with jpegToGrey;
 * motion detection (core/motion) reads them. They live here, beside the JPEG frames, so neither side imports the other.
 */

/** One luma plane: `width * height` bytes, row by row, 0 black to 255 white. */
export interface GreyFrame {
  width: number;
  height: number;
  data: Uint8Array;
  /** Milliseconds since the Unix epoch; detectors take time from here, never from a clock. */
  timestamp: number;
  sequence: number;
}

/**
 * A grey frame as a camera delivers it: numbered and timed on arrival, at its own rate, independent of the JPEGs.
 * Each plane has its own memory.
 */
export interface GreyPlane extends GreyFrame {
  camera: string;
}

/** Rows of the grey planes motion detection reads (Frigate works at 180; the demo camera is 360 rows high). */
export const GREY_HEIGHT = 120;

/**
 * The size of the grey plane made from a picture of the given size: the aspect ratio kept, the width rounded to
 * an even number. ffmpeg's grey output computes the very same number (greyWidthExpression in ffmpeg-args.ts),
 * so a camera's planes have one size whether ffmpeg or jpegToGrey made them.
 */
export function greyPlaneSize(jpeg: { width: number; height: number }, height: number): { width: number; height: number } {
  return { width: Math.max(2, 2 * Math.trunc((jpeg.width * height) / jpeg.height / 2 + 0.5)), height };
}

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
