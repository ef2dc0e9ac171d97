import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Histogram, register } from 'prom-client';
import { jobMetrics, metrics } from '../../core/metrics';

/**
 * The Grafana dashboard and the Prometheus rules name metrics as plain strings; these tests tie those strings to
 * core/metrics.ts so that renaming a metric or a label there fails here instead of leaving an empty panel or an
 * alert that can never fire. promtool (Debian package `prometheus`) is provided by `node scripts/setup.mjs --test`.
 */

const root = join(__dirname, '..', '..');
const prometheusDir = join(root, 'dashboards', 'prometheus');
const alertsFile = join(prometheusDir, 'alerts.yml');
const dashboardFile = join(root, 'dashboards', 'grafana', 'glimpser-overview.json');

/** Labels Prometheus adds to every scraped series, and the histogram bucket label. */
const TARGET_LABELS = new Set(['job', 'instance', 'le', '__name__']);

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** PATH first, then where scripts/setup.mjs extracts promtool without installing the Prometheus server. */
function findPromtool(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), join(root, '.cache', 'tools', 'bin')];
  const found = dirs.map((dir) => join(dir, 'promtool')).find(isExecutable);
  if (!found) throw new Error('promtool not found on PATH or in .cache/tools/bin: run `node scripts/setup.mjs --test`');
  return found;
}

/** Returns exit status and combined output so a failing assertion prints what promtool said. */
function promtool(args: string[], cwd = prometheusDir): { status: number | null; output: string } {
  const result = spawnSync(findPromtool(), args, { cwd, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface DeclaredMetric {
  labels: readonly string[];
}

/** Series names each metric of core/metrics.ts exposes on the default registry, mapped to the metric. */
async function declaredSeries(): Promise<Map<string, DeclaredMetric>> {
  const series = new Map<string, DeclaredMetric>();
  // jobMetrics sit apart from `metrics` (the scheduler imports only them), on the same registry.
  for (const metric of [...Object.values(metrics), ...Object.values(jobMetrics)]) {
    const { name } = await metric.get();
    const registered = register.getSingleMetric(name);
    if (registered !== metric) throw new Error(`${name} is not on prom-client's default registry`);
    // prom-client keeps the configured label names on the instance but leaves them out of its typings.
    const labels = (registered as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    const suffixes = registered instanceof Histogram ? ['_bucket', '_sum', '_count'] : [''];
    for (const suffix of suffixes) series.set(name + suffix, { labels });
  }
  return series;
}

interface Expression {
  where: string;
  expr: string;
}

interface GrafanaPanel {
  type?: string;
  title?: string;
  datasource?: unknown;
  targets?: { expr?: string; refId?: string }[];
  panels?: GrafanaPanel[];
}

interface GrafanaDashboard {
  panels: GrafanaPanel[];
  templating: { list: { name: string; query?: string | { query?: string } }[] };
}

function dashboard(): GrafanaDashboard {
  return JSON.parse(readFileSync(dashboardFile, 'utf8')) as GrafanaDashboard;
}

function panelExpressions(panels: GrafanaPanel[]): Expression[] {
  return panels.flatMap((panel) => [
    ...(panel.targets ?? [])
      .filter((target) => target.expr)
      .map((target) => ({ where: `panel "${panel.title}" ${target.refId}`, expr: target.expr as string })),
    ...panelExpressions(panel.panels ?? []),
  ]);
}

function variableQueries(board: GrafanaDashboard): Expression[] {
  return board.templating.list
    .map((variable) => ({ where: `variable $${variable.name}`, expr: typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '') }))
    .filter(({ expr }) => expr.includes('('));
}

/** The `expr:` of every rule, single-line or a `|` / `>` block scalar (promtool has already checked the YAML). */
function alertExpressions(yaml: string): Expression[] {
  const lines = yaml.split('\n');
  const found: Expression[] = [];
  let alert = '';
  for (let i = 0; i < lines.length; i++) {
    alert = /^\s*- alert:\s*(\S+)/.exec(lines[i])?.[1] ?? alert;
    const match = /^(\s*)expr:\s*(.*)$/.exec(lines[i]);
    if (!match) continue;
    const [, indent, value] = match;
    const body: string[] = [];
    if (/^[|>][-+]?$/.test(value)) {
      while (i + 1 < lines.length && (lines[i + 1].trim() === '' || /^\s*/.exec(lines[i + 1])![0].length > indent.length)) body.push(lines[++i]);
    } else {
      body.push(value);
    }
    found.push({ where: `alert ${alert}`, expr: body.join('\n').trim() });
  }
  return found;
}

function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\bglimpser_[a-zA-Z0-9_]+/g)].map((m) => m[0]);
}

