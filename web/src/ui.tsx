import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';
import { liveState } from './live';
import { PushToggle } from './push';
import { Link, location } from './router';
import { can, me, signOut } from './session';

const NAV: { href: string; label: string; role?: 'admin' }[] = [
  { href: '/', label: 'Cameras' },
  { href: '/events', label: 'Events' },
  { href: '/alerts', label: 'Alerts' },
  { href: '/summaries', label: 'Summaries' },
  { href: '/admin', label: 'Admin', role: 'admin' },
];

function active(href: string): boolean {
  const path = location.value.path;
  return href === '/' ? path === '/' || path.startsWith('/cameras') : path.startsWith(href);
}

/** The frame of every signed-in page: header with the navigation, the live indicator and the user. */
export function Layout(props: { children: ComponentChildren }) {
  const user = me.value;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand" aria-label="Glimpser home">
          <img src="/icon.svg" alt="" width={28} height={28} />
          <span>Glimpser</span>
        </Link>
        <nav aria-label="Main">
          {NAV.filter((item) => !item.role || can(item.role)).map((item) => (
            <Link href={item.href} aria-current={active(item.href) ? 'page' : undefined}>
              {item.label}
            </Link>
          ))}
        </nav>
        <span class={`live live-${liveState.value}`} title={`Live updates: ${liveState.value}`} data-live={liveState.value}>
          <span class="dot" aria-hidden="true" />
          <span class="sr-only">Live updates {liveState.value}</span>
        </span>
        {user && (
          <span class="who">
            <span data-testid="user">
              {user.username} <small>({user.role})</small>
            </span>
            <PushToggle />
            <button type="button" class="link" onClick={() => void signOut()}>
              Sign out
            </button>
          </span>
        )}
      </header>
      <main id="main">{props.children}</main>
    </>
  );
}

/** A page heading with optional actions on the right. */
export function PageHeader(props: { title: string; children?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · Glimpser`;
  }, [props.title]);
  return (
    <div class="page-header">
      <h1>{props.title}</h1>
      {props.children && <div class="actions">{props.children}</div>}
    </div>
  );
}

/** An error from the API in words, with its field when the answer named one. */
export function ProblemNote(props: { error: unknown }) {
  const { error } = props;
  if (!error) return null;
  const text = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  const fields = error instanceof ApiError ? (error.problem.errors ?? []) : [];
  return (
    <p class="problem" role="alert">
      {text}
      {fields.length > 1 && (
        <ul>
          {fields.map((f) => (
            <li>
              {f.field}: {f.detail}
            </li>
          ))}
        </ul>
      )}
    </p>
  );
}

export function Loading(props: { what?: string }) {
  return (
    <p class="loading" role="status">
      Loading{props.what ? ` ${props.what}` : ''}…
    </p>
  );
}

/** A time as people read it, with the exact ISO time on hover; updates "x min ago" once a minute. */
export function Time(props: { ms: number | null; relative?: boolean }) {
  const [, tick] = useState(0);
  useEffect(() => {
    if (!props.relative) return;
    const timer = setInterval(() => tick((n) => n + 1), 60000);
    return () => clearInterval(timer);
  }, [props.relative]);
  if (props.ms === null) return <span>—</span>;
  const date = new Date(props.ms);
  const text = props.relative ? ago(props.ms) : date.toLocaleString();
  return (
    <time dateTime={date.toISOString()} title={date.toLocaleString()}>
      {text}
    </time>
  );
}

export function ago(ms: number): string {
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

/**
 * A form's or button's call to the API: `run` clears the last error, marks it busy until the call settles, and keeps
 * what it threw for ProblemNote. Written once so every form disables itself and shows its error the same way.
 */
export function useAction(): { busy: boolean; error: unknown; run: (action: () => Promise<void>) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/** Loads something from the API for a view: its value, the error, and a reload. Re-runs when `deps` change. */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): { value: T | undefined; error: unknown; reload: () => void } {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    load(abort.signal).then(
      (v) => !abort.signal.aborted && setValue(v),
      (err: unknown) => !abort.signal.aborted && setError(err),
    );
    return () => abort.abort();
  }, [...deps, round]);
  return { value, error, reload: () => setRound((n) => n + 1) };
}
