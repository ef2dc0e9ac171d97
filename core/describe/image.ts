import sharp from 'sharp';
import { jpegDimensions } from '../frames/jpeg';
import { DescribeError } from './vision';

export const DEFAULT_MAX_SIDE = 768;
export const DEFAULT_MAX_BYTES = 1024 * 1024;
/** Tried in turn until the picture fits the byte limit; below 40 a model reads JPEG artefacts as texture. */
const QUALITIES = [80, 65, 50, 40];

export interface PreparedImage {
  dataUrl: string;
  width: number;
  height: number;
  bytes: number;
}

/**
 * The picture as the model will see it: at most `maxSide` pixels on its longest side and `maxBytes` bytes, as a
 * `data:image/jpeg;base64,` URL. A frame already within both limits is sent as it is (no second JPEG generation).
 */
export async function prepareImage(jpeg: Buffer, maxSide = DEFAULT_MAX_SIDE, maxBytes = DEFAULT_MAX_BYTES): Promise<PreparedImage> {
  if (!Buffer.isBuffer(jpeg) || jpeg.length < 3 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
    throw new DescribeError(
      `msg.payload must be a JPEG Buffer (a frame message): got ${Buffer.isBuffer(jpeg) ? `${jpeg.length} bytes that are not a JPEG` : typeof jpeg}`,
      'image',
    );
  }
  if (!Number.isInteger(maxSide) || maxSide < 64 || maxSide > 4096)
    throw new DescribeError(`maxSide ${String(maxSide)} is invalid: expected 64 to 4096 pixels`, 'image');
  const size = jpegDimensions(jpeg);
  if (size && Math.max(size.width, size.height) <= maxSide && jpeg.length <= maxBytes)
    return { dataUrl: dataUrl(jpeg), width: size.width, height: size.height, bytes: jpeg.length };
  let smallest: { data: Buffer; info: sharp.OutputInfo } | null = null;
  for (const quality of QUALITIES) {
    try {
      smallest = await sharp(jpeg)
        .rotate()
        .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality, mozjpeg: false })
        .toBuffer({ resolveWithObject: true });
    } catch (err) {
      throw new DescribeError(`picture cannot be decoded (${jpeg.length} bytes): ${(err as Error).message}`, 'image');
    }
    if (smallest.data.length <= maxBytes)
      return { dataUrl: dataUrl(smallest.data), width: smallest.info.width, height: smallest.info.height, bytes: smallest.data.length };
  }
  const { info, data } = smallest!;
  throw new DescribeError(
    `picture is ${data.length} bytes even at ${info.width}×${info.height} and JPEG quality ${QUALITIES.at(-1)}: over the ${maxBytes}-byte limit (raise the byte limit or lower the max side)`,
    'image',
  );
}

function dataUrl(jpeg: Buffer): string {
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}
