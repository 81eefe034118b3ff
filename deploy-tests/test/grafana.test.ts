import { keys } from '@tandem/counting';
import { describe, expect, it } from 'vitest';
import { rendered } from '../src/combinations.ts';
import {
  allPanels,
  dashboardProblems,
  metricNames,
  readDashboards,
  readDatasources,
  readProviderPaths,
} from '../src/grafana.ts';
import { find, type Workload } from '../src/manifests.ts';

describe('grafana component', () => {
  const grafana = find<Workload>(rendered('k8s/overlays/observability'), 'Deployment', 'grafana');
  const container = grafana?.spec.template.spec.containers[0];

  it('provisions Prometheus, Redis and Valkey with pinned uids', () => {
    expect(readDatasources().map((d) => [d.uid, d.type])).toEqual([
      ['tandem-prometheus', 'prometheus'],
      ['tandem-redis', 'redis-datasource'],
      ['tandem-valkey', 'redis-datasource'],
    ]);
  });

  it('dashboards use provisioned data sources, real metrics, and the same store queries on both stores', () => {
    expect(dashboardProblems()).toEqual([]);
  });

  it('queries the keys the counting script writes', () => {
    const storeKeys = readDashboards()
      .flatMap((d) => allPanels(d.panels))
      .flatMap((p) => p.targets ?? [])
      .flatMap((t) => (t.keyName ? [t.keyName] : []));
    expect(new Set(storeKeys)).toEqual(new Set([keys.total, keys.countryCounts]));
  });

  it('every variable the data source file refers to is in the Grafana container environment', () => {
    const text = JSON.stringify(readDatasources());
    const wanted = [...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
    const env = new Set(container?.env?.map((e) => e.name));
    expect(wanted.filter((name) => !env.has(name as string))).toEqual([]);
  });

  it('mounts the dashboards where the provider looks, and the provisioning folders', () => {
    const mounts = container?.volumeMounts?.map((m) => m.mountPath) ?? [];
    expect(mounts).toEqual(
      expect.arrayContaining([
        ...readProviderPaths(),
        '/etc/grafana/provisioning/datasources',
        '/etc/grafana/provisioning/dashboards',
      ]),
    );
  });

  it('reads metric names out of PromQL', () => {
    expect(
      metricNames(
        'sum by (route, status) (rate(http_requests_total{route=~"/input"}[$__rate_interval])) / ignoring(status) group_left sum(rate(x_seconds_bucket[5m]))',
      ).sort(),
    ).toEqual(['http_requests_total', 'x_seconds']);
  });
});
