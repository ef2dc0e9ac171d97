import { PageHeader } from '../ui';

export function Admin(props: { params: Record<string, string> }) {
  return <PageHeader title="Admin">{Object.keys(props.params).length > 0 && <span />}</PageHeader>;
}
