import { useEffect, useRef, useState } from 'preact/hooks';
import type { EventJson } from '../../../core/store/event-json';
import { api, query } from '../api';
import { onLive } from '../live';
import { Link, location, navigate } from '../router';
import { Loading, PageHeader, ProblemNote, Time, useApi } from '../ui';
import './events.css';

/** The kinds Glimpser raises itself (core/store/event.ts); the journal accepts others too. */
const EVENT_TYPES = ['motion', 'tamper', 'capture_failure', 'ai', 'rule', 'alert'];
const FILTERS = ['camera', 'type', 'zone', 'from', 'to'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

interface EventPage {
  events: EventJson[];
  next: string | null;
}

function filtersOf(search: URLSearchParams): Filters {
  return Object.fromEntries(FILTERS.map((name) => [name, search.get(name) ?? ''])) as Filters;
}

/** A `datetime-local` value (the browser's time zone) as milliseconds, or undefined when empty or unreadable. */
function msOf(local: string): number | undefined {
  const ms = local ? new Date(local).getTime() : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/** The API's query for these filters: from/to travel as milliseconds, so the browser's zone is applied here. */
function apiQuery(filters: Filters, cursor?: string): string {
  return query({ camera: filters.camera, type: filters.type, zone: filters.zone, from: msOf(filters.from), to: msOf(filters.to), limit: 30, cursor });
}

/** Whether a live event belongs in the list as filtered (the same rules as the API's). */
function matches(event: EventJson, filters: Filters): boolean {
  const from = msOf(filters.from);
  const to = msOf(filters.to);
  return (
    (!filters.camera || event.camera === filters.camera) &&
    (!filters.type || event.type === filters.type) &&
    (!filters.zone || event.zones.includes(filters.zone)) &&
    (from === undefined || event.startTimeMs >= from) &&
    (to === undefined || event.startTimeMs < to)
  );
}

/** Newest first, as the API lists them: by start, then by id. */
function newerFirst(a: EventJson, b: EventJson): number {
  return b.startTimeMs - a.startTimeMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** The AI caption ai-describe put on the event (data.ai), or why there is none. */
export function captionOf(event: EventJson): { caption: string } | { skipped: string } | null {
  const ai = event.data.ai as { caption?: unknown; reason?: unknown } | undefined;
  if (!ai || typeof ai !== 'object') return null;
  if (typeof ai.caption === 'string') return { caption: ai.caption };
  return typeof ai.reason === 'string' ? { skipped: ai.reason } : null;
}

export function snapshotUrl(event: EventJson): string {
  return `/api/events/${encodeURIComponent(event.id)}/snapshot.jpg`;
}

export function Events() {
  const search = location.value.query;
  const filters = filtersOf(search);
  const key = apiQuery(filters);
  const [events, setEvents] = useState<EventJson[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const busy = useRef(false);
  /** Bumped when the filters change, so a page asked for under the old filters is dropped. */
  const round = useRef(0);
  const sentinel = useRef<HTMLDivElement>(null);
  const cameras = useApi((signal) => api<{ cameras: { id: string; name: string }[] }>('/cameras', { signal }), []);

  const load = async (cursor: string | undefined, signal?: AbortSignal) => {
    const mine = round.current;
    busy.current = true;
    setLoading(true);
    setError(null);
    try {
      const page = await api<EventPage>(`/events${apiQuery(filters, cursor)}`, { signal });
      if (signal?.aborted || mine !== round.current) return;
      setEvents((shown) => {
        const known = new Set(shown.map((e) => e.id));
        return cursor ? [...shown, ...page.events.filter((e) => !known.has(e.id))] : page.events;
      });
      setNext(page.next);
    } catch (err) {
      if (!signal?.aborted && mine === round.current) setError(err);
    } finally {
      if (!signal?.aborted && mine === round.current) {
        busy.current = false;
        setLoading(false);
      }
    }
  };

  useEffect(() => {
    const abort = new AbortController();
    round.current += 1;
    setEvents([]);
    setNext(null);
    void load(undefined, abort.signal);
    return () => abort.abort();
  }, [key]);

  // New events go on top, changed ones are replaced where they are; an event that only now matches (a zone added by
  // an update) is put in its place by time.
  useEffect(
    () =>
      onLive('event', (message) => {
        const event = message.event;
        setEvents((shown) => {
          const at = shown.findIndex((e) => e.id === event.id);
          if (at >= 0) return matches(event, filters) ? shown.map((e, i) => (i === at ? event : e)) : shown.filter((_, i) => i !== at);
          if (!matches(event, filters)) return shown;
          const oldest = shown.at(-1);
          if (next !== null && oldest && newerFirst(event, oldest) > 0) return shown;
          return [...shown, event].sort(newerFirst);
        });
      }),
    [key, next],
  );

  useEffect(() => {
    const target = sentinel.current;
    if (!target || !next) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && !busy.current) void load(next);
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [next, key]);

  const setFilter = (name: keyof Filters, value: string) => {
    const chosen = new URLSearchParams(search);
    if (value) chosen.set(name, value);
    else chosen.delete(name);
    const text = chosen.toString();
    navigate(`/events${text ? `?${text}` : ''}`, true);
  };
  const zones = [...new Set(events.flatMap((e) => e.zones))].sort();

  return (
    <>
      <PageHeader title="Events" />
      <form class="filters" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
        <label>
          Camera
          <select name="camera" value={filters.camera} onChange={(e) => setFilter('camera', e.currentTarget.value)}>
            <option value="">All cameras</option>
            {(cameras.value?.cameras ?? []).map((c) => (
              <option value={c.id}>{c.name || c.id}</option>
            ))}
            {filters.camera && !cameras.value?.cameras.some((c) => c.id === filters.camera) && <option value={filters.camera}>{filters.camera}</option>}
          </select>
        </label>
        <label>
          Type
          <select name="type" value={filters.type} onChange={(e) => setFilter('type', e.currentTarget.value)}>
            <option value="">All types</option>
            {[...new Set([...EVENT_TYPES, ...(filters.type ? [filters.type] : [])])].map((t) => (
              <option value={t}>{t.replace('_', ' ')}</option>
            ))}
          </select>
        </label>
        <label>
          Zone
          <input name="zone" list="event-zones" value={filters.zone} placeholder="any" onChange={(e) => setFilter('zone', e.currentTarget.value.trim())} />
          <datalist id="event-zones">
            {zones.map((z) => (
              <option value={z} />
            ))}
          </datalist>
        </label>
        <label>
          From
          <input type="datetime-local" name="from" value={filters.from} onChange={(e) => setFilter('from', e.currentTarget.value)} />
        </label>
        <label>
          To
          <input type="datetime-local" name="to" value={filters.to} onChange={(e) => setFilter('to', e.currentTarget.value)} />
        </label>
        {FILTERS.some((name) => filters[name]) && (
          <button type="button" class="secondary" onClick={() => navigate('/events', true)}>
            Clear filters
          </button>
        )}
      </form>
      <ProblemNote error={error || cameras.error} />
      <ol class="timeline" data-testid="events" aria-label="Events, newest first">
        {events.map((event) => (
          <EventItem key={event.id} event={event} />
        ))}
      </ol>
      {!loading && !error && events.length === 0 && (
        <p class="muted" data-testid="no-events">
          No events {FILTERS.some((name) => filters[name]) ? 'match these filters' : 'yet'}.
        </p>
      )}
      {loading && <Loading what="events" />}
      {next && (
        <div ref={sentinel} class="more">
          <button type="button" class="secondary" disabled={loading} onClick={() => void load(next)}>
            Load more
          </button>
        </div>
      )}
    </>
  );
}

function EventItem(props: { event: EventJson }) {
  const { event } = props;
  const caption = captionOf(event);
  return (
    <li class="event-item" data-testid="event" data-id={event.id} data-type={event.type} data-start={event.startTimeMs}>
      <Link href={`/events/${encodeURIComponent(event.id)}`} class="event-link">
        {event.hasSnapshot ? (
          <img class="thumb" src={snapshotUrl(event)} loading="lazy" alt={`Snapshot of ${event.type} on ${event.camera}`} width={160} height={90} />
        ) : (
          <span class="thumb none" aria-hidden="true" />
        )}
        <span class="event-text">
          <strong class="event-title">
            {event.type}
            {event.subtype && ` · ${event.subtype}`} on {event.camera}
          </strong>
          {caption && 'caption' in caption && <span class="caption">{caption.caption}</span>}
          <span class="muted event-meta">
            <Time ms={event.startTimeMs} /> → {event.endTimeMs === null ? <span class="badge warn">ongoing</span> : <Time ms={event.endTimeMs} />}
            {' · '}score {Math.round(event.score * 100)}%{event.zones.length > 0 && ` · zones ${event.zones.join(', ')}`}
            {event.kept && <span class="badge good">kept</span>}
          </span>
        </span>
      </Link>
    </li>
  );
}
