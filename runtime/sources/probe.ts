import { Counter, Gauge } from 'prom-client';
import type { Frame } from '../../core/frames/frame';
import { metrics } from '../../core/metrics';
import type { CameraStatus } from '../../core/capture/source';
import { cameraConfigFrom } from '../../nodes/glimpser-camera/schema';
import { buildSource } from '../../nodes/glimpser-camera/sources';
import type { GlimpserHandles } from '../../nodes/shared/handles';
import { FieldError } from './fields';
import type { FieldValues, SourceTemplate } from './templates';

/** Why a test found no picture, in the words the form shows, and the HTTP status that carries them. */
export class ProbeFailure extends Error {
  constructor(
    readonly status: 400 | 422 | 502,
    readonly kind: 'unauthorized' | 'forbidden' | 'not_found' | 'dns' | 'refused' | 'unreachable' | 'timeout' | 'not_video' | 'blocked' | 'failed' | 'no_probe',
    message: string,
  ) {
    super(message);
    this.name = 'ProbeFailure';
  }
}

/** The camera id a test capture runs under: never a deployed camera's, so a test cannot disturb one. */
const PROBE_CAMERA = 'source-test';

const RULES: Array<[RegExp, ProbeFailure['kind'], (detail: string) => string]> = [
  [/URL policy|allow-list/i, 'blocked', (d) => `blocked by the URL policy: ${d}`],
  [/\b401\b|unauthori[sz]ed|refused the username and password/i, 'unauthorized', (d) => `401 from the camera: the username or password is wrong (${d})`],
  [/\b403\b|forbidden/i, 'forbidden', (d) => `403 from the camera: this user may not see the stream (${d})`],
  [/\b404\b|not found/i, 'not_found', (d) => `404 from the camera: nothing at this path (${d})`],
  [/resolve|ENOTFOUND|EAI_AGAIN|name or service not known|name resolution|no address/i, 'dns', (d) => `DNS failure: the host name does not resolve (${d})`],
  [/connection refused|ECONNREFUSED/i, 'refused', (d) => `connection refused: nothing accepts connections at this address and port (${d})`],
  [/no route to host|network is unreachable|EHOSTUNREACH|ENETUNREACH/i, 'unreachable', (d) => `unreachable: no route to the host (${d})`],
  [/timed? ?out|ETIMEDOUT/i, 'timeout', (d) => `timeout: the camera did not answer in time (${d})`],
  [
    /invalid data|not an image|no video|unsupported url|not a readable|could not find codec|end of file/i,
    'not_video',
    (d) => `not a video: the address answered, but not with pictures Glimpser can read (${d})`,
  ],
];

/** A camera's lastError (already free of secrets) as the one reason the form shows. */
export function classifyCaptureError(lastError: string): ProbeFailure {
  for (const [pattern, kind, words] of RULES) if (pattern.test(lastError)) return new ProbeFailure(kind === 'blocked' ? 400 : 502, kind, words(lastError));
  return new ProbeFailure(502, 'failed', `the camera gave no picture: ${lastError}`);
}

export interface ProbeOptions {
  handles: GlimpserHandles;
  /** How long the test waits for its one picture. */
  deadlineMs: number;
}

/**
 * Drops the test camera's series from the per-camera metrics once a test is over: a test is not a camera, and a
 * lingering glimpser_camera_online 0 would raise the CameraOffline alert for a camera nobody has.
 */
export async function forgetProbeSeries(): Promise<void> {
  for (const metric of Object.values(metrics)) {
    if (!(metric instanceof Gauge || metric instanceof Counter)) continue;
    for (const { labels } of (await metric.get()).values) if (labels.camera === PROBE_CAMERA) metric.remove(labels as Record<string, string>);
  }
}

/** Removes what was typed as a secret from a message, whatever the capture code already redacted. */
function scrub(text: string, fields: FieldValues): string {
  let out = text;
  for (const secret of [fields.password, fields.username]) if (secret && secret.length >= 3) out = out.split(secret).join('***');
  return out;
}

/**
 * One picture from the source the template would make, with the capture code the camera node uses (so the answer
 * is what the deployed camera would see): its first JPEG, or its first error classified. The source is stopped and
 * its processes are gone before this settles.
 */
export async function probeSource(template: SourceTemplate, fields: FieldValues, options: ProbeOptions): Promise<Buffer> {
  if (template.camera.source === 'edge')
    throw new ProbeFailure(
      422,
      'no_probe',
      'an edge device sends its frames itself: add the source, then point the device at Glimpser with this username and password',
    );
  let config;
  try {
    config = cameraConfigFrom({
      ...template.camera,
      cameraId: PROBE_CAMERA,
      url: fields.url ?? template.camera.url,
      path: fields.path ?? template.camera.path,
    });
  } catch (err) {
    throw new FieldError(fields.path !== undefined ? 'path' : 'url', (err as Error).message);
  }
  const credentials = { username: fields.username, password: fields.password };
  let built;
  try {
    built = buildSource(config, credentials, options.handles);
  } catch (err) {
    const message = scrub((err as Error).message, fields);
    throw new FieldError(/path/.test(message) && fields.path !== undefined ? 'path' : 'url', message);
  }
  const { source, release } = built;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        settle();
        reject(new ProbeFailure(502, 'timeout', `timeout: no picture within ${Math.round(options.deadlineMs / 1000)} s`));
      }, options.deadlineMs);
      const settle = (): void => {
        clearTimeout(timer);
        source.off('frame', onFrame);
        source.off('status', onStatus);
      };
      const onFrame = (frame: Frame): void => {
        settle();
        resolve(frame.jpeg);
      };
      const onStatus = (status: CameraStatus): void => {
        if (status.lastError === null) return;
        settle();
        reject(classifyCaptureError(scrub(status.lastError, fields)));
      };
      source.on('frame', onFrame);
      source.on('status', onStatus);
      source.start();
    });
  } finally {
    await source.stop();
    await release();
    await forgetProbeSeries();
  }
}
