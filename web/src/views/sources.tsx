import { PageHeader } from '../ui';

export function AddSource(props: { params: Record<string, string> }) {
  return <PageHeader title="AddSource">{Object.keys(props.params).length > 0 && <span />}</PageHeader>;
}
