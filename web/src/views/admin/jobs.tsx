import { useState } from 'preact/hooks';
import { api, query } from '../../api';
import { can } from '../../session';
import { Loading, ProblemNote, Time, useAction, useApi } from '../../ui';

interface Job {
  id: string;
  kind: string;
  owner: string;
  camera: string | null;
  schedule: { kind: 'cron'; expression: string; timeZone: string } | { kind: 'interval'; everyMs: number };
  status: 'idle' | 'running' | 'paused';
  paused: boolean;
  lastOutcome: 'ok' | 'failed' | null;
  lastRunAtMs: number | null;
  nextRunAtMs: number | null;
}

interface Run {
  id: number;
  trigger: 'schedule' | 'manual' | 'catch-up';
  startedAtMs: number;
  endedAtMs: number | null;
  outcome: 'ok' | 'failed' | 'skipped' | 'missed' | null;
  error: string | null;
  output: string | null;
}

function every(ms: number): string {
  if (ms % 86_400_000 === 0) return `every ${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `every ${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `every ${ms / 60_000} min`;
  return `every ${ms / 1000} s`;
}

function scheduleText(schedule: Job['schedule']): string {
  return schedule.kind === 'cron' ? `${schedule.expression} (${schedule.timeZone})` : every(schedule.everyMs);
}

const OUTCOME_CLASS: Record<string, string> = { ok: 'good', failed: 'bad', skipped: 'warn', missed: 'warn' };

function Outcome(props: { outcome: string | null }) {
  if (props.outcome === null) return <span class="muted">—</span>;
  return <span class={`badge ${OUTCOME_CLASS[props.outcome] ?? ''}`}>{props.outcome}</span>;
}

/** A job's run history, newest first, a page at a time. */
function History(props: { job: string; round: number }) {
  const [pages, setPages] = useState<Run[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const first = useApi(
    (signal) =>
      api<{ runs: Run[]; next: string | null }>(`/jobs/${encodeURIComponent(props.job)}/runs${query({ limit: 10 })}`, { signal }).then((page) => {
        setPages([]);
        setNext(page.next);
        return page.runs;
      }),
    [props.job, props.round],
  );
  const [error, setError] = useState<unknown>(null);
  const older = async () => {
    try {
      const page = await api<{ runs: Run[]; next: string | null }>(`/jobs/${encodeURIComponent(props.job)}/runs${query({ limit: 10, cursor: next })}`);
      setPages([...pages, ...page.runs]);
      setNext(page.next);
    } catch (err) {
      setError(err);
    }
  };
  const runs = [...(first.value ?? []), ...pages];
  return (
    <div class="history" data-testid="job-history">
      <ProblemNote error={first.error ?? error} />
      {!first.value && !first.error && <Loading what="runs" />}
      {first.value && runs.length === 0 && <p class="muted">No runs yet.</p>}
      {runs.length > 0 && (
        <table>
          <caption class="sr-only">Runs of {props.job}</caption>
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Trigger</th>
              <th scope="col">Outcome</th>
              <th scope="col">Took</th>
              <th scope="col">Output or error</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr data-testid="job-run" data-trigger={r.trigger}>
                <td>
                  <Time ms={r.startedAtMs} />
                </td>
                <td>{r.trigger}</td>
                <td>{r.endedAtMs === null && r.outcome === null ? <span class="badge warn">running</span> : <Outcome outcome={r.outcome} />}</td>
                <td>{r.endedAtMs === null ? '—' : `${((r.endedAtMs - r.startedAtMs) / 1000).toFixed(1)} s`}</td>
                <td class="run-output">{r.error ?? r.output ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" class="secondary" onClick={() => void older()}>
          Older runs
        </button>
      )}
    </div>
  );
}

function JobRow(props: { job: Job; onChanged: () => void }) {
  const { job } = props;
  const [open, setOpen] = useState(false);
  const [round, setRound] = useState(0);
  const [note, setNote] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  const operator = can('operator');
  const act = (action: 'run' | 'pause' | 'resume') => {
    setNote(null);
    return run(async () => {
      await api(`/jobs/${encodeURIComponent(job.id)}/${action}`, { method: 'POST' });
      setNote(action === 'run' ? 'Run started.' : action === 'pause' ? 'Paused.' : 'Resumed.');
      setOpen(open || action === 'run');
      setRound((n) => n + 1);
      props.onChanged();
    });
  };
  return (
    <>
      <tr data-testid="job-row" data-id={job.id} data-status={job.status}>
        <td>
          <strong class="job-id">{job.id}</strong>
          <div class="muted">
            {job.kind}
            {job.camera && ` · ${job.camera}`}
          </div>
        </td>
        <td data-label="Schedule">{scheduleText(job.schedule)}</td>
        <td data-label="Status">
          <span class={`badge ${job.status === 'paused' ? 'warn' : job.status === 'running' ? 'good' : ''}`}>{job.status}</span>
        </td>
        <td data-label="Last run">
          <Outcome outcome={job.lastOutcome} /> {job.lastRunAtMs !== null && <Time ms={job.lastRunAtMs} relative />}
        </td>
        <td data-label="Next run">{job.paused ? <span class="muted">paused</span> : <Time ms={job.nextRunAtMs} />}</td>
        <td>
          <div class="actions">
            {operator && (
              <>
                <button type="button" disabled={busy || job.status === 'running'} onClick={() => void act('run')}>
                  Run now
                </button>
                <button type="button" class="secondary" disabled={busy} onClick={() => void act(job.paused ? 'resume' : 'pause')}>
                  {job.paused ? 'Resume' : 'Pause'}
                </button>
              </>
            )}
            <button type="button" class="secondary" aria-expanded={open} onClick={() => setOpen(!open)}>
              History
            </button>
          </div>
          {note && (
            <p class="muted" role="status">
              {note}
            </p>
          )}
          <ProblemNote error={error} />
        </td>
      </tr>
      {open && (
        <tr class="history-row">
          <td colSpan={6}>
            <History job={job.id} round={round} />
          </td>
        </tr>
      )}
    </>
  );
}

/** Every scheduled job: next run, last result, pause state; run now, pause, resume, and each job's run history. */
export function Jobs() {
  const { value, error, reload } = useApi((signal) => api<{ jobs: Job[] }>('/jobs', { signal }), []);
  return (
    <section aria-label="Jobs">
      <ProblemNote error={error} />
      {!value && !error && <Loading what="jobs" />}
      {value && value.jobs.length === 0 && <p class="muted">No jobs are scheduled.</p>}
      {value && value.jobs.length > 0 && (
        <div class="panel table-scroll" tabIndex={0} role="region" aria-label="Table, scrolls sideways on small screens">
          <table class="stack" data-testid="jobs">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Schedule</th>
                <th scope="col">Status</th>
                <th scope="col">Last run</th>
                <th scope="col">Next run</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {value.jobs.map((j) => (
                <JobRow key={j.id} job={j} onChanged={reload} />
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
