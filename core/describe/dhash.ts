import sharp from 'sharp';

/**
 * A 64-bit difference hash: the picture as a 9×8 grey thumbnail, one bit per horizontal neighbour pair (is the
 * left pixel brighter?). JPEG noise, small lighting drift and rescaling leave it almost unchanged; a person
 * walking in flips many bits. Hamming distance between two hashes measures how different the scenes are.
 */
export async function dHash(jpeg: Buffer): Promise<bigint> {
  let grey: Buffer;
  try {
    grey = await sharp(jpeg).greyscale().resize(9, 8, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
  } catch (err) {
    throw new Error(`picture cannot be decoded for hashing (${jpeg.length} bytes): ${(err as Error).message}`);
  }
  return dHashOfGrey(grey);
}

/** The hash of a 9×8 grey plane (row by row, one byte a pixel). */
export function dHashOfGrey(grey: Uint8Array): bigint {
  if (grey.length !== 72) throw new Error(`dHash needs a 9×8 grey plane (72 bytes): got ${grey.length}`);
  let hash = 0n;
  for (let row = 0; row < 8; row++) {
    for (let col = 0; col < 8; col++) {
      hash = (hash << 1n) | (grey[row * 9 + col] > grey[row * 9 + col + 1] ? 1n : 0n);
    }
  }
  return hash;
}

export function hammingDistance(a: bigint, b: bigint): number {
  let diff = a ^ b;
  let bits = 0;
  while (diff > 0n) {
    diff &= diff - 1n;
    bits++;
  }
  return bits;
}
