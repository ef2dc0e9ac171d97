import type { NodeAPI } from 'node-red';
import { registerNode } from '../shared/node-kit';
import { CameraController, type CameraCredentials } from './controller';
import { cameraConfig } from './schema';

/** glimpser-camera: a config node that owns one camera's decode; capture and motion nodes attach to it. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, {
    config: cameraConfig,
    label: 'camera',
    create: ({ config, node, handles }) => new CameraController(config, (node.credentials ?? {}) as CameraCredentials, handles),
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
