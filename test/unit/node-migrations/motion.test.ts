import { motionConfig, motionConfigFrom, motionRegions } from '../../../nodes/motion/schema';
import { currentVersion } from '../../../nodes/shared/config';

const DEFAULTS = {
  version: 1,
  name: '',
  mode: 'video',
  threshold: 25,
  minArea: 0.3,
  minDuration: 0.3,
  quiet: 3,
  sceneThreshold: 0.05,
  masks: '[]',
  zones: '{}',
  tamper: true,
  publish: true,
  camera: '',
  input: 'messages',
};

describe('motion node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(motionConfig.schema)).toBe(1);
    expect(motionConfig.migrations).toEqual([]);
  });

  it('loads a version 1 node as a flow saved it, Node-RED keys and numbers typed as text and all', () => {
    const v1 = {
      id: 'm1',
      type: 'motion',
      z: 'tab',
      x: 300,
      y: 120,
      wires: [['frames'], ['events']],
      version: 1,
      name: 'yard',
      mode: 'video',
      threshold: '30',
      minArea: '0.5',
      minDuration: 1,
      quiet: '5',
      sceneThreshold: 0.05,
      masks: '[[[0,0],[0.2,0],[0.2,0.2]]]',
      zones: '{"door":[[0.1,0.1],[0.4,0.1],[0.4,0.9]]}',
      tamper: false,
      publish: true,
      camera: 'cam',
      input: 'camera',
    };
    expect(motionConfigFrom(v1)).toEqual({
      ...DEFAULTS,
      name: 'yard',
      threshold: 30,
      minArea: 0.5,
      minDuration: 1,
      quiet: 5,
      masks: v1.masks,
      zones: v1.zones,
      tamper: false,
      camera: 'cam',
      input: 'camera',
    });
  });

  it('reads a node saved before the camera input existed (no version, no input, no camera) as wired frames with v1 defaults', () => {
    expect(motionConfigFrom({ id: 'm1', type: 'motion', minDuration: 0.3, quiet: 1, zones: '{"left":[[0,0],[0.5,0],[0.5,1],[0,1]]}' })).toEqual({
      ...DEFAULTS,
      quiet: 1,
      zones: '{"left":[[0,0],[0.5,0],[0.5,1],[0,1]]}',
    });
  });

  it('gives masks and zones as checked polygons', () => {
    expect(motionRegions(motionConfigFrom({ masks: '', zones: '{"door":[[0.1,0.1],[0.4,0.1],[0.4,0.9]]}' }))).toEqual({
      masks: [],
      zones: [
        {
          name: 'door',
          points: [
            [0.1, 0.1],
            [0.4, 0.1],
            [0.4, 0.9],
          ],
        },
      ],
    });
  });

  it.each([
    [{ threshold: 0 }, 'motion setting "threshold" must be >= 1'],
    [{ mode: 'radar' }, 'motion setting "mode"'],
    [{ surprise: 1 }, 'motion setting "surprise" must NOT have additional properties'],
    [{ version: 2 }, 'motion setting "version" is 2: this Glimpser reads versions 1 to 1'],
    [{ masks: 'not json' }, 'motion setting "masks" is not valid JSON'],
    [{ masks: '{}' }, 'motion setting "masks" must be a JSON array of polygons'],
    [{ zones: '[]' }, 'motion setting "zones" must be a JSON object of named polygons'],
    [{ masks: '[[[0,0],[1.4,0],[1,1]]]' }, 'mask 1 point 2'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => motionConfigFrom(def)).toThrow(message);
  });
});
