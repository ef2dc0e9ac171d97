import type { Role } from '../../../../runtime/auth/roles';
import { api } from '../../api';
import { useApi } from '../../ui';

export const ROLES: Role[] = ['viewer', 'operator', 'admin'];

export function RoleSelect(props: { value: Role; onChange: (role: Role) => void; label?: string; name?: string }) {
  return (
    <label>
      {props.label ?? 'Role'}
      <select name={props.name ?? 'role'} value={props.value} onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value as Role)}>
        {ROLES.map((r) => (
          <option value={r}>{r}</option>
        ))}
      </select>
    </label>
  );
}

/** The camera ids of this Glimpser, for the camera lists of users and keys. */
export function useCameraIds(): string[] {
  const { value } = useApi((signal) => api<{ cameras: { id: string; name: string }[] }>('/cameras', { signal }), []);
  return value?.cameras.map((c) => c.id) ?? [];
}

/** "All cameras" or a chosen list: null means every camera, now and later. */
export function CameraPicker(props: { value: string[] | null; onChange: (cameras: string[] | null) => void; cameras: string[]; legend?: string }) {
  const { value, onChange } = props;
  const known = [...new Set([...props.cameras, ...(value ?? [])])];
  return (
    <fieldset class="camera-picker">
      <legend>{props.legend ?? 'Cameras'}</legend>
      <label class="check">
        <input
          type="checkbox"
          name="all-cameras"
          checked={value === null}
          onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked ? null : [])}
        />
        All cameras
      </label>
      {value !== null &&
        known.map((id) => (
          <label class="check">
            <input
              type="checkbox"
              name="camera"
              value={id}
              checked={value.includes(id)}
              onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked ? [...value, id] : value.filter((c) => c !== id))}
            />
            {id}
          </label>
        ))}
      {value !== null && known.length === 0 && <span class="muted">No cameras yet.</span>}
    </fieldset>
  );
}

export function camerasText(cameras: readonly string[] | null): string {
  if (cameras === null) return 'all';
  return cameras.length === 0 ? 'none' : cameras.join(', ');
}
