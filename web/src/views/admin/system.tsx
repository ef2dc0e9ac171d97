import type { Versions } from '../../../../runtime/version';
import { api, ApiError } from '../../api';
import { Loading, ProblemNote, Time, useApi } from '../../ui';

interface Stats {
  cameras: { camera: string; name: string; state: string; fps: number; restarts: number; lastFrameAt: string | null; lastError: string | null }[];
  nodes: { type: string; messages: number; errors: number }[];
  system: { mqttClients: number; journalBytes: number; archiveBytes: number; startPhases: { phase: string; seconds: number }[] };
}

interface Readiness {
  ready: boolean;
  parts: Record<string, boolean>;
  failing: string[];
}

/** /readyz is outside /api (load balancers read it); it answers 503 with the same report while a part is down. */
async function readiness(signal: AbortSignal): Promise<Readiness> {
  const res = await fetch('/readyz', { signal, headers: { Accept: 'application/json' } });
  if (res.status !== 200 && res.status !== 503) throw new ApiError(res.status, { detail: `/readyz answered HTTP ${res.status}` });
  return (await res.json()) as Readiness;
}

function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

const PART_NAMES: Record<string, string> = { stores: 'Stores', broker: 'MQTT broker', http: 'HTTP server', nodeRed: 'Node-RED flows' };

function Health(props: { ready: Readiness; phases: Stats['system']['startPhases'] | undefined }) {
  const seconds = new Map(props.phases?.map((p) => [p.phase, p.seconds]) ?? []);
  return (
    <div class="panel" data-testid="system-health">
      <h2>
        Health <span class={`badge ${props.ready.ready ? 'good' : 'bad'}`}>{props.ready.ready ? 'ready' : `not ready: ${props.ready.failing.join(', ')}`}</span>
      </h2>
      <ul class="parts">
        {Object.entries(props.ready.parts).map(([part, ok]) => (
          <li>
            <span class={`badge ${ok ? 'good' : 'bad'}`}>{ok ? 'up' : 'down'}</span> {PART_NAMES[part] ?? part}
          </li>
        ))}
      </ul>
      {props.phases && props.phases.length > 0 && (
        <>
          <h3>Start phases (last start)</h3>
          <ul class="parts">
            {[...seconds].map(([phase, s]) => (
              <li>
                {phase}: {s.toFixed(2)} s
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** Versions, health of each start phase, broker clients, disk use, cameras and node message counts. */
export function System() {
  const version = useApi((signal) => api<Versions>('/version', { signal }), []);
  const ready = useApi(readiness, []);
  const stats = useApi((signal) => api<Stats>('/stats', { signal }), []);
  const reload = () => {
    ready.reload();
    stats.reload();
  };
  return (
    <section aria-label="System">
      <div class="grid">
        <div class="panel" data-testid="system-version">
          <h2>Version</h2>
          <ProblemNote error={version.error} />
          {version.value ? (
            <dl class="facts">
              <dt>Glimpser</dt>
              <dd data-testid="version-glimpser">{version.value.glimpser}</dd>
              <dt>Node.js</dt>
              <dd>{version.value.node}</dd>
              <dt>Node-RED</dt>
              <dd>{version.value.nodeRed}</dd>
            </dl>
          ) : (
            !version.error && <Loading />
          )}
        </div>
        <div class="panel" data-testid="system-resources">
          <h2>Broker and disk</h2>
          <ProblemNote error={stats.error} />
          {stats.value ? (
            <dl class="facts">
              <dt>MQTT clients</dt>
              <dd data-testid="mqtt-clients">{stats.value.system.mqttClients}</dd>
              <dt>Event journal</dt>
              <dd>{bytes(stats.value.system.journalBytes)}</dd>
              <dt>Frame archive</dt>
              <dd>{bytes(stats.value.system.archiveBytes)}</dd>
            </dl>
          ) : (
            !stats.error && <Loading />
          )}
        </div>
      </div>
      <ProblemNote error={ready.error} />
      {ready.value && <Health ready={ready.value} phases={stats.value?.system.startPhases} />}
      {stats.value && stats.value.cameras.length > 0 && (
        <div class="panel table-scroll" tabIndex={0} role="region" aria-label="Table, scrolls sideways on small screens">
          <h2>Cameras</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Camera</th>
                <th scope="col">State</th>
                <th scope="col">FPS</th>
                <th scope="col">Restarts</th>
                <th scope="col">Last frame</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {stats.value.cameras.map((c) => (
                <tr>
                  <td>{c.name || c.camera}</td>
                  <td>{c.state}</td>
                  <td>{c.fps.toFixed(1)}</td>
                  <td>{c.restarts}</td>
                  <td>{c.lastFrameAt ? <Time ms={Date.parse(c.lastFrameAt)} relative /> : '—'}</td>
                  <td>{c.lastError ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {stats.value && stats.value.nodes.length > 0 && (
        <div class="panel table-scroll" tabIndex={0} role="region" aria-label="Table, scrolls sideways on small screens">
          <h2>Nodes</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Node type</th>
                <th scope="col">Messages</th>
                <th scope="col">Errors</th>
              </tr>
            </thead>
            <tbody>
              {stats.value.nodes.map((n) => (
                <tr>
                  <td>{n.type}</td>
                  <td>{n.messages}</td>
                  <td>{n.errors}</td>
                </tr>
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
