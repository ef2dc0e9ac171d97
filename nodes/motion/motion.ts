import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { CameraController } from '../glimpser-camera/controller';
import type { ConfigNodeHandle } from '../shared/node-kit';
import { handlesFrom } from '../shared/handles';
import { handleClose, handleInput, statusOf } from '../shared/node-kit';
import { MotionController } from './controller';
import { motionConfigFrom } from './schema';

const SNAPSHOT_MAX_AGE_MS = 5000;
const SNAPSHOT_TIMEOUT_MS = 5000;

/** motion: notices what changed in a camera's frames and turns it into motion, tamper and scene-change events. */
export = function register(RED: NodeAPI): void {
  function MotionNode(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    let controller: MotionController | null = null;
    try {
      const settings = motionConfigFrom(def);
      controller = new MotionController(this, settings, handlesFrom(RED.settings));
      this.status(statusOf('idle', 'waiting for frames'));
      if (settings.input === 'camera') {
        const cameraNode = RED.nodes.getNode(settings.camera) as unknown as ConfigNodeHandle<CameraController> | null;
        if (!cameraNode) throw new Error('"Frames from" is the camera, but no camera is selected: pick a glimpser-camera');
        if (!cameraNode.controller) throw new Error(`camera: ${cameraNode.configError}`);
        controller.watch(cameraNode.controller.camera, (msgs) => this.send(msgs as Parameters<Node['send']>[0]));
      }
    } catch (err) {
      controller = null;
      this.error((err as Error).message);
      this.status(statusOf('error', (err as Error).message));
    }
    handleInput(this, async (msg, send) => {
      if (!controller) throw new Error('motion is not configured; see the node status');
      await controller.onFrame(msg as unknown as Record<string, unknown>, (msgs) => send(msgs as Parameters<typeof send>[0]));
    });
    handleClose(this, () => controller?.close((msgs) => this.send(msgs as Parameters<Node['send']>[0])));
  }
  RED.nodes.registerType('motion', MotionNode);

  // The editor draws masks and zones over the camera's latest picture; this route serves it behind editor sign-in.
  const handles = handlesFrom(RED.settings);
  RED.httpAdmin.get('/glimpser/cameras/:id/snapshot.jpg', RED.auth.needsPermission('motion.read'), async (req, res) => {
    const frame = (await handles.cameras.get(String(req.params.id))?.recentFrame(SNAPSHOT_MAX_AGE_MS, SNAPSHOT_TIMEOUT_MS)) ?? null;
    if (!frame) {
      res.status(404).json({ error: 'not_found', message: `no picture yet from camera "${String(req.params.id)}"` });
      return;
    }
    res.setHeader('Content-Type', 'image/jpeg');
    res.setHeader('Cache-Control', 'no-store');
    res.end(frame.jpeg);
  });
};
