/**
 * JPEG framing for ffmpeg's `image2pipe` MJPEG output, which is a plain concatenation of JPEG files with no
 * length prefix. Frames are found by walking the JPEG structure (ITU T.81 Annex B) rather than by searching
 * for FF D9, because FF D9 also appears inside APP segments (an EXIF thumbnail is a whole JPEG).
 */

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const TEM = 0x01;

/** Why the splitter dropped bytes that looked like a frame. */
export type JpegRejectReason = 'oversize' | 'truncated' | 'corrupt';

export interface JpegSplitterOptions {
  /** Frames longer than this are dropped without being buffered whole. */
  maxFrameBytes?: number;
  /** Called once per dropped frame, with how many bytes of it had been seen. */
  onReject?: (reason: JpegRejectReason, bytes: number) => void;
}

export const DEFAULT_MAX_FRAME_BYTES = 10 * 1024 * 1024;

/** SOF0..SOF15 carry the image size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames. */
export function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers that stand alone, without a length field. */
function isStandalone(marker: number): boolean {
  return marker === TEM || (marker >= 0xd0 && marker <= 0xd9);
}

type Phase = 'seek' | 'header' | 'scan';

/**
 * Turns arbitrary byte chunks into complete JPEGs. Bytes are appended to one growing buffer and the parse
 * position is kept between pushes, so a frame arriving in many small chunks is scanned once (linear time).
 */
export class JpegSplitter {
  private readonly maxFrameBytes: number;
  private readonly onReject: (reason: JpegRejectReason, bytes: number) => void;
  private store = Buffer.alloc(0);
  /** The filled part of `store`; searches must never see the stale bytes past it. */
  private data = this.store.subarray(0, 0);
  private phase: Phase = 'seek';
  private frameStart = 0;
  private pos = 0;
  /** Set while the rest of an oversize frame is walked past without keeping its bytes. */
  private discarding = false;

