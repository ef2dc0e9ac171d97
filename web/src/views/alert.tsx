import { PageHeader } from '../ui';

export function AlertPage(props: { params: Record<string, string> }) {
  return <PageHeader title="AlertPage">{Object.keys(props.params).length > 0 && <span />}</PageHeader>;
}
