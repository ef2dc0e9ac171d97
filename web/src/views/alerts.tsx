import { PageHeader } from '../ui';

export function Alerts(props: { params: Record<string, string> }) {
  return <PageHeader title="Alerts">{Object.keys(props.params).length > 0 && <span />}</PageHeader>;
}
