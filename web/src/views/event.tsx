import { PageHeader } from '../ui';

export function EventPage(props: { params: Record<string, string> }) {
  return <PageHeader title="EventPage">{Object.keys(props.params).length > 0 && <span />}</PageHeader>;
}
