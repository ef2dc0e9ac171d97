import { useEffect, useRef, useState } from 'preact/hooks';
import type { EventJson } from '../../../core/store/event-json';
import { api, query } from '../api';
import { onLive } from '../live';
import { Link } from '../router';
import { Loading, PageHeader, ProblemNote, Time, useApi } from '../ui';
import { LivePicture, lowBandwidth, setLowBandwidth, stateBadge, useCameras, type CameraJson } from './cameras';
import './cameras.css';

const RECENT_EVENTS = 12;
const ARCHIVE_PAGE = 100;

interface ArchivedFrame {
  id: string;
  timestamp: number;
  url: string;
}

/** A page of GET /api/cameras/{id}/archive, newest first; `next` asks for the page before it. */
interface ArchivePage {
  frames: ArchivedFrame[];
  next: string | null;
}

const pointsOf = (points: [number, number][]) => points.map(([x, y]) => `${x},${y}`).join(' ');

/** The camera's zones (outlined, named) and masks (shaded) over its picture, in the picture's own 0..1 coordinates. */
function Regions(props: { camera: CameraJson }) {
  const { zones, masks } = props.camera;
  if (zones.length === 0 && masks.length === 0) return null;
  return (
    <>
      <svg class="regions" viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true" data-testid="regions">
        {masks.map((points) => (
          <polygon class="mask" points={pointsOf(points)} />
        ))}
        {zones.map((zone) => (
          <polygon class="zone" points={pointsOf(zone.points)} data-zone={zone.name} />
        ))}
      </svg>
      {zones.map((zone) => (
        <span
          class="zone-label"
          style={{ left: `${Math.min(...zone.points.map((p) => p[0])) * 100}%`, top: `${Math.min(...zone.points.map((p) => p[1])) * 100}%` }}
        >
          {zone.name}
        </span>
      ))}
    </>
  );
}

