import { PageHeader } from '../ui';

export function Cameras(props: { params: Record<string, string> }) {
  return <PageHeader title="Cameras">{Object.keys(props.params).length > 0 && <span />}</PageHeader>;
}
