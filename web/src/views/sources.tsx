import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { Link, navigate } from '../router';
import { can } from '../session';
import { Loading, PageHeader, ProblemNote, useApi } from '../ui';
import './sources.css';

/** One field a template asks for (runtime/sources/templates.ts). */
interface TemplateField {
  key: string;
  label: string;
  kind: 'text' | 'url' | 'path' | 'password';
  required: boolean;
  maxLength: number;
  placeholder?: string;
  help?: string;
}

interface Template {
  id: string;
  name: string;
  description: string;
  cameraKind: string;
  fields: TemplateField[];
}

interface AddedSource {
  id: string;
  label: string;
  template: string;
  camera: string | null;
  disabled: boolean;
}

type Values = Record<string, string>;

/** What the last Test showed: a picture (blob: URL of the answer) or why there was none. */
type TestResult = { picture: string } | { error: unknown } | null;

/** POST /api/sources/test answers a JPEG, not JSON: read it as a blob, or its problem as the error. */
async function testSource(template: string, fields: Values): Promise<string> {
  let res: Response;
  try {
    res = await fetch('/api/sources/test', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'image/jpeg, application/problem+json', 'Content-Type': 'application/json' },
      body: JSON.stringify({ template, fields }),
    });
  } catch {
    throw new ApiError(0, { detail: 'Glimpser cannot be reached; check the connection' });
  }
  if (!res.ok) {
    const type = res.headers.get('Content-Type') ?? '';
    throw new ApiError(res.status, type.includes('json') ? ((await res.json()) as ApiError['problem']) : { detail: `HTTP ${res.status}` });
  }
  return URL.createObjectURL(await res.blob());
}

function inputType(field: TemplateField): 'password' | 'url' | 'text' {
  if (field.kind === 'password') return 'password';
  if (field.kind === 'url') return 'url';
  return 'text';
}

/** The browser must not fill a camera's login with the user's own Glimpser password. */
function autocomplete(field: TemplateField): string {
  return field.key === 'password' ? 'new-password' : 'off';
}

function SourceForm(props: { template: Template; onAdded: (source: AddedSource) => void }) {
  const { template } = props;
  const [values, setValues] = useState<Values>({});
  const [busy, setBusy] = useState<'test' | 'add' | null>(null);
  const [result, setResult] = useState<TestResult>(null);
  const [addError, setAddError] = useState<unknown>(null);

  // A new template starts from an empty form; a shown picture's blob is freed when it is replaced.
  useEffect(() => {
    setValues({});
    setResult(null);
    setAddError(null);
  }, [template.id]);
  useEffect(() => () => (result && 'picture' in result ? URL.revokeObjectURL(result.picture) : undefined), [result]);

  const fields = (): Values => Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));

  const runTest = async () => {
    setBusy('test');
    setResult(null);
    try {
      setResult({ picture: await testSource(template.id, fields()) });
    } catch (err) {
      setResult({ error: err });
    } finally {
      setBusy(null);
    }
  };

  const add = async (e: Event) => {
    e.preventDefault();
    setBusy('add');
    setAddError(null);
    try {
      props.onAdded(await api<AddedSource>('/sources', { method: 'POST', body: { template: template.id, fields: fields() } }));
    } catch (err) {
      setAddError(err);
      setBusy(null);
    }
  };

  return (
    <form class="panel source-form" onSubmit={add} data-testid="source-form" aria-busy={busy !== null}>
      <h2>{template.name}</h2>
      <p class="muted">{template.description}</p>
      <div class="source-fields">
        {template.fields.map((field) => (
          <label key={`${template.id}-${field.key}`}>
            {field.label}
            {field.required ? '' : ' (optional)'}
            <input
              name={field.key}
              // Preact types each input type's attributes apart; these three take the same ones.
              type={inputType(field) as 'text'}
              required={field.required}
              maxLength={field.maxLength}
              placeholder={field.placeholder}
              autocomplete={autocomplete(field)}
              spellcheck={false}
              value={values[field.key] ?? ''}
              onInput={(e) => setValues({ ...values, [field.key]: (e.currentTarget as HTMLInputElement).value })}
              data-testid={`field-${field.key}`}
            />
            {field.help && <small class="muted">{field.help}</small>}
          </label>
        ))}
      </div>
      <div class="source-actions">
        {template.cameraKind !== 'edge' && (
          <button type="button" class="secondary" onClick={runTest} disabled={busy !== null} data-testid="test-source">
            {busy === 'test' ? 'Testing…' : 'Test'}
          </button>
        )}
        <button type="submit" disabled={busy !== null} data-testid="add-source">
          {busy === 'add' ? 'Adding…' : 'Add'}
        </button>
      </div>
      <ProblemNote error={addError} />
      {busy === 'test' && <Loading what="one picture from the source" />}
      {result && 'picture' in result && (
        <figure class="source-preview">
          <img src={result.picture} alt={`Live snapshot from ${values.name || template.name}`} data-testid="test-snapshot" />
          <figcaption class="muted">What Glimpser sees now. Nothing is saved until you choose Add.</figcaption>
        </figure>
      )}
      {result && 'error' in result && (
        <div data-testid="test-problem">
          <ProblemNote error={result.error} />
        </div>
      )}
    </form>
  );
}