/** Label names an expression relies on: grouping clauses, selector matchers and label_values(…, label). */
function labelNames(expr: string): string[] {
  const grouping = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(','));
  const matchers = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...m[1].matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]));
  const labelValues = [...expr.matchAll(/label_values\(.*,\s*(\w+)\s*\)/g)].map((m) => m[1]);
  return [...grouping, ...matchers, ...labelValues].map((label) => label.trim()).filter((label) => label && !TARGET_LABELS.has(label));
}

/** One line per metric or label that core/metrics.ts does not declare. */
function undeclared(expressions: Expression[], series: Map<string, DeclaredMetric>): string[] {
  return expressions.flatMap(({ where, expr }) => {
    const names = metricNames(expr);
    const unknownNames = names.filter((name) => !series.has(name)).map((name) => `${where}: metric ${name} is not declared in core/metrics.ts`);
    const unknownLabels = names
      .filter((name) => series.has(name))
      .flatMap((name) =>
        labelNames(expr)
          .filter((label) => !series.get(name)!.labels.includes(label))
          .map((label) => `${where}: ${name} has no label "${label}" (declared: ${series.get(name)!.labels.join(', ') || 'none'})`),
      );
    return [...unknownNames, ...unknownLabels];
  });
}

describe('Prometheus rules and config', () => {
  it('promtool check rules accepts alerts.yml', () => {
    expect(promtool(['check', 'rules', alertsFile])).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('alerts fire as alerts.test.yml expects (promtool test rules)', () => {
    expect(promtool(['test', 'rules', 'alerts.test.yml'])).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('promtool check config accepts the example scrape config and the rules it loads', () => {
    expect(promtool(['check', 'config', 'prometheus.yml'])).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('defines the documented alerts', () => {
    const names = alertExpressions(readFileSync(alertsFile, 'utf8')).map(({ where }) => where.replace('alert ', ''));
    expect(names.sort()).toEqual([
      'AlertDeadLettersGrowing',
      'CameraOffline',
      'CaptureRestartStorm',
      'GlimpserDown',
      'GlimpserNotReady',
      'HighAuthFailures',
      'JobKeepsFailing',
      'SignInsBeingLimited',
    ]);
  });
});

describe('Grafana dashboard', () => {
  it('uses the Prometheus datasource variable in every panel', () => {
    const board = dashboard();
    expect(board.templating.list).toContainEqual(expect.objectContaining({ type: 'datasource', name: 'datasource', query: 'prometheus' }));
    const panels = board.panels.filter((panel) => panel.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    const withOtherDatasource = panels.filter((panel) => JSON.stringify(panel.datasource) !== JSON.stringify({ type: 'prometheus', uid: '${datasource}' }));
    expect(withOtherDatasource.map((panel) => panel.title)).toEqual([]);
  });

  it('has only expressions that parse as PromQL (checked by promtool as recording rules)', () => {
    const expressions = panelExpressions(dashboard().panels);
    const rules = expressions.map(({ expr }, i) => ({
      record: `dashboard:expression_${i}`,
      // Grafana fills these in before querying; any valid duration or label value keeps the syntax intact.
      expr: expr.replace(/\$__(?:rate_interval|interval|range)\b/g, '5m').replace(/\$\{?\w+\}?/g, 'x'),
    }));
    const dir = mkdtempSync(join(tmpdir(), 'glimpser-dashboard-'));
    try {
      // JSON is YAML, so the rule file needs no YAML writer.
      writeFileSync(join(dir, 'dashboard.rules.yml'), JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
      expect(promtool(['check', 'rules', 'dashboard.rules.yml'], dir)).toEqual({
        status: 0,
        output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('metric names in dashboards match core/metrics.ts', () => {
  it('declares every glimpser_* metric and label used by a dashboard panel or variable', async () => {
    const board = dashboard();
    const expressions = [...panelExpressions(board.panels), ...variableQueries(board)];
    expect(expressions.filter(({ expr }) => metricNames(expr).length > 0).length).toBeGreaterThan(10);
    expect(undeclared(expressions, await declaredSeries())).toEqual([]);
  });

  it('declares every glimpser_* metric and label used by an alert rule', async () => {
    const expressions = alertExpressions(readFileSync(alertsFile, 'utf8'));
    expect(expressions).toHaveLength(8);
    expect(undeclared(expressions, await declaredSeries())).toEqual([]);
  });

  it('reports a metric that core/metrics.ts does not declare, and a label a metric does not have', async () => {
    const series = await declaredSeries();
    expect(undeclared([{ where: 'probe', expr: 'rate(glimpser_frames_totl[5m])' }], series)).toEqual([
      'probe: metric glimpser_frames_totl is not declared in core/metrics.ts',
    ]);
    expect(undeclared([{ where: 'probe', expr: 'sum by (cam) (glimpser_camera_fps{job="glimpser"})' }], series)).toEqual([
      'probe: glimpser_camera_fps has no label "cam" (declared: camera)',
    ]);
  });
});
