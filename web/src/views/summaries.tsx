import { PageHeader } from '../ui';

export function Summaries(props: { params: Record<string, string> }) {
  return <PageHeader title="Summaries">{Object.keys(props.params).length > 0 && <span />}</PageHeader>;
}
