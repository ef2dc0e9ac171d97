import { useEffect, useState } from 'preact/hooks';
import type { Delivery, DeliveryAttempt } from '../../../core/alerts/index';
import { api } from '../api';
import { onLive } from '../live';
import { Link } from '../router';
import { can } from '../session';
import { Loading, PageHeader, ProblemNote, Time, useApi } from '../ui';
import { countDeliveries, DeliverySummary, type AlertDetail } from './alerts';
import './alerts.css';

interface Suspension {
  camera: string;
  suspended: boolean;
  untilMs: number | null;
}

const STATE: Record<Delivery['status'], [label: string, badge: string]> = {
  delivered: ['sent', 'good'],
  pending: ['retrying', 'warn'],
  dead: ['dead-lettered', 'bad'],
};

const OUTCOME: Record<DeliveryAttempt['outcome'], string> = {
  delivered: 'sent',
  retry: 'failed, will retry',
  dead: 'failed, dead-lettered',
};

export function AlertPage(props: { params: Record<string, string> }) {
  const id = props.params.id;
  const detail = useApi((signal) => api<AlertDetail>(`/alerts/${encodeURIComponent(id)}`, { signal }), [id]);
  const cap = useApi((signal) => api<string>(`/alerts/${encodeURIComponent(id)}/cap.xml`, { signal }), [id]);
  const [acting, setActing] = useState<unknown>(null);
  const [retrying, setRetrying] = useState(false);

  useEffect(() => onLive('delivery', (m) => m.alertId === id && detail.reload()), [id]);

  if (detail.error) return <ProblemNote error={detail.error} />;
  if (!detail.value) return <Loading what="the alert" />;
  const { alert, deliveries, attempts } = detail.value;
  const dead = deliveries.filter((d) => d.status === 'dead').length;

  const retry = async () => {
    setActing(null);
    setRetrying(true);
    try {
      await api(`/alerts/${alert.id}/retry`, { method: 'POST' });
      detail.reload();
    } catch (err) {
      setActing(err);
    } finally {
      setRetrying(false);
    }
  };
  const channels = [...new Set(deliveries.map((d) => d.channel))];

  return (
    <>
      <PageHeader title={alert.headline}>
        {can('operator') && dead > 0 && (
          <button type="button" data-testid="retry" disabled={retrying} onClick={() => void retry()}>
            Retry {dead} dead-lettered
          </button>
        )}
      </PageHeader>
      <ProblemNote error={acting} />
      <section class="panel alert-facts">
        <p>
          <span class="badge">{alert.msgType}</span> {alert.severity} · camera {alert.camera} · sent <Time ms={alert.sentMs} />
          {alert.eventId && (
            <>
              {' · '}
              <Link href={`/events/${alert.eventId}`}>the event</Link>
            </>
          )}
        </p>
        {alert.description && <p>{alert.description}</p>}
        <DeliverySummary counts={countDeliveries(deliveries)} />
        <Suspend camera={alert.camera} />
      </section>
      <section class="panel">
        <h2>Deliveries</h2>
        {deliveries.length === 0 && (
          <p class="muted" data-testid="no-deliveries">
            No deliveries: no notifier was enabled for this alert, or the camera's notifications were suspended when it was raised.
          </p>
        )}
        {channels.map((channel) => (
          <div class="channel">
            <h3>{channel}</h3>
            {deliveries
              .filter((d) => d.channel === channel)
              .map((d) => (
                <DeliveryRow delivery={d} attempts={attempts.filter((a) => a.deliveryId === d.id)} />
              ))}
          </div>
        ))}
      </section>
      <section class="panel">
        <h2>CAP 1.2 document</h2>
        <ProblemNote error={cap.error} />
        {cap.value === undefined ? (
          <Loading what="the CAP document" />
        ) : (
          <pre data-testid="cap-xml" tabIndex={0} aria-label="CAP XML document">
            {cap.value}
          </pre>
        )}
      </section>
    </>
  );
}

function DeliveryRow(props: { delivery: Delivery; attempts: DeliveryAttempt[] }) {
  const { delivery: d, attempts } = props;
  const [label, badge] = STATE[d.status];
  return (
    <div class="delivery" data-testid="delivery" data-state={d.status}>
      <p>
        <strong>{d.target}</strong> <span class={`badge ${badge}`}>{label}</span>{' '}
        <span class="muted">{attempts.length === 1 ? '1 attempt' : `${attempts.length} attempts`}</span>
        {d.status === 'pending' && (
          <span class="muted">
            {' '}
            · next try <Time ms={d.nextAttemptAt} />
          </span>
        )}
        {d.deliveredAt !== null && (
          <span class="muted">
            {' '}
            · sent <Time ms={d.deliveredAt} />
          </span>
        )}
      </p>
      {d.status === 'dead' && <p class="problem">Dead-lettered: {d.lastError ?? 'no reason recorded'}</p>}
      {attempts.length > 0 && (
        <div class="table-scroll" tabIndex={0} role="region" aria-label="Attempts, scroll sideways on small screens">
          <table class="attempts">
            <caption class="sr-only">Attempts to {d.target}</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Duration</th>
                <th scope="col">Outcome</th>
                <th scope="col">Status</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {attempts.map((a) => (
                <tr>
                  <td data-label="Time">
                    <Time ms={a.at} />
                  </td>
                  <td data-label="Duration">{a.durationMs} ms</td>
                  <td data-label="Outcome">{OUTCOME[a.outcome]}</td>
                  <td data-label="Status">{a.statusCode ?? '—'}</td>
                  <td data-label="Error">{a.error ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** Whether the camera's notifications are suspended, with suspend/resume for operators. */
function Suspend(props: { camera: string }) {
  const path = `/cameras/${encodeURIComponent(props.camera)}/notifications/suspend`;
  const state = useApi((signal) => api<Suspension>(path, { signal }), [path]);
  const [minutes, setMinutes] = useState('60');
  const [error, setError] = useState<unknown>(null);
  const change = async (method: 'POST' | 'DELETE') => {
    setError(null);
    try {
      await api<Suspension>(path, method === 'POST' ? { method, body: { minutes: Number(minutes) } } : { method });
      state.reload();
    } catch (err) {
      setError(err);
    }
  };
  const s = state.value;
  return (
    <div class="suspend" data-testid="suspend">
      <p>
        Notifications for {props.camera}:{' '}
        {s === undefined ? (
          '…'
        ) : s.suspended && s.untilMs !== null ? (
          <span class="badge warn">suspended until {new Date(s.untilMs).toLocaleString()}</span>
        ) : (
          'on'
        )}
      </p>
      {can('operator') && s && (
        <form class="filters" onSubmit={(e) => (e.preventDefault(), void change('POST'))}>
          {s.suspended ? (
            <button type="button" class="secondary" onClick={() => void change('DELETE')}>
              Resume notifications
            </button>
          ) : (
            <>
              <label>
                Suspend for
                <select value={minutes} onChange={(e) => setMinutes(e.currentTarget.value)}>
                  <option value="15">15 minutes</option>
                  <option value="60">1 hour</option>
                  <option value="240">4 hours</option>
                  <option value="1440">1 day</option>
                </select>
              </label>
              <button type="submit">Suspend notifications</button>
            </>
          )}
        </form>
      )}
      <ProblemNote error={error || state.error} />
    </div>
  );
}
