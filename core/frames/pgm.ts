/**
 * Framing for ffmpeg's `image2pipe` PGM output (Netpbm P5, 8 bits): each picture is `P5`, its width, height and
 * maximum value as decimal numbers separated by whitespace, one whitespace byte, then width × height bytes.
 * Because every picture states its own size, the planes need no side channel and survive a change of picture size.
 */

export interface PgmPlane {
  width: number;
  height: number;
  /** Row by row, one byte per pixel; memory of exactly this plane's size, owned by the receiver. */
  data: Uint8Array;
}

/** Longest header accepted: "P5", three numbers of at most 5 digits and their separators fit well within it. */
const MAX_HEADER_BYTES = 64;
const MAX_SIDE = 16384;

/**
 * Turns arbitrary byte chunks into PGM planes. Pixels are copied from each chunk straight into memory of exactly
 * the plane's size (no growing buffer); only a header split across chunks is held back, and it is tiny.
 * Bytes that are not a PGM header throw: they mean the pipe is not what it should be, and the caller restarts.
 */
export class PgmSplitter {
  private header = '';
  private plane: Uint8Array | null = null;
  private width = 0;
  private height = 0;
  private filled = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  push(chunk: Uint8Array): PgmPlane[] {
    const planes: PgmPlane[] = [];
    for (let at = 0; at < chunk.length;) {
      if (this.plane === null) {
        at = this.readHeader(chunk, at);
        continue;
      }
      const n = Math.min(chunk.length - at, this.plane.length - this.filled);
      this.plane.set(chunk.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.plane.length) {
        planes.push({ width: this.width, height: this.height, data: this.plane });
        this.plane = null;
      }
    }
    return planes;
  }

  /** Reads header bytes from `at`; returns where the pixels (or the rest of a split header) begin. */
  private readHeader(chunk: Uint8Array, at: number): number {
    let i = at;
    while (i < chunk.length) {
      this.header += String.fromCharCode(chunk[i]);
      i += 1;
      const match = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s$/.exec(this.header);
      if (match) {
        this.start(Number(match[1]), Number(match[2]), Number(match[3]));
        return i;
      }
      if (!/^(P(5(\s+(\d+(\s+(\d+(\s+\d*)?)?)?)?)?)?)?$/.test(this.header) || this.header.length > MAX_HEADER_BYTES) {
        const shown = [...this.header.slice(0, 16)].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ');
        this.header = '';
        throw new Error(`grey pipe: expected a PGM header ("P5 <width> <height> 255"), got bytes ${shown}`);
      }
    }
    return i;
  }

  private start(width: number, height: number, maxValue: number): void {
    this.header = '';
    if (maxValue !== 255) throw new Error(`grey pipe: PGM with maximum value ${maxValue}: expected 8-bit planes (255)`);
    if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE || width * height > this.maxBytes) {
      throw new Error(`grey pipe: PGM of ${width}x${height} is outside the accepted size`);
    }
    this.width = width;
    this.height = height;
    this.filled = 0;
    this.plane = new Uint8Array(width * height);
  }
}
