import { useEffect, useState } from 'preact/hooks';
import type { EventJson } from '../../../core/store/event-json';
import { api, query } from '../api';
import { onLive } from '../live';
import { Link } from '../router';
import { can } from '../session';
import { Loading, PageHeader, ProblemNote, Time, useApi } from '../ui';
import { DeliverySummary, type AlertDetail, type AlertJson } from './alerts';
import { captionOf, snapshotUrl } from './events';
import './events.css';

/** The rule gate's decision as the alert's CAP document records it (core/alerts/build.ts: glimpser:rule, glimpser:reason). */
function decisionOf(capXml: string): { rule: string; reason: string } | null {
  const doc = new DOMParser().parseFromString(capXml, 'application/xml');
  const values: Record<string, string> = {};
  for (const parameter of Array.from(doc.getElementsByTagNameNS('*', 'parameter'))) {
    const name = parameter.getElementsByTagNameNS('*', 'valueName')[0]?.textContent ?? '';
    values[name] = parameter.getElementsByTagNameNS('*', 'value')[0]?.textContent ?? '';
  }
  return values['glimpser:rule'] === undefined ? null : { rule: values['glimpser:rule'], reason: values['glimpser:reason'] ?? '' };
}

export function EventPage(props: { params: Record<string, string> }) {
  const id = props.params.id;
  const loaded = useApi((signal) => api<{ event: EventJson }>(`/events/${encodeURIComponent(id)}`, { signal }), [id]);
  const [event, setEvent] = useState<EventJson | undefined>(undefined);
  const alerts = useApi(
    async (signal) => {
      const { alerts: list } = await api<{ alerts: AlertJson[] }>(`/alerts${query({ event: id })}`, { signal });
      // The first alert (msgType Alert) carries the gate's decision; the later Updates and Cancel repeat it.
      const first = list.at(-1);
      const capXml = first ? await api<string>(`/alerts/${first.id}/cap.xml`, { signal }) : null;
      const details = await Promise.all(list.slice(0, 10).map((a) => api<AlertDetail>(`/alerts/${a.id}`, { signal })));
      return { list, details, decision: capXml === null ? null : decisionOf(capXml) };
    },
    [id],
  );
  const [keeping, setKeeping] = useState<unknown>(null);

  useEffect(() => setEvent(loaded.value?.event), [loaded.value]);
  useEffect(() => {
    const stops = [
      onLive('event', (m) => m.event.id === id && setEvent(m.event)),
      onLive('alert', (m) => m.eventId === id && alerts.reload()),
      onLive('delivery', (m) => alerts.value?.list.some((a) => a.id === m.alertId) && alerts.reload()),
    ];
    return () => stops.forEach((stop) => stop());
  }, [id, alerts.value]);

  if (loaded.error) return <ProblemNote error={loaded.error} />;
  if (!event) return <Loading what="the event" />;

  const keep = async () => {
    setKeeping(null);
    try {
      setEvent((await api<{ event: EventJson }>(`/events/${encodeURIComponent(id)}/keep`, { method: 'POST', body: { keep: !event.kept } })).event);
    } catch (err) {
      setKeeping(err);
    }
  };
  const caption = captionOf(event);
  const ai = event.data.ai as { description?: unknown; tags?: unknown; severity?: unknown } | undefined;

  return (
    <>
      <PageHeader title={`${event.type} on ${event.camera}`}>
        {event.kept && <span class="badge good">kept</span>}
        {can('operator') && (
          <button type="button" class={event.kept ? 'secondary' : ''} aria-pressed={event.kept} data-testid="keep" onClick={() => void keep()}>
            {event.kept ? 'Release (let retention delete it)' : 'Keep from retention'}
          </button>
        )}
      </PageHeader>
      <ProblemNote error={keeping} />
      <div class="event-detail">
        <section class="panel">
          <h2>Snapshot</h2>
          {event.hasSnapshot ? (
            <figure class="snapshot">
              <img src={snapshotUrl(event)} alt={`Best snapshot of ${event.type} on ${event.camera}`} data-testid="snapshot" />
              {event.boxes.length > 0 && (
                <svg
                  class="boxes"
                  viewBox="0 0 1 1"
                  preserveAspectRatio="none"
                  role="img"
                  aria-label={`${event.boxes.length} motion box(es)`}
                  data-testid="boxes"
                >
                  {event.boxes.map((box) => (
                    <rect x={box.x} y={box.y} width={box.width} height={box.height} />
                  ))}
                </svg>
              )}
            </figure>
          ) : (
            <p class="muted">This event has no snapshot.</p>
          )}
        </section>
        <section class="panel">
          <h2>What happened</h2>
          <dl class="facts">
            <dt>Camera</dt>
            <dd>
              <Link href={`/cameras/${encodeURIComponent(event.camera)}`}>{event.camera}</Link>
            </dd>
            <dt>Type</dt>
            <dd>
              {event.type}
              {event.subtype && ` · ${event.subtype}`}
            </dd>
            <dt>Start</dt>
            <dd>
              <Time ms={event.startTimeMs} />
            </dd>
            <dt>End</dt>
            <dd>{event.endTimeMs === null ? <span class="badge warn">ongoing</span> : <Time ms={event.endTimeMs} />}</dd>
            <dt>Score</dt>
            <dd>{Math.round(event.score * 100)}%</dd>
            <dt>Zones</dt>
            <dd>{event.zones.length ? event.zones.join(', ') : '—'}</dd>
            <dt>AI description</dt>
            <dd data-testid="ai">
              {caption === null && <span class="muted">None (the AI node was not asked, or is not configured)</span>}
              {caption && 'skipped' in caption && <span class="muted">None: {caption.skipped}</span>}
              {caption && 'caption' in caption && (
                <>
                  <strong>{caption.caption}</strong>
                  {typeof ai?.description === 'string' && ai.description !== caption.caption && <p>{ai.description}</p>}
                  {typeof ai?.severity === 'string' && <span class="badge">{ai.severity}</span>}
                </>
              )}
            </dd>
            <dt>Rule decision</dt>
            <dd data-testid="decision">
              {alerts.value?.decision ? (
                <>
                  passed by <strong>{alerts.value.decision.rule}</strong>
                  {alerts.value.decision.reason && `: ${alerts.value.decision.reason}`}
                </>
              ) : (
                <span class="muted">{alerts.value ? 'Not recorded (no alert was raised for this event)' : '…'}</span>
              )}
            </dd>
          </dl>
        </section>
      </div>
      <section class="panel">
        <h2>Alerts</h2>
        <ProblemNote error={alerts.error} />
        {!alerts.value && !alerts.error && <Loading what="alerts" />}
        {alerts.value?.list.length === 0 && <p class="muted">No alert was raised for this event.</p>}
        <ul class="plain" data-testid="event-alerts">
          {alerts.value?.list.map((alert) => (
            <li class="event-alert">
              <Link href={`/alerts/${alert.id}`} data-testid="alert-link">
                <span class="badge">{alert.msgType}</span> {alert.headline}
              </Link>{' '}
              <span class="muted">
                <Time ms={alert.sentMs} />
              </span>
              <DeliverySummary counts={alert.deliveries} />
              <ul class="plain deliveries">
                {alerts.value?.details
                  .find((d) => d.alert.id === alert.id)
                  ?.deliveries.map((d) => (
                    <li>
                      {d.channel} → {d.target}:{' '}
                      {d.status === 'delivered' ? 'sent' : d.status === 'dead' ? `dead-lettered (${d.lastError ?? 'no reason'})` : 'retrying'}
                    </li>
                  ))}
              </ul>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
