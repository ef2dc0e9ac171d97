import { signal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CameraStatus } from '../../../core/capture/source';
import { api } from '../api';
import { onLive } from '../live';
import { Link } from '../router';
import { can } from '../session';
import { Loading, PageHeader, ProblemNote, Time } from '../ui';
import './cameras.css';

type Point = [number, number];

/** A camera as GET /api/cameras lists it: its status, and the zones and masks motion nodes watch on it. */
export interface CameraJson extends Omit<CameraStatus, 'camera'> {
  id: string;
  name: string;
  zones: { name: string; points: Point[] }[];
  masks: Point[][];
}

const LOW_BANDWIDTH_KEY = 'glimpser.lowBandwidth';
/** How often a snapshot replaces the last one in low-bandwidth mode. */
const SNAPSHOT_EVERY_MS = 3000;
/**
 * Live streams open at once in this page. A browser opens at most 6 HTTP/1.1 connections to a host and an MJPEG
 * stream holds one for good: with the live-updates connection, 4 streams leave one for API calls and snapshots.
 * Visible tiles beyond the first 4 (in grid order) show a snapshot every OVERFLOW_SNAPSHOT_EVERY_MS instead.
 */
const MAX_LIVE_STREAMS = 4;
const OVERFLOW_SNAPSHOT_EVERY_MS = 10000;
/** The list is refetched this often besides the live updates, in case a message was missed while reconnecting. */
const REFETCH_EVERY_MS = 30000;
/** An empty picture: set as the src before a live view goes, so the browser closes its stream at once. */
const NO_PICTURE = 'data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==';

/**
 * Whether the page has finished loading. Live streams start only after, since an endless MJPEG response would
 * otherwise hold the page's load event (and the browser's busy indicator) for good.
 */
const pageLoaded = signal(document.readyState === 'complete');
if (!pageLoaded.value) window.addEventListener('load', () => (pageLoaded.value = true), { once: true });

/** Whether the page is shown: a tab in the background holds no stream and asks for no snapshot. */
const pageShown = signal(document.visibilityState === 'visible');
document.addEventListener('visibilitychange', () => (pageShown.value = document.visibilityState === 'visible'));

/** The pictures that want a live stream now, each with its place in the grid (lower places get the streams). */
const wantingStream = signal<ReadonlyMap<object, number>>(new Map());

/**
 * Whether this picture may hold one of the MAX_LIVE_STREAMS live streams while it `wants` one: 'live', 'queued'
 * (behind others: show snapshots), 'pending' (not counted yet: show nothing, so no snapshot is asked for in vain).
 */
function useStreamSlot(wants: boolean, order: number): 'live' | 'queued' | 'pending' | null {
  const [key] = useState(() => ({}));
  useEffect(() => {
    if (!wants) return;
    wantingStream.value = new Map(wantingStream.value).set(key, order);
    return () => {
      const next = new Map(wantingStream.value);
      next.delete(key);
      wantingStream.value = next;
    };
  }, [wants, order]);
  if (!wants) return null;
  const place = [...wantingStream.value].sort((a, b) => a[1] - b[1]).findIndex(([k]) => k === key);
  return place === -1 ? 'pending' : place < MAX_LIVE_STREAMS ? 'live' : 'queued';
}

/** Snapshots every few seconds instead of a live stream: for slow or metered connections. Kept in this browser. */
export const lowBandwidth = signal(readLowBandwidth());

function readLowBandwidth(): boolean {
  try {
    return localStorage.getItem(LOW_BANDWIDTH_KEY) === '1';
  } catch {
    return false;
  }
}

export function setLowBandwidth(on: boolean): void {
  lowBandwidth.value = on;
  try {
    localStorage.setItem(LOW_BANDWIDTH_KEY, on ? '1' : '0');
  } catch {
    // Private browsing without storage: the choice lasts this page only.
  }
}