function RecentEvents(props: { camera: string }) {
  const { camera } = props;
  const { value, error, reload } = useApi((signal) => api<{ events: EventJson[] }>(`/events${query({ camera, limit: RECENT_EVENTS })}`, { signal }), [camera]);
  useEffect(() => onLive('event', (message) => message.camera === camera && message.change !== 'update' && reload()), [camera]);
  return (
    <section class="panel" aria-labelledby="recent-events">
      <h2 id="recent-events">Recent events</h2>
      <ProblemNote error={error} />
      {value === undefined ? (
        !error && <Loading what="events" />
      ) : value.events.length === 0 ? (
        <p class="muted">No events yet.</p>
      ) : (
        <ul class="camera-events" data-testid="camera-events">
          {value.events.map((event) => (
            <li key={event.id}>
              <Link href={`/events/${encodeURIComponent(event.id)}`} data-testid="camera-event">
                {event.hasSnapshot ? (
                  <img
                    src={`/api/events/${encodeURIComponent(event.id)}/snapshot.jpg`}
                    alt={`${event.type} event snapshot`}
                    loading="lazy"
                    width={96}
                    height={54}
                  />
                ) : (
                  <span class="no-thumb" aria-hidden="true" />
                )}
                <span>
                  <strong>{event.type}</strong>
                  {event.zones.length > 0 && <small> in {event.zones.join(', ')}</small>}
                  <br />
                  <small class="muted">
                    <Time ms={event.startTimeMs} relative />
                  </small>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      <p>
        <Link href={`/events${query({ camera })}`}>All events of this camera</Link>
      </p>
    </section>
  );
}

/** Archived frames, newest first; ← goes back in time, → forward (buttons and the keyboard). */
function Archive(props: { camera: string }) {
  const { camera } = props;
  const path = `/cameras/${encodeURIComponent(camera)}/archive`;
  const { value, error, reload } = useApi((signal) => api<ArchivePage>(`${path}${query({ limit: ARCHIVE_PAGE })}`, { signal }), [camera]);
  // Older pages, fetched when stepping past the oldest frame loaded.
  const [more, setMore] = useState<ArchivePage | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  useEffect(() => setMore(null), [value]);
  const frames = [...(value?.frames ?? []), ...(more?.frames ?? [])];
  const next = more ? more.next : (value?.next ?? null);
  const [index, setIndex] = useState(0);
  const at = Math.min(index, Math.max(frames.length - 1, 0));
  const older = () => {
    if (at < frames.length - 1) return setIndex(at + 1);
    if (next === null || loadingMore) return;
    setLoadingMore(true);
    setMoreError(null);
    api<ArchivePage>(`${path}${query({ limit: ARCHIVE_PAGE, before: next })}`)
      .then((page) => {
        setMore((loaded) => ({ frames: [...(loaded?.frames ?? []), ...page.frames], next: page.next }));
        if (page.frames.length > 0) setIndex(at + 1);
      }, setMoreError)
      .finally(() => setLoadingMore(false));
  };
  const newer = () => setIndex(Math.max(at - 1, 0));
  // The keys call the steps of the latest render: set during render, so a key pressed right after a step (before
  // effects run) steps from the frame on screen, not from the one before it.
  const steps = useRef({ older, newer });
  steps.current = { older, newer };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || target?.closest('input, textarea, select')) return;
      if (e.key === 'ArrowLeft') steps.current.older();
      else if (e.key === 'ArrowRight') steps.current.newer();
      else return;
      e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  const frame = frames[at];
  return (
    <section class="panel archive" aria-labelledby="archive-heading">
      <div class="archive-head">
        <h2 id="archive-heading">Archive</h2>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setIndex(0);
            setMoreError(null);
            reload();
          }}
        >
          Refresh
        </button>
      </div>
      <ProblemNote error={error ?? moreError} />
      {value === undefined ? (
        !error && <Loading what="archived frames" />
      ) : !frame ? (
        <p class="muted">No archived frames. Turn on "archive" in a capture node of this camera to keep its frames.</p>
      ) : (
        <>
          <div class="picture">
            <img src={frame.url} alt={`Archived frame of ${new Date(frame.timestamp).toLocaleString()}`} data-testid="archive-frame" data-frame={frame.id} />
          </div>
          <div class="archive-controls">
            <button
              type="button"
              onClick={older}
              disabled={loadingMore || (at >= frames.length - 1 && next === null)}
              aria-label="Older frame"
              data-testid="archive-older"
            >
              ← Older
            </button>
            <span data-testid="archive-time" aria-live="polite">
              <Time ms={frame.timestamp} />{' '}
              <small class="muted">
                ({at + 1} of {frames.length}
                {next !== null && '+'})
              </small>
            </span>
            <button type="button" onClick={newer} disabled={at === 0} aria-label="Newer frame" data-testid="archive-newer">
              Newer →
            </button>
          </div>
          <p class="muted small">Arrow keys ← → step through the frames.</p>
        </>
      )}
    </section>
  );
}

export function Camera(props: { params: Record<string, string> }) {
  const id = props.params.id;
  const { cameras, error } = useCameras();
  const [showRegions, setShowRegions] = useState(true);
  const camera = cameras?.find((c) => c.id === id);
  const low = lowBandwidth.value;
  if (cameras === undefined) return error ? <ProblemNote error={error} /> : <Loading what="camera" />;
  if (!camera) {
    return (
      <>
        <PageHeader title="Camera not found" />
        <p>
          There is no camera "{id}" you may see. <Link href="/">All cameras</Link>
        </p>
      </>
    );
  }
  const hasRegions = camera.zones.length + camera.masks.length > 0;
  return (
    <>
      <PageHeader title={camera.name}>
        {stateBadge(camera)}
        <label class="toggle">
          <input type="checkbox" checked={low} onChange={(e) => setLowBandwidth(e.currentTarget.checked)} data-testid="low-bandwidth" />
          Low bandwidth
        </label>
        {hasRegions && (
          <label class="toggle">
            <input type="checkbox" checked={showRegions} onChange={(e) => setShowRegions(e.currentTarget.checked)} />
            Zones and masks
          </label>
        )}
      </PageHeader>
      <div class="camera-page">
        <section class="panel live-view" aria-label="Live view" data-testid="live-view">
          <div class="overlay-frame">
            <LivePicture camera={camera} active low={low} order={0} fit />
            {showRegions && camera.state !== 'offline' && <Regions camera={camera} />}
          </div>
          <p class="muted">
            {camera.state !== 'online' && camera.lastError ? (
              <span class="reason">Last error: {camera.lastError}</span>
            ) : (
              <>
                Last frame <Time ms={camera.lastFrameAt} relative />
                {camera.fps > 0 && ` · ${camera.fps.toFixed(1)} fps`}
              </>
            )}
            {camera.zones.length > 0 && ` · zones: ${camera.zones.map((z) => z.name).join(', ')}`}
          </p>
        </section>
        <RecentEvents camera={id} />
        <Archive camera={id} />
      </div>
    </>
  );
}
