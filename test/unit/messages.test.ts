import { checkFrameMessage, MessageError } from '../../core/messages';

const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]);
const frame = { camera: 'porch', timestamp: 1_714_600_000_000, sequence: 3, width: 640, height: 360, bytes: jpeg.length };

describe('frame messages between Glimpser nodes', () => {
  it("accepts a capture node's frame message and keeps the other fields of the message", () => {
    const msg = { _msgid: 'm1', topic: 'cameras/porch/frame', payload: jpeg, frame, extra: { kept: true } };
    expect(checkFrameMessage(msg)).toBe(msg);
  });

  it.each([
    [{ frame }, 'msg.payload: expected a JPEG Buffer, got nothing (a frame message from a capture node)'],
    [{ payload: 'not a picture', frame }, 'msg.payload: expected a JPEG Buffer, got "not a picture"'],
    [{ payload: jpeg }, 'msg.frame: expected'],
    [{ payload: jpeg, frame: { ...frame, timestamp: 'noon' } }, 'msg.frame.timestamp: expected the capture time in milliseconds since the epoch, got "noon"'],
    [{ payload: jpeg, frame: { ...frame, camera: 'Front Door' } }, 'msg.frame.camera: expected a camera id'],
  ])('refuses %j naming the field and what was expected', (msg, message) => {
    expect(() => checkFrameMessage(msg)).toThrow(message);
    try {
      checkFrameMessage(msg);
    } catch (err) {
      expect(err).toBeInstanceOf(MessageError);
      expect((err as MessageError).field).toBe(message.split(':')[0]);
    }
  });
});
