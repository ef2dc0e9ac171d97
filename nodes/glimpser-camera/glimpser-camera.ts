import type { Node, NodeAPI, NodeDef } from 'node-red';
import { handlesFrom } from '../shared/handles';
import { handleClose } from '../shared/node-kit';
import { CameraController, type CameraCredentials } from './controller';
import type { CameraConfigNode } from './types';

/** glimpser-camera: a config node that owns one camera's decode; capture nodes attach to it. */
export = function register(RED: NodeAPI): void {
  function GlimpserCameraNode(this: Node<CameraCredentials>, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this as CameraConfigNode;
    node.controller = new CameraController(def, this.credentials ?? {}, handlesFrom(RED.settings));
    if (node.controller.configError) this.error(`camera "${def.name || def.id}": ${node.controller.configError}`);
    handleClose(this, () => node.controller.close());
  }
  RED.nodes.registerType<Node<CameraCredentials>, NodeDef & Record<string, unknown>, object, CameraCredentials>('glimpser-camera', GlimpserCameraNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
