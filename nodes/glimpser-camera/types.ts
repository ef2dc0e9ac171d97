import type { Node } from 'node-red';
import type { CameraController, CameraCredentials } from './controller';

/** What capture nodes find when they look up their camera with RED.nodes.getNode. */
export interface CameraConfigNode extends Node<CameraCredentials> {
  controller: CameraController;
}
