/**
 * The Grafana component's provisioning: pinned data source uids that the dashboard uses, and a dashboard that
 * queries only metrics the services define and the store keys the counting script writes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { fromRoot } from './paths.ts';

const component = (...parts: string[]) => fromRoot('k8s', 'components', 'grafana', ...parts);

export interface Datasource {
  name: string;
  uid?: string;
  type: string;
  url?: string;
  secureJsonData?: Record<string, string>;
}

export interface Target {
  refId: string;
  datasource?: { type?: string; uid?: string };
  expr?: string;
  command?: string;
  keyName?: string;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

export const readDatasources = (): Datasource[] =>
  (
    parse(readFileSync(component('provisioning', 'datasources', 'tandem.yaml'), 'utf8')) as {
      datasources: Datasource[];
    }
  ).datasources;

export const readDashboards = (): Dashboard[] =>
  readdirSync(component('dashboards'))
    .filter((file) => file.endsWith('.json'))
    .map((file) => JSON.parse(readFileSync(component('dashboards', file), 'utf8')) as Dashboard);

export const readProviderPaths = (): string[] =>
  (
    parse(readFileSync(component('provisioning', 'dashboards', 'tandem.yaml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    }
  ).providers.map((p) => p.options.path);

export const allPanels = (panels: readonly Panel[]): Panel[] =>
  panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

const KEYWORDS = new Set([
  'by',
  'without',
  'ignoring',
  'on',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

/** The metric names a PromQL expression reads (histogram series reduced to their family name). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|ignoring|on|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const token = match[0];
    const rest = stripped.slice((match.index ?? 0) + token.length);
    if (KEYWORDS.has(token) || /^\s*\(/.test(rest)) continue;
    names.add(token.replace(/_(bucket|sum|count)$/, ''));
  }
  return [...names];
}

/** Every metric name the services register with prom-client (`name: '…'` in their sources). */
export function definedMetrics(): Set<string> {
  const names = new Set<string>();
  const roots = ['edge-api/src', 'grpc-ingest/src', 'kafka-consumer/src', 'rabbit-consumer/src'];
  for (const pkg of readdirSync(fromRoot('packages'))) roots.push(`packages/${pkg}/src`);
  for (const root of roots) {
    let files: string[];
    try {
      files = readdirSync(fromRoot(root), { recursive: true, encoding: 'utf8' });
    } catch {
      continue;
    }
    for (const file of files.filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(fromRoot(root, file), 'utf8');
      for (const m of text.matchAll(
        /new (?:Counter|Gauge|Histogram|Summary)\(\{\s*name: '([a-z_:][a-z0-9_:]*)'/g,
      )) {
        names.add(m[1] as string);
      }
    }
  }
  return names;
}

/** The metrics the dashboard must show: the questions of docs/architecture.md (agree, how fast, how far behind). */
export const requiredMetrics = [
  'http_requests_total',
  'http_request_duration_seconds',
  'ingest_messages_total',
  'ingest_publish_seconds',
  'consumer_messages_total',
  'consumer_end_to_end_seconds',
  'consumer_backlog',
  'consumer_batch_size',
];

export function dashboardProblems(
  dashboards = readDashboards(),
  datasources = readDatasources(),
  defined = definedMetrics(),
): string[] {
  const problems: string[] = [];
  const uids = new Map(datasources.map((d) => [d.uid, d.type]));
  for (const d of datasources) if (!d.uid) problems.push(`data source ${d.name} has no pinned uid`);
  if (uids.size !== datasources.length) problems.push('data source uids are not unique');
  const used = new Set<string>();
  const storeQueries = new Map<string, Set<string>>();
  for (const dashboard of dashboards) {
    for (const panel of allPanels(dashboard.panels)) {
      if (panel.type === 'row') continue;
      const where = `${dashboard.uid} panel "${panel.title}"`;
      for (const target of panel.targets ?? []) {
        const ds = target.datasource ?? panel.datasource;
        if (!ds?.uid || !uids.has(ds.uid)) {
          problems.push(`${where}: data source ${ds?.uid} is not provisioned`);
          continue;
        }
        if (uids.get(ds.uid) !== ds.type)
          problems.push(`${where}: data source ${ds.uid} is not of type ${ds.type}`);
        if (ds.type === 'prometheus') {
          for (const metric of metricNames(target.expr ?? '')) {
            used.add(metric);
            if (!defined.has(metric))
              problems.push(`${where}: ${metric} is not a metric the services define`);
          }
        } else if (ds.type === 'redis-datasource') {
          const queries = storeQueries.get(ds.uid) ?? new Set();
          queries.add(`${target.command} ${target.keyName}`);
          storeQueries.set(ds.uid, queries);
        }
      }
    }
  }
  for (const metric of requiredMetrics) if (!used.has(metric)) problems.push(`no panel shows ${metric}`);
  return [...problems, ...storeProblems(storeQueries)];
}

/** Redis and Valkey are queried alike, for messages:total and country:counts (keys of @tandem/counting). */
function storeProblems(queries: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  const redis = [...(queries.get('tandem-redis') ?? [])].sort();
  const valkey = [...(queries.get('tandem-valkey') ?? [])].sort();
  if (JSON.stringify(redis) !== JSON.stringify(valkey)) {
    problems.push(`Redis and Valkey panels differ: ${redis.join(', ')} vs ${valkey.join(', ')}`);
  }
  for (const needed of ['get messages:total', 'hgetall country:counts']) {
    if (!redis.includes(needed)) problems.push(`no Redis panel for ${needed}`);
    if (!valkey.includes(needed)) problems.push(`no Valkey panel for ${needed}`);
  }
  return problems;
}
