import { useState } from 'preact/hooks';
import type { Role } from '../../../../runtime/auth/roles';
import { api } from '../../api';
import { me } from '../../session';
import { Loading, ProblemNote, Time, useAction, useApi } from '../../ui';
import { CameraPicker, camerasText, RoleSelect, useCameraIds } from './fields';

interface User {
  username: string;
  role: Role;
  cameras: string[] | null;
  createdAt: string;
  passwordChangedAt: string | null;
}

function CreateUser(props: { cameras: string[]; onCreated: (user: User) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [cameras, setCameras] = useState<string[] | null>(null);
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      const { user } = await api<{ user: User }>('/users', { method: 'POST', body: { username, password, role, cameras } });
      setUsername('');
      setPassword('');
      props.onCreated(user);
    });
  };
  return (
    <form class="panel admin-form" onSubmit={(e) => void submit(e)} data-testid="create-user">
      <h2>New user</h2>
      <div class="form-row">
        <label>
          Username
          <input name="username" required maxLength={64} autoComplete="off" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" required autoComplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <RoleSelect value={role} onChange={setRole} />
      </div>
      <CameraPicker value={cameras} onChange={setCameras} cameras={props.cameras} />
      <ProblemNote error={error} />
      <button type="submit" disabled={busy}>
        Create user
      </button>
    </form>
  );
}

function UserRow(props: { user: User; cameras: string[]; onChanged: () => void }) {
  const { user } = props;
  const [editing, setEditing] = useState<'access' | 'password' | 'delete' | null>(null);
  const [role, setRole] = useState<Role>(user.role);
  const [cameras, setCameras] = useState<string[] | null>(user.cameras);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const self = me.value?.username === user.username;

  const act = async (work: () => Promise<unknown>, done: string) => {
    setError(null);
    try {
      await work();
      setEditing(null);
      setNote(done);
      props.onChanged();
    } catch (err) {
      setError(err);
    }
  };
  const open = (what: typeof editing) => {
    setEditing(editing === what ? null : what);
    setRole(user.role);
    setCameras(user.cameras);
    setPassword('');
    setError(null);
    setNote(null);
  };

  return (
    <tr data-testid="user-row" data-username={user.username}>
      <td>
        <strong>{user.username}</strong>
        {self && <span class="muted"> (you)</span>}
      </td>
      <td data-label="Role">{user.role}</td>
      <td data-label="Cameras">{camerasText(user.cameras)}</td>
      <td data-label="Created">
        <Time ms={Date.parse(user.createdAt)} />
      </td>
      <td class="row-actions">
        <div class="actions">
          <button type="button" class="secondary" aria-expanded={editing === 'access'} onClick={() => open('access')}>
            Role & cameras
          </button>
          <button type="button" class="secondary" aria-expanded={editing === 'password'} onClick={() => open('password')}>
            Reset password
          </button>
          <button type="button" class="secondary" aria-expanded={editing === 'delete'} onClick={() => open('delete')}>
            Delete
          </button>
        </div>
        {editing === 'access' && (
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void act(() => api(`/users/${encodeURIComponent(user.username)}`, { method: 'PATCH', body: { role, cameras } }), 'Role and cameras saved.');
            }}
          >
            <RoleSelect value={role} onChange={setRole} label={`Role of ${user.username}`} />
            <CameraPicker value={cameras} onChange={setCameras} cameras={props.cameras} legend={`Cameras of ${user.username}`} />
            <button type="submit">Save</button>
          </form>
        )}
        {editing === 'password' && (
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void act(
                () => api(`/users/${encodeURIComponent(user.username)}/password`, { method: 'POST', body: { password } }),
                'Password reset; their sessions are signed out.',
              );
            }}
          >
            <label>
              New password for {user.username}
              <input
                type="password"
                name="new-password"
                required
                autoComplete="new-password"
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </label>
            <button type="submit">Reset password</button>
          </form>
        )}
        {editing === 'delete' && (
          <div class="inline-form">
            <p>
              Delete <strong>{user.username}</strong> and the API keys they made?
            </p>
            <button
              type="button"
              class="danger"
              onClick={() => void act(() => api(`/users/${encodeURIComponent(user.username)}`, { method: 'DELETE' }), `Deleted ${user.username}.`)}
            >
              Delete {user.username}
            </button>
          </div>
        )}
        <ProblemNote error={error} />
        {note && (
          <p class="muted" role="status">
            {note}
          </p>
        )}
      </td>
    </tr>
  );
}

/** Users and their roles: create, change role and cameras, reset a password, delete. */
export function Users() {
  const { value, error, reload } = useApi((signal) => api<{ users: User[] }>('/users', { signal }), []);
  const cameras = useCameraIds();
  const [created, setCreated] = useState<string | null>(null);
  return (
    <section aria-label="Users">
      <ProblemNote error={error} />
      {!value && !error && <Loading what="users" />}
      {value && (
        <div class="panel table-scroll" tabIndex={0} role="region" aria-label="Table, scrolls sideways on small screens">
          <table class="stack" data-testid="users">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Cameras</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {value.users.map((u) => (
                <UserRow key={u.username} user={u} cameras={cameras} onChanged={reload} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {created && (
        <p class="muted" role="status" data-testid="user-created">
          User {created} created.
        </p>
      )}
      <CreateUser
        cameras={cameras}
        onCreated={(user) => {
          setCreated(user.username);
          reload();
        }}
      />
    </section>
  );
}
