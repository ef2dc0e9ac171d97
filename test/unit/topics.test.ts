import { assertCameraId } from '../../core/ids';
import { parseCameraTopic, topics } from '../../core/topics';

describe('topics', () => {
  it('builds camera topics under glimpser/ and parses them back', () => {
    expect(topics.cameraFrame('front-door')).toBe('glimpser/cameras/front-door/frame');
    expect(topics.cameraState('demo')).toBe('glimpser/cameras/demo/state');
    expect(parseCameraTopic('glimpser/cameras/demo/state')).toEqual({ camera: 'demo', leaf: 'state' });
    expect(parseCameraTopic('glimpser/cameras/demo/motion/zone')).toEqual({ camera: 'demo', leaf: 'motion/zone' });
    expect(parseCameraTopic('glimpser/available')).toBeNull();
    expect(parseCameraTopic('other/cameras/demo/state')).toBeNull();
  });

  it.each(['', 'Front', 'a/b', 'a+', '#', '../x', '-cam', 'x'.repeat(65)])('refuses the camera id %j, which could escape a topic or path', (id) => {
    expect(() => assertCameraId(id)).toThrow(/camera id .* is invalid: expected 1-64 characters/);
    if (!id.includes('/')) expect(parseCameraTopic(`glimpser/cameras/${id}/state`)).toBeNull();
  });
});
