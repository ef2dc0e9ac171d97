import { render, type FunctionComponent } from 'preact';
import { useEffect } from 'preact/hooks';
import { startLive, stopLive } from './live';
import { location, match } from './router';
import { loadSession, me } from './session';
import { Layout, Loading, PageHeader } from './ui';
import { Admin } from './views/admin';
import { AlertPage } from './views/alert';
import { Alerts } from './views/alerts';
import { Camera } from './views/camera';
import { Cameras } from './views/cameras';
import { EventPage } from './views/event';
import { Events } from './views/events';
import { SignIn } from './views/sign-in';
import { AddSource } from './views/sources';
import { Summaries } from './views/summaries';
import './styles.css';

type View = FunctionComponent<{ params: Record<string, string> }>;

/** Every page of the app; the server answers index.html for each of these paths (runtime/web/app-router.ts). */
const ROUTES: [pattern: string, view: View][] = [
  ['/', Cameras],
  ['/cameras/:id', Camera],
  ['/events', Events],
  ['/events/:id', EventPage],
  ['/alerts', Alerts],
  ['/alerts/:id', AlertPage],
  ['/summaries', Summaries],
  ['/admin', Admin],
  ['/admin/:section', Admin],
  ['/sources/new', AddSource],
];

function NotFound() {
  return <PageHeader title="Not found" />;
}

function App() {
  const user = me.value;
  useEffect(() => {
    if (user) startLive();
    else stopLive();
  }, [user]);
  if (user === undefined) return <Loading />;
  if (user === null) return <SignIn />;
  const path = location.value.path;
  for (const [pattern, View] of ROUTES) {
    const params = match(pattern, path);
    if (params) {
      return (
        <Layout>
          <View params={params} />
        </Layout>
      );
    }
  }
  return (
    <Layout>
      <NotFound />
    </Layout>
  );
}

const root = document.getElementById('app')!;
render(<App />, root);
// A failure other than 401 (Glimpser unreachable) shows the sign-in form, whose answer then says why.
loadSession().catch(() => {
  me.value = null;
});
