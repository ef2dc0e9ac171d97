import type { Migration } from '../shared/config';

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
export const MOTION_MIGRATIONS: readonly Migration[] = [];
