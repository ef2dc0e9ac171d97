import { existsSync } from 'node:fs';

/** How ffmpeg decodes a camera's video: in software, or on a GPU's video engine. */
export type HwAccel = 'none' | 'auto' | 'vaapi' | 'qsv' | 'cuda';

export const HW_ACCELS: readonly HwAccel[] = ['none', 'auto', 'vaapi', 'qsv', 'cuda'];

/** The first DRM render node: the Intel or AMD GPU on a typical single-GPU box. */
export const DRI_RENDER_NODE = '/dev/dri/renderD128';
/** The first NVIDIA GPU; CUDA's device 0. */
export const NVIDIA_DEVICE = '/dev/nvidia0';

export interface HwAccelResolution {
  /** ffmpeg input options, placed before `-i`. */
  args: string[];
  /** Why the wanted acceleration is not used, in words for the log; null when it is. */
  warning: string | null;
}

export interface ResolveHwAccelOptions {
  /** Whether a device node exists; injectable for tests and for hosts that map devices elsewhere. */
  exists?: (path: string) => boolean;
}

/**
 * The ffmpeg input options for a decode preset. None of them sets `-hwaccel_output_format`: without it ffmpeg
 * copies each decoded picture back to system memory, so the software `fps`, `scale`, `split` and JPEG encoder
 * after it work exactly as with software decoding. Only the decode, the expensive part, moves to the GPU.
 * A preset whose device node is missing falls back to software decoding with a warning, rather than leaving
 * the camera dark because a container was started without `--device /dev/dri`.
 */
export function resolveHwAccel(wanted: HwAccel, options: ResolveHwAccelOptions = {}): HwAccelResolution {
  const exists = options.exists ?? existsSync;
  const onDevice = (device: string, args: string[]): HwAccelResolution =>
    exists(device) ? { args, warning: null } : { args: [], warning: `hwaccel "${wanted}" needs ${device}, which does not exist: decoding in software` };
  switch (wanted) {
    case 'none':
      return { args: [], warning: null };
    case 'auto':
      // ffmpeg tries each method it was built with and decodes in software when none works.
      return { args: ['-hwaccel', 'auto'], warning: null };
    case 'vaapi':
      return onDevice(DRI_RENDER_NODE, ['-hwaccel', 'vaapi', '-hwaccel_device', DRI_RENDER_NODE]);
    case 'qsv':
      // ffmpeg 5.1 uses Quick Sync only through its per-codec decoders (h264_qsv, hevc_qsv), and a camera's
      // codec is unknown until it is connected; the native decoders reach the same Intel media engine via VA-API.
      return onDevice(DRI_RENDER_NODE, ['-hwaccel', 'vaapi', '-hwaccel_device', DRI_RENDER_NODE]);
    case 'cuda':
      return onDevice(NVIDIA_DEVICE, ['-hwaccel', 'cuda', '-hwaccel_device', '0']);
    default:
      throw new Error(`hwaccel ${JSON.stringify(wanted)} is invalid: expected one of ${HW_ACCELS.join(', ')}`);
  }
}

/**
 * ffmpeg's words when a device node exists but cannot be used (no driver, no permission, no libcuda): the
 * run then fails before its first frame, and capture retries it in software.
 */
export function isHwDeviceFailure(stderrLine: string): boolean {
  return /Device creation failed|Device setup failed|No device available for decoder|Cannot load libcuda|No VA display found/i.test(stderrLine);
}
