import { useState } from 'preact/hooks';
import type { NotifierListing, NotifierTestResult } from '../../../../runtime/api/notifiers';
import { api } from '../../api';
import { Loading, ProblemNote, Time, useAction, useApi } from '../../ui';

function TestResult(props: { result: NotifierTestResult }) {
  const { result } = props;
  return (
    <p role="status" data-testid="notifier-test-result" class={result.delivered ? '' : 'problem'}>
      {result.delivered
        ? `Test alert delivered to ${result.target}${result.statusCode !== null ? ` (HTTP ${result.statusCode})` : ''}.`
        : `Test alert not delivered to ${result.target}: ${result.error ?? 'no reason given'}${result.permanent ? ' (retrying would not help)' : ''}.`}
    </p>
  );
}

function NotifierRow(props: { notifier: NotifierListing }) {
  const { notifier } = props;
  const { busy, error, run } = useAction();
  const [result, setResult] = useState<NotifierTestResult | null>(null);
  const test = () => {
    setResult(null);
    return run(async () => setResult(await api<NotifierTestResult>(`/notifiers/${encodeURIComponent(notifier.id)}/test`, { method: 'POST', body: {} })));
  };
  const last = notifier.lastResult;
  return (
    <tr data-testid="notifier-row" data-id={notifier.id}>
      <td>
        <strong>{notifier.name}</strong>
        <div class="muted">
          {notifier.type} · {notifier.id}
        </div>
      </td>
      <td data-label="State">
        {notifier.disabled ? (
          <span class="badge warn">disabled</span>
        ) : notifier.configured ? (
          <span class="badge good">ready</span>
        ) : (
          <span class="badge bad">not configured</span>
        )}
      </td>
      <td data-label="Last delivery">
        {last ? (
          <>
            <span class={`badge ${last.outcome === 'delivered' ? 'good' : last.outcome === 'dead' ? 'bad' : 'warn'}`}>{last.outcome}</span>{' '}
            <Time ms={Date.parse(last.at)} relative />
            {last.error && <div class="muted">{last.error}</div>}
          </>
        ) : (
          <span class="muted">none since start</span>
        )}
      </td>
      <td>
        <button
          type="button"
          class="secondary"
          disabled={busy || !notifier.configured}
          title={notifier.configured ? 'Send a test alert to its configured targets' : 'Configure and enable it in the flow editor first'}
          onClick={() => void test()}
        >
          {busy ? 'Sending…' : 'Send test'}
        </button>
        {result && <TestResult result={result} />}
        <ProblemNote error={error} />
      </td>
    </tr>
  );
}

/** The deployed notify-* nodes, each with a test button. */
export function Notifiers() {
  const { value, error, reload } = useApi((signal) => api<{ notifiers: NotifierListing[] }>('/notifiers', { signal }), []);
  return (
    <section aria-label="Notifiers">
      <p class="muted">
        Notifiers are notify-* nodes in the flows; configure them in the <a href="/editor/">flow editor</a>. A test sends one alert with CAP status “Test” to
        the notifier’s configured targets; it is not retried or recorded.
      </p>
      <ProblemNote error={error} />
      {!value && !error && <Loading what="notifiers" />}
      {value && value.notifiers.length === 0 && <p class="muted">No notifier is deployed.</p>}
      {value && value.notifiers.length > 0 && (
        <div class="panel table-scroll" tabIndex={0} role="region" aria-label="Table, scrolls sideways on small screens">
          <table class="stack" data-testid="notifiers">
            <thead>
              <tr>
                <th scope="col">Notifier</th>
                <th scope="col">State</th>
                <th scope="col">Last delivery</th>
                <th scope="col">Test</th>
              </tr>
            </thead>
            <tbody>
              {value.notifiers.map((n) => (
                <NotifierRow key={n.id} notifier={n} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <button type="button" class="secondary" onClick={reload}>
        Refresh
      </button>
    </section>
  );
}
