import { PageHeader } from '../ui';

export function Camera(props: { params: Record<string, string> }) {
  return <PageHeader title="Camera">{Object.keys(props.params).length > 0 && <span />}</PageHeader>;
}
