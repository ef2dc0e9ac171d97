import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release; wired frames, the only input then). */
export const MOTION_V1 = {
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

/** Each step takes the settings of one version to the next; version 1 is still the current one. */
const MOTION_MIGRATIONS: readonly Migration[] = [];

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const MOTION_HISTORY: NodeHistory = { v1: MOTION_V1, migrations: MOTION_MIGRATIONS };
