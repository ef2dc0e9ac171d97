import { signal } from '@preact/signals';
import type { ComponentChildren } from 'preact';

/** The current location (path and query), updated on navigation and the back button. */
export const location = signal(currentLocation());

function currentLocation(): { path: string; query: URLSearchParams } {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

window.addEventListener('popstate', () => {
  location.value = currentLocation();
});

/** Goes to an app path without reloading; `replace` keeps the history entry (filters, redirects). */
export function navigate(to: string, replace = false): void {
  if (to === window.location.pathname + window.location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  location.value = currentLocation();
  if (!replace) window.scrollTo(0, 0);
}

/** A link inside the app: a real <a href> (so it opens in a new tab too), navigated in place on a plain click. */
export interface LinkProps {
  href: string;
  children: ComponentChildren;
  class?: string;
  title?: string;
  'aria-label'?: string;
  'aria-current'?: 'page' | undefined;
  'data-testid'?: string;
}

export function Link(props: LinkProps) {
  const { href, children, ...rest } = props;
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}

/** Matches a path against a pattern with `:name` segments; the named segments, decoded, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const have = path.replace(/\/+$/, '').split('/');
  // "/" loses its trailing slash above ("" → [""]) while the pattern splits to ["", ""]: compared on its own.
  if (pattern === '/') return have.length === 1 && have[0] === '' ? {} : null;
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) {
      if (!have[i]) return null;
      params[want[i].slice(1)] = decodeURIComponent(have[i]);
    } else if (want[i] !== have[i]) return null;
  }
  return params;
}
