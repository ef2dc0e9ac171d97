import { PageHeader } from '../ui';

export function Events(props: { params: Record<string, string> }) {
  return <PageHeader title="Events">{Object.keys(props.params).length > 0 && <span />}</PageHeader>;
}
