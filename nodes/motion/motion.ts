import type { NodeAPI } from 'node-red';
import { instancePath, PROBLEM_CONTENT_TYPE, problemOf } from '../../core/net/problem';
import { handlesFrom } from '../shared/handles';
import { registerNode } from '../shared/node-kit';
import { MotionController } from './controller';
import { motionConfig } from './schema';

const SNAPSHOT_MAX_AGE_MS = 5000;
const SNAPSHOT_TIMEOUT_MS = 5000;

/** motion: notices what changed in a camera's frames and turns it into motion, tamper and scene-change events. */
export = function register(RED: NodeAPI): void {
  registerNode(RED, { config: motionConfig, create: (ctx) => new MotionController(ctx) });

  // The editor draws masks and zones over the camera's latest picture; this route serves it behind editor sign-in.
  const handles = handlesFrom(RED.settings);
  RED.httpAdmin.get('/glimpser/cameras/:id/snapshot.jpg', RED.auth.needsPermission('motion.read'), async (req, res) => {
    const frame = (await handles.cameras.get(String(req.params.id))?.recentFrame(SNAPSHOT_MAX_AGE_MS, SNAPSHOT_TIMEOUT_MS)) ?? null;
    if (!frame) {
      const problem = problemOf(404, 'not_found', `no picture yet from camera "${String(req.params.id)}"`, instancePath(req.originalUrl));
      res.status(404).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
      return;
    }
    res.setHeader('Content-Type', 'image/jpeg');
    res.setHeader('Cache-Control', 'no-store');
    res.end(frame.jpeg);
  });
};
