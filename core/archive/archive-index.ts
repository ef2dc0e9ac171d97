/** One archived frame as the API reports it. */
export interface ArchivedFrame {
  /** `<timestampMs>-<sequence>`: unique per camera, sorts by capture time. */
  id: string;
  camera: string;
  timestamp: number;
  sequence: number;
  bytes: number;
  /** Kept frames are never deleted by retention. */
  kept: boolean;
}

/** What the index holds per frame: the public record plus the day folder it was found or written in. */
export interface IndexedFrame extends ArchivedFrame {
  day: string;
}

function compare(a: { timestamp: number; sequence: number }, b: { timestamp: number; sequence: number }): number {
  return a.timestamp - b.timestamp || a.sequence - b.sequence;
}

/**
 * One camera's frames, oldest first. Frames nearly always arrive newest last, so adding is an append; the
 * binary searches keep the odd out-of-order frame (a clock step back) and cursor look-ups cheap.
 */
export class CameraFrames {
  private readonly frames: IndexedFrame[] = [];
  bytes = 0;
  /** Frames retention may delete (not kept), and their bytes. */
  deletableCount = 0;
  deletableBytes = 0;

  get size(): number {
    return this.frames.length;
  }

  /** Adds a frame, replacing one with the same id; returns the replaced frame. */
  upsert(frame: IndexedFrame): IndexedFrame | undefined {
    const at = this.lowerBound(frame);
    const existing = this.frames[at];
    if (existing && compare(existing, frame) === 0) {
      this.account(existing, -1);
      this.frames[at] = frame;
      this.account(frame, 1);
      return existing;
    }
    this.frames.splice(at, 0, frame);
    this.account(frame, 1);
    return undefined;
  }

  find(key: { timestamp: number; sequence: number }): IndexedFrame | undefined {
    const found = this.frames[this.lowerBound(key)];
    return found && compare(found, key) === 0 ? found : undefined;
  }

  remove(frame: IndexedFrame): boolean {
    const at = this.lowerBound(frame);
    if (this.frames[at] !== frame) return false;
    this.frames.splice(at, 1);
    this.account(frame, -1);
    return true;
  }

  setKept(frame: IndexedFrame, kept: boolean): void {
    if (frame.kept === kept) return;
    this.account(frame, -1);
    frame.kept = kept;
    this.account(frame, 1);
  }

  /** The oldest frame retention may delete, passing over kept frames and `spare`. */
  oldestDeletable(spare?: IndexedFrame): IndexedFrame | undefined {
    return this.frames.find((frame) => !frame.kept && frame !== spare);
  }

  oldest(): IndexedFrame | undefined {
    return this.frames[0];
  }

  newest(): IndexedFrame | undefined {
    return this.frames[this.frames.length - 1];
  }

  /** Up to `limit` frames older than `before` (all when absent), newest first, and whether older ones remain. */
  page(before: { timestamp: number; sequence: number } | undefined, limit: number): { frames: IndexedFrame[]; more: boolean } {
    const end = before ? this.lowerBound(before) : this.frames.length;
    const start = Math.max(0, end - limit);
    return { frames: this.frames.slice(start, end).reverse(), more: start > 0 };
  }

  /** First position whose frame is not older than `key`. */
  private lowerBound(key: { timestamp: number; sequence: number }): number {
    let low = 0;
    let high = this.frames.length;
    // Appends are the common case: check the end before searching.
    if (high > 0 && compare(this.frames[high - 1], key) < 0) return high;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compare(this.frames[mid], key) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private account(frame: IndexedFrame, sign: 1 | -1): void {
    this.bytes += sign * frame.bytes;
    if (frame.kept) return;
    this.deletableCount += sign;
    this.deletableBytes += sign * frame.bytes;
  }
}

export function publicFrame(frame: IndexedFrame): ArchivedFrame {
  const { id, camera, timestamp, sequence, bytes, kept } = frame;
  return { id, camera, timestamp, sequence, bytes, kept };
}
