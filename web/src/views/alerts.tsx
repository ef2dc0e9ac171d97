import { useEffect, useState } from 'preact/hooks';
import type { Delivery, DeliveryAttempt, DeliveryStatus, StoredAlert } from '../../../core/alerts/index';
import { api, query } from '../api';
import { onLive } from '../live';
import { Link, location, navigate } from '../router';
import { Loading, PageHeader, ProblemNote, Time, useApi } from '../ui';
import './alerts.css';

/** An alert as GET /api/alerts lists it (runtime/api/alerts.ts AlertResponse): no CAP text, times twice. */
export type AlertJson = Omit<StoredAlert, 'capXml' | 'sent'> & { sent: string; sentMs: number; capUrl: string; deliveries?: Record<DeliveryStatus, number> };
/** GET /api/alerts/{id}: the alert with its delivery ledger. */
export interface AlertDetail {
  alert: AlertJson;
  deliveries: Delivery[];
  attempts: DeliveryAttempt[];
}

export function countDeliveries(deliveries: Delivery[]): Record<DeliveryStatus, number> {
  const counts: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, dead: 0 };
  for (const delivery of deliveries) counts[delivery.status] += 1;
  return counts;
}

/** Where an alert's deliveries stand, in the words of the ledger: sent, retrying, dead-lettered. */
export function DeliverySummary(props: { counts?: Record<DeliveryStatus, number> }) {
  const counts = props.counts ?? { pending: 0, delivered: 0, dead: 0 };
  if (counts.pending + counts.delivered + counts.dead === 0)
    return (
      <span class="muted delivery-summary" data-testid="delivery-summary">
        no deliveries
      </span>
    );
  return (
    <span class="delivery-summary" data-testid="delivery-summary">
      <span class="badge good">{counts.delivered} sent</span> <span class={`badge ${counts.pending ? 'warn' : ''}`}>{counts.pending} retrying</span>{' '}
      <span class={`badge ${counts.dead ? 'bad' : ''}`}>{counts.dead} dead-lettered</span>
    </span>
  );
}

const STATUSES: [DeliveryStatus, string][] = [
  ['delivered', 'with a sent delivery'],
  ['pending', 'with a delivery retrying'],
  ['dead', 'with a dead-lettered delivery'],
];

export function Alerts() {
  const search = location.value.query;
  const camera = search.get('camera') ?? '';
  const status = search.get('status') ?? '';
  const [alerts, setAlerts] = useState<AlertJson[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const cameras = useApi((signal) => api<{ cameras: { id: string; name: string }[] }>('/cameras', { signal }), []);

  const load = async (cursor?: string, signal?: AbortSignal) => {
    setLoading(true);
    setError(null);
    try {
      const page = await api<{ alerts: AlertJson[]; next: string | null }>(`/alerts${query({ camera, status, limit: 30, cursor })}`, { signal });
      if (signal?.aborted) return;
      setAlerts((shown) => (cursor ? [...shown, ...page.alerts.filter((a) => !shown.some((s) => s.id === a.id))] : page.alerts));
      setNext(page.next);
    } catch (err) {
      if (!signal?.aborted) setError(err);
    } finally {
      if (!signal?.aborted) setLoading(false);
    }
  };
  useEffect(() => {
    const abort = new AbortController();
    setAlerts([]);
    void load(undefined, abort.signal);
    return () => abort.abort();
  }, [camera, status]);

  // A new alert is fetched and put on top; a delivery's change refreshes its alert's counts in place.
  useEffect(() => {
    const refresh = async (id: string, isNew: boolean) => {
      const detail = await api<AlertDetail>(`/alerts/${id}`);
      const alert = { ...detail.alert, deliveries: countDeliveries(detail.deliveries) };
      if (status && alert.deliveries[status as DeliveryStatus] === 0) return;
      setAlerts((shown) =>
        shown.some((a) => a.id === id) ? shown.map((a) => (a.id === id ? alert : a)) : isNew ? [alert, ...shown].sort((a, b) => b.sentMs - a.sentMs) : shown,
      );
    };
    const wanted = (c: string) => !camera || c === camera;
    const quietly = (work: Promise<void>) => work.catch(() => undefined);
    const stops = [
      onLive('alert', (m) => wanted(m.camera) && void quietly(refresh(m.alertId, true))),
      onLive('delivery', (m) => wanted(m.camera) && void quietly(refresh(m.alertId, false))),
    ];
    return () => stops.forEach((stop) => stop());
  }, [camera, status]);

  const setFilter = (name: string, value: string) => {
    const chosen = new URLSearchParams(search);
    if (value) chosen.set(name, value);
    else chosen.delete(name);
    const text = chosen.toString();
    navigate(`/alerts${text ? `?${text}` : ''}`, true);
  };

  return (
    <>
      <PageHeader title="Alerts" />
      <form class="filters" aria-label="Filter alerts" onSubmit={(e) => e.preventDefault()}>
        <label>
          Camera
          <select name="camera" value={camera} onChange={(e) => setFilter('camera', e.currentTarget.value)}>
            <option value="">All cameras</option>
            {(cameras.value?.cameras ?? []).map((c) => (
              <option value={c.id}>{c.name || c.id}</option>
            ))}
          </select>
        </label>
        <label>
          Deliveries
          <select name="status" value={status} onChange={(e) => setFilter('status', e.currentTarget.value)}>
            <option value="">Any</option>
            {STATUSES.map(([value, label]) => (
              <option value={value}>{label}</option>
            ))}
          </select>
        </label>
      </form>
      <ProblemNote error={error || cameras.error} />
      <ul class="plain alert-list" data-testid="alerts">
        {alerts.map((alert) => (
          <li class="alert-item" data-testid="alert" data-id={alert.id}>
            <Link href={`/alerts/${alert.id}`} class="alert-headline">
              <span class="badge">{alert.msgType}</span> {alert.headline}
            </Link>
            <span class="muted">
              {alert.camera} · <Time ms={alert.sentMs} /> · {alert.severity}
            </span>
            <DeliverySummary counts={alert.deliveries} />
          </li>
        ))}
      </ul>
      {!loading && !error && alerts.length === 0 && <p class="muted">No alerts {camera || status ? 'match these filters' : 'yet'}.</p>}
      {loading && <Loading what="alerts" />}
      {next && !loading && (
        <button type="button" class="secondary" onClick={() => void load(next)}>
          Load more
        </button>
      )}
    </>
  );
}
