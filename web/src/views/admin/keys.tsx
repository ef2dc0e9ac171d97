import { useState } from 'preact/hooks';
import type { Role } from '../../../../runtime/auth/roles';
import { api } from '../../api';
import { Loading, ProblemNote, Time, useAction, useApi } from '../../ui';
import { CameraPicker, camerasText, RoleSelect, useCameraIds } from './fields';

interface ApiKey {
  id: string;
  name: string;
  role: Role;
  cameras: string[] | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));

/** The secret of a key just made: shown here once (Glimpser keeps only its hash), with a copy button. */
function NewSecret(props: { name: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.secret);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser did not allow copying: select the secret and copy it by hand.');
    }
  };
  return (
    <div class="panel secret" role="status" data-testid="key-secret-panel">
      <h2>Secret of “{props.name}”</h2>
      <p>Copy it now: it is shown this once and cannot be shown again. Use it as `Authorization: Bearer …` or as the MQTT password.</p>
      <div class="secret-row">
        <code data-testid="key-secret">{props.secret}</code>
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      {copied && <p class="muted">{copied}</p>}
      <button type="button" class="secondary" onClick={props.onDone}>
        Done
      </button>
    </div>
  );
}

function CreateKey(props: { cameras: string[]; onCreated: (name: string, secret: string) => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [cameras, setCameras] = useState<string[] | null>(null);
  const [expires, setExpires] = useState('');
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      // A date input gives a day: the key works to the end of that day, local time.
      const expiresAt = expires ? new Date(`${expires}T23:59:59`).toISOString() : null;
      const created = await api<{ key: ApiKey; secret: string }>('/keys', { method: 'POST', body: { name, role, cameras, expiresAt } });
      setName('');
      setExpires('');
      props.onCreated(created.key.name, created.secret);
    });
  };
  return (
    <form class="panel admin-form" onSubmit={(e) => void submit(e)} data-testid="create-key">
      <h2>New API key</h2>
      <div class="form-row">
        <label>
          Name
          <input name="key-name" required maxLength={64} autoComplete="off" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <RoleSelect value={role} onChange={setRole} name="key-role" />
        <label>
          Expires (optional)
          <input name="key-expires" type="date" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
        </label>
      </div>
      <CameraPicker value={cameras} onChange={setCameras} cameras={props.cameras} />
      <ProblemNote error={error} />
      <button type="submit" disabled={busy}>
        Create key
      </button>
    </form>
  );
}

function KeyRow(props: { apiKey: ApiKey; onRevoked: () => void }) {
  const { apiKey } = props;
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const revoke = async () => {
    setError(null);
    try {
      await api(`/keys/${encodeURIComponent(apiKey.id)}`, { method: 'DELETE' });
      props.onRevoked();
    } catch (err) {
      setError(err);
    }
  };
  const expired = apiKey.expiresAt !== null && Date.parse(apiKey.expiresAt) < Date.now();
  return (
    <tr data-testid="key-row" data-name={apiKey.name}>
      <td>
        <strong>{apiKey.name}</strong>
        <div class="muted">{apiKey.id}</div>
      </td>
      <td data-label="Role">{apiKey.role}</td>
      <td data-label="Cameras">{camerasText(apiKey.cameras)}</td>
      <td data-label="Made by">{apiKey.createdBy}</td>
      <td data-label="Created">
        <Time ms={ms(apiKey.createdAt)} />
      </td>
      <td data-label="Expires">
        {apiKey.expiresAt === null ? 'never' : <Time ms={ms(apiKey.expiresAt)} />}
        {expired && <span class="badge bad">expired</span>}
      </td>
      <td data-label="Last used">{apiKey.lastUsedAt === null ? 'never' : <Time ms={ms(apiKey.lastUsedAt)} relative />}</td>
      <td>
        {confirm ? (
          <div class="actions">
            <button type="button" class="danger" onClick={() => void revoke()}>
              Revoke {apiKey.name}
            </button>
            <button type="button" class="secondary" onClick={() => setConfirm(false)}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="button" class="secondary" onClick={() => setConfirm(true)}>
            Revoke
          </button>
        )}
        <ProblemNote error={error} />
      </td>
    </tr>
  );
}

/** API keys: list, create (the secret shown once), revoke. */
export function Keys() {
  const { value, error, reload } = useApi((signal) => api<{ keys: ApiKey[] }>('/keys', { signal }), []);
  const cameras = useCameraIds();
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  return (
    <section aria-label="API keys">
      {secret && <NewSecret name={secret.name} secret={secret.secret} onDone={() => setSecret(null)} />}
      <ProblemNote error={error} />
      {!value && !error && <Loading what="API keys" />}
      {value && value.keys.length === 0 && <p class="muted">No API keys yet.</p>}
      {value && value.keys.length > 0 && (
        <div class="panel table-scroll" tabIndex={0} role="region" aria-label="Table, scrolls sideways on small screens">
          <table class="stack" data-testid="keys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Cameras</th>
                <th scope="col">Made by</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {value.keys.map((k) => (
                <KeyRow key={k.id} apiKey={k} onRevoked={reload} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <CreateKey
        cameras={cameras}
        onCreated={(name, s) => {
          setSecret({ name, secret: s });
          reload();
          window.scrollTo(0, 0);
        }}
      />
    </section>
  );
}
