import type { FunctionComponent } from 'preact';
import { Link } from '../router';
import { can } from '../session';
import { PageHeader } from '../ui';
import { Jobs } from './admin/jobs';
import { Keys } from './admin/keys';
import { Notifiers } from './admin/notifiers';
import { System } from './admin/system';
import { Users } from './admin/users';
import './admin.css';

const SECTIONS: { id: string; label: string; view: FunctionComponent }[] = [
  { id: 'users', label: 'Users & roles', view: Users },
  { id: 'keys', label: 'API keys', view: Keys },
  { id: 'notifiers', label: 'Notifiers', view: Notifiers },
  { id: 'jobs', label: 'Jobs', view: Jobs },
  { id: 'system', label: 'System', view: System },
];

/**
 * The admin pages (/admin/<section>). A non-admin gets a refusal and no admin API is called for them: the sections
 * are not even mounted (the API refuses them anyway).
 */
export function Admin(props: { params: Record<string, string> }) {
  if (!can('admin')) {
    return (
      <>
        <PageHeader title="Admin" />
        <div class="panel" data-testid="admin-refused" role="alert">
          <h2>This page needs the admin role</h2>
          <p>Users, API keys, notifiers, jobs and system status are for admins. Ask an admin of this Glimpser to change your role if you need them.</p>
          <Link href="/">Back to the cameras</Link>
        </div>
      </>
    );
  }
  const current = SECTIONS.find((s) => s.id === props.params.section) ?? (props.params.section ? null : SECTIONS[0]);
  return (
    <>
      <PageHeader title={current ? `Admin: ${current.label}` : 'Admin'} />
      <nav class="admin-tabs" aria-label="Admin sections">
        {SECTIONS.map((s) => (
          <Link href={`/admin/${s.id}`} aria-current={s === current ? 'page' : undefined} data-testid={`admin-tab-${s.id}`}>
            {s.label}
          </Link>
        ))}
      </nav>
      {current ? <current.view /> : <p class="problem">No admin section "{props.params.section}".</p>}
    </>
  );
}
