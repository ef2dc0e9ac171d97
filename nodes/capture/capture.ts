import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { CameraConfigNode } from '../glimpser-camera/types';
import { handlesFrom } from '../shared/handles';
import { handleClose, handleInput, statusOf } from '../shared/node-kit';
import { CaptureController } from './controller';
import { captureConfigFrom } from './schema';

/** capture: frames from a glimpser-camera, continuously, on an interval, or when a message arrives. */
export = function register(RED: NodeAPI): void {
  function CaptureNode(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    let controller: CaptureController | null = null;
    try {
      const config = captureConfigFrom(def);
      const cameraNode = RED.nodes.getNode(config.camera) as CameraConfigNode | null;
      if (!cameraNode) throw new Error('no camera selected: pick or add a glimpser-camera in the node settings');
      if (!cameraNode.controller.camera) throw new Error(`camera: ${cameraNode.controller.configError}`);
      controller = new CaptureController(this, config, cameraNode.controller.camera, handlesFrom(RED.settings));
    } catch (err) {
      this.error((err as Error).message);
      this.status(statusOf('error', (err as Error).message));
    }
    handleInput(this, async () => {
      if (!controller) throw new Error('capture is not configured; see the node status');
      await controller.onInput();
    });
    handleClose(this, () => controller?.close());
  }
  RED.nodes.registerType('capture', CaptureNode);
};