/** The cameras, kept current by live `camera` messages and a slow refetch; `error` is the last failed load. */
export function useCameras(): { cameras: CameraJson[] | undefined; error: unknown } {
  const [cameras, setCameras] = useState<CameraJson[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const abort = new AbortController();
    const load = () =>
      api<{ cameras: CameraJson[] }>('/cameras', { signal: abort.signal }).then(
        (answer) => {
          setCameras(answer.cameras);
          setError(null);
        },
        (err: unknown) => !abort.signal.aborted && setError(err),
      );
    void load();
    const timer = setInterval(() => void load(), REFETCH_EVERY_MS);
    const stop = onLive('camera', ({ camera, status }) => {
      const { state, fps, lastFrameAt, lastError, restarts } = status;
      setCameras((list) => list?.map((c) => (c.id === camera ? { ...c, state, fps, lastFrameAt, lastError, restarts } : c)));
    });
    return () => {
      abort.abort();
      clearInterval(timer);
      stop();
    };
  }, []);
  return { cameras, error };
}

/** Whether the element shows any of itself in the viewport; a zero-area touch at the edge does not count. */
function useVisible(ref: { current: Element | null }): boolean {
  const [visible, setVisible] = useState(false);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) setVisible(entry.isIntersecting && entry.intersectionRatio > 0);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return visible;
}

export function stateBadge(camera: CameraJson) {
  const tone = camera.state === 'online' ? 'good' : camera.state === 'offline' ? 'bad' : 'warn';
  return (
    <span class={`badge ${tone}`} data-testid="camera-state" data-state={camera.state}>
      {camera.state}
    </span>
  );
}

/**
 * A camera's picture: the MJPEG live stream, or a snapshot every few seconds in low-bandwidth mode. Nothing is
 * requested while `active` is false or the camera is offline (the reason shows instead), so a hidden tile holds no
 * connection and no request is made that would fail.
 */
export function LivePicture(props: { camera: CameraJson; active: boolean; low: boolean; order: number; fit?: boolean; onPicture?: () => void }) {
  const { camera, active } = props;
  const [tick, setTick] = useState(0);
  // With `fit`, the box takes the picture's own shape, so overlays in picture coordinates line up with it.
  const [shape, setShape] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const img = useRef<HTMLImageElement>(null);
  // Whether this picture held a live stream on its last render.
  const holding = useRef(false);
  // Offline, or retrying after an error: no picture to show, and a snapshot would fail.
  const offline = camera.state === 'offline' || (camera.state === 'connecting' && camera.lastError !== null);
  const showing = active && pageLoaded.value && pageShown.value && !failed;
  // A live stream already open stays open while the camera is offline: it keeps the camera retrying, and the
  // picture comes back by itself. A camera known to be offline is not asked for a new one.
  const slot = useStreamSlot(showing && !props.low && (!offline || holding.current), props.order);
  const live = slot === 'live';
  holding.current = live;
  const low = !live;
  const requested = live || (showing && !offline && slot !== 'pending');

  useEffect(() => {
    if (!showing || !low) return;
    const timer = setInterval(() => setTick((n) => n + 1), props.low ? SNAPSHOT_EVERY_MS : OVERFLOW_SNAPSHOT_EVERY_MS);
    return () => clearInterval(timer);
  }, [showing, low, props.low]);
  // After a failed load, one more try a little later (a restarting camera, a live-view slot freed).
  useEffect(() => {
    if (!failed) return;
    const timer = setTimeout(() => setFailed(false), 10000);
    return () => clearTimeout(timer);
  }, [failed]);
  // Removing an <img> does not always stop its endless MJPEG response; pointing it elsewhere does.
  useEffect(() => {
    const element = img.current;
    return () => {
      if (element) element.src = NO_PICTURE;
    };
  }, [requested, low]);

  const base = `/api/cameras/${encodeURIComponent(camera.id)}`;
  // A camera that is not running has no recent frame: fresh=1 starts it and waits for one instead of a 503.
  const src = low ? `${base}/snapshot.jpg?t=${tick}${camera.state === 'online' ? '' : '&fresh=1'}` : `${base}/stream.mjpg`;
  return (
    <div class="picture" data-testid="picture" style={props.fit && shape ? { aspectRatio: shape } : undefined}>
      {requested && (
        <img
          key={low ? 'snapshot' : 'stream'}
          class={offline ? 'waiting' : undefined}
          ref={img}
          src={src}
          alt={`${low ? 'Latest picture' : 'Live view'} of ${camera.name}`}
          data-testid={low ? 'snapshot' : 'stream'}
          onLoad={(e) => {
            const { naturalWidth, naturalHeight } = e.currentTarget;
            if (naturalWidth > 1 && naturalHeight > 1) setShape(`${naturalWidth} / ${naturalHeight}`);
            props.onPicture?.();
          }}
          onError={() => setFailed(true)}
        />
      )}
      {(offline || !requested) && (
        <p class="picture-note" data-testid="picture-note">
          {offline
            ? `${camera.state === 'offline' ? 'Offline' : 'Reconnecting'}: ${camera.lastError ?? 'no frames'}`
            : failed
              ? 'No picture right now; trying again shortly'
              : ''}
        </p>
      )}
    </div>
  );
}

