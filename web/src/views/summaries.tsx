import { useState } from 'preact/hooks';
import type { SummaryResponse } from '../../../runtime/api/summaries';
import { api, query } from '../api';
import { Link } from '../router';
import { Loading, PageHeader, ProblemNote, Time, useApi } from '../ui';
import './summaries.css';

interface Brief {
  camera: string;
  brief: string;
  severity: string;
}

interface Page {
  summaries: SummaryResponse[];
  next: string | null;
}

const PAGE_SIZE = 20;

function severityClass(severity: string): string {
  const s = severity.toLowerCase();
  if (s === 'extreme' || s === 'severe' || s === 'high') return 'bad';
  if (s === 'moderate' || s === 'medium') return 'warn';
  return 'good';
}

function briefsOf(summary: SummaryResponse): Brief[] {
  return summary.sources.filter(
    (s): s is Brief => typeof s === 'object' && s !== null && typeof (s as Brief).camera === 'string' && typeof (s as Brief).brief === 'string',
  );
}

function SummaryCard(props: { summary: SummaryResponse }) {
  const { summary } = props;
  const briefs = briefsOf(summary);
  return (
    <article class="panel summary" data-testid="summary" data-id={summary.id}>
      <header class="summary-head">
        <h2>
          <Time ms={summary.startTimeMs} />
          {summary.endTimeMs !== null && (
            <>
              {' – '}
              <Time ms={summary.endTimeMs} />
            </>
          )}
        </h2>
        <span class="muted">
          {briefs.length > 0 ? briefs.map((b) => b.camera).join(', ') : summary.source} · {summary.items} {summary.items === 1 ? 'item' : 'items'}
          {summary.model && ` · ${summary.model}`}
        </span>
      </header>
      <p class="summary-text">{summary.summary || <span class="muted">(no text)</span>}</p>
      {briefs.length > 0 && (
        <ul class="briefs">
          {briefs.map((b) => (
            <li>
              <Link href={`/cameras/${encodeURIComponent(b.camera)}`}>{b.camera}</Link> <span class={`badge ${severityClass(b.severity)}`}>{b.severity}</span>{' '}
              {b.brief}
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}

/** The ai-summary node's operator briefs, newest first, a page at a time. */
export function Summaries(_props: { params: Record<string, string> }) {
  const first = useApi((signal) => api<Page>(`/summaries${query({ limit: PAGE_SIZE })}`, { signal }), []);
  const [more, setMore] = useState<{ summaries: SummaryResponse[]; next: string | null } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);

  const shown = [...(first.value?.summaries ?? []), ...(more?.summaries ?? [])];
  const next = more ? more.next : (first.value?.next ?? null);

  const loadMore = async () => {
    if (!next) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await api<Page>(`/summaries${query({ limit: PAGE_SIZE, cursor: next })}`);
      setMore({ summaries: [...(more?.summaries ?? []), ...page.summaries], next: page.next });
    } catch (err) {
      setMoreError(err);
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <>
      <PageHeader title="Summaries">
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setMore(null);
            first.reload();
          }}
        >
          Refresh
        </button>
      </PageHeader>
      <ProblemNote error={first.error} />
      {!first.value && !first.error && <Loading what="summaries" />}
      {first.value && shown.length === 0 && (
        <p class="muted" data-testid="summaries-empty">
          No summaries yet. The ai-summary node writes one brief per period (hourly in the default flow) once an AI provider is configured.
        </p>
      )}
      <div class="summaries" data-testid="summaries">
        {shown.map((s) => (
          <SummaryCard key={s.id} summary={s} />
        ))}
      </div>
      <ProblemNote error={moreError} />
      {next && (
        <button type="button" class="secondary" disabled={loadingMore} onClick={() => void loadMore()} data-testid="summaries-more">
          {loadingMore ? 'Loading…' : 'Older summaries'}
        </button>
      )}
    </>
  );
}
