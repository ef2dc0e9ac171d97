import type { AlertService } from '../../core/alerts';
import type { PushHandles } from '../../core/alerts/push-subscriptions';
import type { FrameArchive } from '../../core/archive/frame-archive';
import type { Bus } from '../../core/bus/bus';
import type { EventJournal } from '../../core/store/journal';
import type { AiProviderRegistry } from '../../core/describe/registry';
import type { MediaLinks } from '../../core/alerts/media-links';
import type { Scheduler } from '../../core/jobs/scheduler';
import { BrowserPoolLease } from '../../core/capture/browser-lease';
import type { DeviceRegistry } from '../../core/capture/devices';
import { CameraRegistry } from '../../core/capture/registry';
import { silentLogger, type Logger } from '../../core/log/logger';

/**
 * What the Glimpser runtime lends its nodes through Node-RED's settings (`settings.glimpser`). Installed into a
 * plain Node-RED instead, the nodes still work: no bus (frames are only sent along wires), a private registry,
 * and ffmpeg from PATH.
 */
export interface GlimpserHandles {
  bus?: Bus;
  /** Edge devices' MQTT credentials, checked by the embedded broker; absent outside the runtime. */
  devices?: DeviceRegistry;
  cameras: CameraRegistry;
  /** Where capture nodes with "archive" on keep their frames; absent outside the runtime. */
  archive?: FrameArchive;
  /** The event journal the event node writes to; absent outside the runtime. */
  journal?: EventJournal;
  /** The alert outbox and its delivery worker (cap-alert and notify-* nodes); absent outside the runtime. */
  alerts?: AlertService;
  /**
   * The job scheduler (core/jobs): nodes register their schedules (capture cron/interval, ai-summary windows, job
   * nodes) so they are listed, paused and run from the API. Absent outside the runtime.
   */
  jobs?: Scheduler;
  /** Signs the expiring snapshot links notifiers send (MMS media, webhook JSON); absent outside the runtime. */
  mediaLinks?: MediaLinks;
  /** The AI providers (glimpser-ai nodes) deployed now, for POST /api/ai/analyze; absent outside the runtime. */
  ai?: AiProviderRegistry;
  /** The install's VAPID keys and the browsers subscribed through the API (notify-push); absent outside the runtime. */
  push?: PushHandles;
  ffmpegPath: string;
  /** The headless-browser pool website cameras share. */
  browsers: BrowserPoolLease;
  mediaDir?: string;
  logger: Logger;
}

const standalone: GlimpserHandles = { cameras: new CameraRegistry(), ffmpegPath: 'ffmpeg', logger: silentLogger, browsers: new BrowserPoolLease() };

export function handlesFrom(settings: unknown): GlimpserHandles {
  const provided = (settings as { glimpser?: Partial<GlimpserHandles> } | undefined)?.glimpser;
  return provided?.cameras ? ({ ...standalone, ...provided } as GlimpserHandles) : standalone;
}
