import type { Frame } from '../../core/frames/frame';
import { CameraFeed, type FeedTarget, type JpegCamera } from '../../core/motion/camera-feed';
import type { MotionResult } from '../../core/motion/detector';

/** A camera that counts who asks it for JPEGs, and a tracker stand-in that records what it was given. */
function setUp(recent: Frame | null = null) {
  const camera = { id: 'yard', holders: 0, asked: 0 };
  const jpegCamera: JpegCamera = {
    id: 'yard',
    demandJpeg: () => {
      camera.holders += 1;
      camera.asked += 1;
      let released = false;
      return () => {
        if (!released) camera.holders -= 1;
        released = true;
      };
    },
    recentFrame: async () => recent,
  };
  const taken: Array<{ motion: boolean; timestamp: number; sequence: number; bytes: number }> = [];
  let busy = false;
  const target: FeedTarget = {
    busy: () => busy,
    take: (result, timestamp, frame) => taken.push({ motion: result.motion, timestamp, sequence: frame.meta.sequence, bytes: frame.jpeg.length }),
  };
  const feed = new CameraFeed(jpegCamera, target, { matchMs: 500, waitMs: 3000 });
  return { camera, feed, taken, setBusy: (value: boolean) => (busy = value) };
}

const result = (motion: boolean): MotionResult => ({
  motion,
  boxes: [],
  changedFraction: motion ? 0.1 : 0,
  zones: [],
  calibrating: false,
  score: motion ? 0.4 : 0,
});
const jpeg = (sequence: number, timestamp: number): Frame => ({
  jpeg: Buffer.from([0xff, 0xd8, 0xff, sequence]),
  meta: { camera: 'yard', timestamp, sequence, width: 320, height: 180, bytes: 4 },
});

describe('a motion feed reading a camera directly', () => {
  it('asks for no JPEG while nothing moves, and passes each quiet result on at once without a picture', () => {
    const { camera, feed, taken } = setUp();
    feed.plane({ timestamp: 1000 }, result(false));
    feed.plane({ timestamp: 1100 }, result(false));
    expect(camera.asked).toBe(0);
    expect(taken).toEqual([
      { motion: false, timestamp: 1000, sequence: 0, bytes: 0 },
      { motion: false, timestamp: 1100, sequence: 0, bytes: 0 },
    ]);
  });

  it('asks for JPEGs when motion begins; the result waits for a JPEG taken no earlier than its plane, and those after it wait in line', () => {
    const { camera, feed, taken, setBusy } = setUp();
    feed.plane({ timestamp: 2000 }, result(true));
    expect(camera.holders).toBe(1);
    setBusy(true);
    feed.plane({ timestamp: 2100 }, result(true));
    expect(taken).toEqual([]);
    expect(feed.frame(jpeg(1, 2150))).toEqual(result(true));
    expect(taken).toEqual([
      { motion: true, timestamp: 2000, sequence: 1, bytes: 4 },
      { motion: true, timestamp: 2100, sequence: 1, bytes: 4 },
    ]);
    // A JPEG no older than JPEG_MATCH_MS shows the next plane: no waiting.
    feed.plane({ timestamp: 2200 }, result(true));
    expect(taken[2]).toEqual({ motion: true, timestamp: 2200, sequence: 1, bytes: 4 });
    expect(camera.asked).toBe(1);
  });

  it('holds the demand while the event lasts, and lets go once it is over', () => {
    const { camera, feed, setBusy } = setUp();
    feed.plane({ timestamp: 2000 }, result(true));
    setBusy(true);
    feed.frame(jpeg(1, 2050));
    feed.plane({ timestamp: 2100 }, result(false));
    expect(camera.holders).toBe(1);
    setBusy(false);
    feed.plane({ timestamp: 3200 }, result(false));
    expect(camera.holders).toBe(0);
    // A JPEG that arrives after the event is not sent on the first output.
    expect(feed.frame(jpeg(2, 3250))).toBeNull();
  });

  it('goes on without a picture when the JPEG does not come within JPEG_WAIT_MS', () => {
    const { feed, taken, setBusy } = setUp();
    feed.plane({ timestamp: 2000 }, result(true));
    setBusy(true);
    for (let t = 2100; t <= 5000; t += 100) feed.plane({ timestamp: t }, result(true));
    expect(taken).toEqual([]);
    feed.plane({ timestamp: 5100 }, result(true));
    expect(taken).toHaveLength(32);
    expect(taken.every((take) => take.bytes === 0 && take.sequence === 0)).toBe(true);
    expect(taken.map((take) => take.timestamp)).toEqual(Array.from({ length: 32 }, (_, i) => 2000 + i * 100));
  });

  it('passes waiting results on when it closes, and stops asking for JPEGs', () => {
    const { camera, feed, taken } = setUp();
    feed.frame(jpeg(7, 500));
    feed.plane({ timestamp: 2000 }, result(true));
    feed.close();
    expect(camera.holders).toBe(0);
    // The only JPEG there is, though older than the plane: better than none for an event cut short.
    expect(taken).toEqual([{ motion: true, timestamp: 2000, sequence: 7, bytes: 4 }]);
  });

  it("gives the camera's recent picture for a tamper event, or a stand-in without a picture", async () => {
    expect((await setUp(jpeg(3, 900)).feed.recentPicture(1000)).meta.sequence).toBe(3);
    expect(await setUp(null).feed.recentPicture(1000)).toEqual({
      jpeg: Buffer.alloc(0),
      meta: { camera: 'yard', timestamp: 1000, sequence: 0, width: 0, height: 0, bytes: 0 },
    });
  });
});
