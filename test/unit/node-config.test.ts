import { captureConfigFrom } from '../../nodes/capture/schema';
import { cameraConfigFrom } from '../../nodes/glimpser-camera/schema';

describe('capture node configuration', () => {
  it('loads a version 1 definition saved by an older release, adding the v2 settings', () => {
    const v1 = {
      id: 'n1',
      type: 'capture',
      z: 't',
      x: 1,
      y: 2,
      wires: [[]],
      version: 1,
      name: 'old',
      camera: 'cam',
      mode: 'interval',
      fps: '2',
      interval: '5',
      timeout: 10,
      publish: true,
    };
    expect(captureConfigFrom(v1)).toEqual({
      version: 2,
      name: 'old',
      camera: 'cam',
      mode: 'interval',
      fps: 2,
      interval: 5,
      timeout: 10,
      publish: true,
      cron: '',
      timeZone: '',
      archive: false,
    });
  });

  it('loads a definition with no version at all (the first flows) as version 1', () => {
    expect(captureConfigFrom({ camera: 'cam' })).toMatchObject({ version: 2, mode: 'interval', interval: 5 });
  });

  it.each([
    [{ camera: 'cam', mode: 'sometimes' }, 'capture setting "mode" must be equal to constant'],
    [{ camera: 'cam', fps: 0 }, 'capture setting "fps" must be > 0'],
    [{ camera: 'cam', mode: 'cron', cron: 'daily' }, 'cron expression "daily" is invalid'],
    [{ camera: 'cam', surprise: 1 }, 'capture setting "surprise" must NOT have additional properties'],
    [{ camera: '' }, 'capture setting "camera" must NOT have fewer than 1 characters'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => captureConfigFrom(def)).toThrow(message);
  });
});

describe('glimpser-camera node configuration', () => {
  it('fills defaults and reads numbers typed as text', () => {
    expect(cameraConfigFrom({ id: 'c', type: 'glimpser-camera', cameraId: 'door', width: '1280', height: '720' })).toMatchObject({
      cameraId: 'door',
      source: 'demo',
      width: 1280,
      height: 720,
      fps: 5,
    });
  });

  it('names the wrong setting', () => {
    expect(() => cameraConfigFrom({ cameraId: 'door', fps: 500 })).toThrow('camera setting "fps" must be <= 60');
  });
});