function AddedSources(props: { sources: AddedSource[] | undefined; error: unknown; onRemove: (source: AddedSource) => Promise<void> }) {
  const [removeError, setRemoveError] = useState<unknown>(null);
  const { sources } = props;
  return (
    <section class="panel" aria-labelledby="added-sources">
      <h2 id="added-sources">Added sources</h2>
      <ProblemNote error={props.error ?? removeError} />
      {sources === undefined && !props.error && <Loading what="sources" />}
      {sources?.length === 0 && <p class="muted">None yet: sources added here show up in this list and as a tab in the flow editor.</p>}
      {sources && sources.length > 0 && (
        <ul class="source-list" data-testid="source-list">
          {sources.map((source) => (
            <li key={source.id} data-testid={`source-${source.id}`}>
              <span>
                {source.camera ? <Link href={`/cameras/${encodeURIComponent(source.camera)}`}>{source.label}</Link> : source.label}{' '}
                <small class="muted">{source.template}</small>
              </span>
              <button
                type="button"
                class="danger"
                aria-label={`Remove ${source.label}`}
                onClick={() => {
                  if (!confirm(`Remove "${source.label}" and its flow tab?`)) return;
                  setRemoveError(null);
                  props.onRemove(source).catch(setRemoveError);
                }}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** /sources/new: add a camera, stream, website or device from a template, test it first, without the editor. */
export function AddSource(_props: { params: Record<string, string> }) {
  const admin = can('admin');
  const templates = useApi((signal) => (admin ? api<Template[]>('/sources/templates', { signal }) : Promise.resolve([])), [admin]);
  const sources = useApi((signal) => (admin ? api<AddedSource[]>('/sources', { signal }) : Promise.resolve([])), [admin]);
  const [chosen, setChosen] = useState<string | null>(null);

  if (!admin) {
    return (
      <>
        <PageHeader title="Add a source" />
        <p class="problem" role="alert">
          Only admins can add sources.
        </p>
      </>
    );
  }
  const list = templates.value;
  const template = list?.find((t) => t.id === chosen) ?? list?.[0];
  return (
    <>
      <PageHeader title="Add a source" />
      <ProblemNote error={templates.error} />
      {!list && !templates.error && <Loading what="templates" />}
      {list && template && (
        <div class="sources-layout">
          <fieldset class="panel source-kinds">
            <legend>Kind of source</legend>
            {list.map((t) => (
              <label key={t.id} class={t.id === template.id ? 'source-kind chosen' : 'source-kind'}>
                <input
                  type="radio"
                  name="template"
                  value={t.id}
                  checked={t.id === template.id}
                  onChange={() => setChosen(t.id)}
                  data-testid={`template-${t.id}`}
                />
                <span>
                  <strong>{t.name}</strong>
                  <small class="muted">{t.description}</small>
                </span>
              </label>
            ))}
          </fieldset>
          <SourceForm template={template} onAdded={(added) => navigate(added.camera ? `/cameras/${encodeURIComponent(added.camera)}` : '/')} />
        </div>
      )}
      <AddedSources
        sources={sources.value}
        error={sources.error}
        onRemove={async (source) => {
          await api(`/sources/${encodeURIComponent(source.id)}`, { method: 'DELETE' });
          sources.reload();
        }}
      />
    </>
  );
}