function CameraTile(props: { camera: CameraJson; low: boolean; order: number; onPicture: () => void }) {
  const { camera } = props;
  const ref = useRef<HTMLLIElement>(null);
  const visible = useVisible(ref);
  return (
    <li class="camera-tile panel" ref={ref} data-testid="camera-tile" data-camera={camera.id} data-visible={visible ? 'true' : 'false'}>
      <Link href={`/cameras/${encodeURIComponent(camera.id)}`} class="tile-link" aria-label={`${camera.name}: open the camera`}>
        <LivePicture camera={camera} active={visible} low={props.low} order={props.order} onPicture={props.onPicture} />
      </Link>
      <div class="tile-caption">
        <h2>
          <Link href={`/cameras/${encodeURIComponent(camera.id)}`}>{camera.name}</Link>
        </h2>
        {stateBadge(camera)}
      </div>
      <p class="tile-meta muted">
        {camera.lastFrameAt === null ? (
          'No frame yet'
        ) : (
          <>
            Last frame <Time ms={camera.lastFrameAt} relative />
          </>
        )}
      </p>
    </li>
  );
}

/** Marks for the Performance timeline (the scale test reads them): the grid's first render and its first picture. */
function markOnce(name: string): void {
  if (performance.getEntriesByName(name, 'mark').length === 0) performance.mark(name);
}

export function Cameras(_props: { params: Record<string, string> }) {
  const { cameras, error } = useCameras();
  const low = lowBandwidth.value;
  useEffect(() => {
    if (cameras) markOnce('glimpser:cameras-rendered');
  }, [cameras !== undefined]);
  return (
    <>
      <PageHeader title="Cameras">
        <label class="toggle">
          <input type="checkbox" checked={low} onChange={(e) => setLowBandwidth(e.currentTarget.checked)} data-testid="low-bandwidth" />
          Low bandwidth
        </label>
        {can('admin') && (
          <Link href="/sources/new" class="button" data-testid="add-source">
            Add a source
          </Link>
        )}
      </PageHeader>
      <ProblemNote error={error} />
      {cameras === undefined ? (
        !error && <Loading what="cameras" />
      ) : cameras.length === 0 ? (
        <p class="muted">No cameras yet.{can('admin') && ' Add a source to see its pictures here.'}</p>
      ) : (
        <ul class="grid camera-grid" data-testid="camera-grid">
          {cameras.map((camera, i) => (
            <CameraTile key={camera.id} camera={camera} low={low} order={i} onPicture={() => markOnce('glimpser:first-picture')} />
          ))}
        </ul>
      )}
    </>
  );
}