  constructor(options: JpegSplitterOptions = {}) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < 4) {
      throw new Error(`maxFrameBytes ${String(max)} is invalid: expected an integer of at least 4`);
    }
    this.maxFrameBytes = max;
    this.onReject = options.onReject ?? (() => undefined);
  }

  /** Feeds a chunk; returns the frames it completed, each in its own newly allocated memory. */
  push(chunk: Buffer): Buffer[] {
    this.append(chunk);
    const frames: Buffer[] = [];
    for (;;) {
      const progressed = this.phase === 'seek' ? this.seekSoi() : this.phase === 'header' ? this.walkHeader() : this.scanEntropy(frames);
      if (!progressed) break;
    }
    this.checkOversize();
    this.compact();
    return frames;
  }

  /** Forgets any partial frame, as when the producing process is replaced. */
  reset(): void {
    this.data = this.store.subarray(0, 0);
    this.resync(0);
  }

  private append(chunk: Buffer): void {
    const used = this.data.length;
    const needed = used + chunk.length;
    if (needed > this.store.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.store.length * 2, 64 * 1024));
      this.store.copy(grown, 0, 0, used);
      this.store = grown;
    }
    chunk.copy(this.store, used);
    this.data = this.store.subarray(0, needed);
  }

  private seekSoi(): boolean {
    const { data } = this;
    const ff = data.indexOf(0xff, this.pos);
    if (ff === -1) {
      this.pos = data.length;
      return false;
    }
    if (ff + 1 >= data.length) {
      this.pos = ff;
      return false;
    }
    if (data[ff + 1] === SOI) {
      this.beginFrame(ff);
    } else {
      this.pos = ff + 1;
    }
    return true;
  }

  private beginFrame(at: number): void {
    this.frameStart = at;
    this.pos = at + 2;
    this.phase = 'header';
    this.discarding = false;
  }

  /** Marker segments before the scan are skipped by their declared lengths, never searched. */
  private walkHeader(): boolean {
    const { data, pos } = this;
    if (pos + 2 > data.length) return false;
    const marker = data[pos + 1];
    if (data[pos] !== 0xff || marker === 0x00) return this.corrupt(pos);
    if (marker === 0xff) {
      this.pos = pos + 1; // fill byte before a marker
      return true;
    }
    if (marker === SOI) {
      this.drop('truncated', pos);
      this.beginFrame(pos);
      return true;
    }
    // Tables without an image (an abbreviated JPEG) give a consumer nothing to decode.
    if (marker === EOI) return this.corrupt(pos + 2);
    if (isStandalone(marker)) {
      this.pos = pos + 2;
      return true;
    }
    if (pos + 4 > data.length) return false;
    const length = data.readUInt16BE(pos + 2);
    if (length < 2) return this.corrupt(pos);
    this.pos = pos + 2 + length;
    if (marker === SOS) this.phase = 'scan';
    return true;
  }

  /** Entropy-coded data escapes FF as FF 00 and uses FF D0..D7 as restart markers; anything else ends it. */
  private scanEntropy(frames: Buffer[]): boolean {
    const { data } = this;
    for (;;) {
      const ff = data.indexOf(0xff, this.pos);
      if (ff === -1) {
        this.pos = Math.max(this.pos, data.length);
        return false;
      }
      if (ff + 1 >= data.length) {
        this.pos = ff;
        return false;
      }
      const next = data[ff + 1];
      if (next === 0xff) {
        this.pos = ff + 1;
      } else if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
        this.pos = ff + 2;
      } else if (next === EOI) {
        this.endFrame(ff + 2, frames);
        return true;
      } else if (next === SOI) {
        this.drop('truncated', ff);
        this.beginFrame(ff);
        return true;
      } else {
        // Progressive and multi-scan JPEGs put tables and further SOS segments between scans.
        this.pos = ff;
        this.phase = 'header';
        return true;
      }
    }
  }

  private endFrame(end: number, frames: Buffer[]): void {
    const size = end - this.frameStart;
    // A discarded frame was reported when it crossed the limit.
    if (!this.discarding && size > this.maxFrameBytes) {
      this.onReject('oversize', size);
    } else if (!this.discarding) {
      // Each frame gets its own ArrayBuffer: consumers keep frames for a long time, and a view would pin
      // (or, once this buffer is reused, corrupt) other frames' bytes.
      const frame = Buffer.allocUnsafeSlow(size);
      this.data.copy(frame, 0, this.frameStart, end);
      frames.push(frame);
    }
    this.resync(end);
  }

  private corrupt(at: number): boolean {
    this.drop('corrupt', at);
    this.resync(at);
    return true;
  }

  private resync(from: number): void {
    this.phase = 'seek';
    this.pos = from;
    this.frameStart = from;
    this.discarding = false;
  }

  private drop(reason: JpegRejectReason, upTo: number): void {
    if (!this.discarding) this.onReject(reason, upTo - this.frameStart);
  }

  /**
   * A frame known to be too long is reported at once and then walked to its real end without buffering,
   * so the next frame is found where it truly starts rather than at a false SOI inside the big one.
   */
  private checkOversize(): void {
    if (this.phase === 'seek' || this.discarding) return;
    const seen = Math.max(this.pos, this.data.length) - this.frameStart;
    if (seen <= this.maxFrameBytes) return;
    this.onReject('oversize', seen);
    this.discarding = true;
  }

  /**
   * Moves the unconsumed tail to the front. It is short, because complete frames are taken as soon as they
   * end and a discarded frame keeps nothing behind its scan position. Positions may run past the data (a
   * segment longer than what has arrived) or, while discarding, start before it; both stay consistent.
   */
  private compact(): void {
    const used = this.data.length;
    const keepFrom = Math.min(used, this.phase === 'seek' || this.discarding ? this.pos : this.frameStart);
    if (keepFrom <= 0) return;
    this.store.copy(this.store, 0, keepFrom, used);
    this.data = this.store.subarray(0, used - keepFrom);
    this.pos -= keepFrom;
    this.frameStart -= keepFrom;
  }
}

/** Width and height from the first SOF segment, or null when the buffer is not a JPEG with one before SOS. */
export function jpegDimensions(buf: Buffer): { width: number; height: number } | null {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== SOI) return null;
  let pos = 2;
  while (pos + 4 <= buf.length) {
    if (buf[pos] !== 0xff) return null;
    const marker = buf[pos + 1];
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    if (isStandalone(marker)) {
      if (marker === EOI || marker === SOI) return null;
      pos += 2;
      continue;
    }
    const length = buf.readUInt16BE(pos + 2);
    if (length < 2) return null;
    if (isStartOfFrame(marker)) {
      if (length < 7 || pos + 9 > buf.length) return null;
      const height = buf.readUInt16BE(pos + 5);
      const width = buf.readUInt16BE(pos + 7);
      // Height 0 means "defined later by DNL", which camera streams never use; treat as unreadable.
      return width > 0 && height > 0 ? { width, height } : null;
    }
    if (marker === SOS) return null;
    pos += 2 + length;
  }
  return null;
}

/** SOI at the start, a readable SOF, and EOI at the end: what a consumer can decode as one image. */
export function isJpeg(buf: Buffer): boolean {
  return buf.length >= 4 && buf[buf.length - 2] === 0xff && buf[buf.length - 1] === EOI && jpegDimensions(buf) !== null;
}
