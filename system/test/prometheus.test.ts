// The local Prometheus scrapes what the Kubernetes one scrapes, the same way: the config `npm start -- --observe`
// runs is made from k8s/components/prometheus/prometheus.yml, and these tests hold it, the pods' scrape annotations
// (k8s/base) and the ServiceMonitors (k8s/components/servicemonitors) to one another.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '@tandem/config';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { plan } from '../src/launcher.ts';
import {
  kubernetesPrometheusConfig,
  localPrometheusConfig,
  metricsPath,
  seconds,
} from '../src/prometheus.ts';
import { services } from '../src/services.ts';

const yamlDocuments = (path: string) =>
  parseAllDocuments(readFileSync(join(projectRoot, path), 'utf8')).map((d) => d.toJS()) as Record<
    string,
    unknown
  >[];

interface Scrape {
  global: Record<string, string>;
  scrape_configs: {
    job_name: string;
    metrics_path?: string;
    relabel_configs?: { source_labels?: string[]; target_label?: string }[];
    static_configs?: { targets: string[]; labels: Record<string, string> }[];
  }[];
}

const k8s = yamlDocuments(kubernetesPrometheusConfig.slice(projectRoot.length))[0] as unknown as Scrape;
const { instances } = plan({ portBase: 18_950 });

describe('the local Prometheus config', () => {
  const config = (
    parseAllDocuments(localPrometheusConfig(instances)).map((d) => d.toJS()) as unknown as Scrape[]
  )[0] as Scrape;

  it("keeps the Kubernetes component's global block and job name", () => {
    expect(config.global).toEqual(k8s.global);
    expect(config.scrape_configs.map((job) => job.job_name)).toEqual(
      k8s.scrape_configs.map((job) => job.job_name),
    );
  });

  it("scrapes every instance on its admin port's /metrics, with the labels the cluster's relabelling gives", () => {
    const [job] = config.scrape_configs;
    expect(job?.metrics_path).toBe(metricsPath);
    expect(job?.static_configs).toEqual(
      instances.map((instance) => ({
        targets: [new URL(instance.adminUrl).host],
        labels: { app: instance.service.name, pod: instance.name, namespace: 'local' },
      })),
    );
    const relabelled = (k8s.scrape_configs[0]?.relabel_configs ?? []).flatMap((r) =>
      r.target_label && !r.target_label.startsWith('__') ? [r.target_label] : [],
    );
    expect(Object.keys(job?.static_configs?.[0]?.labels ?? {}).sort()).toEqual(relabelled.sort());
  });
});

describe('the cluster scrapes the same targets', () => {
  it("annotates each service's pods with its admin port and /metrics", () => {
    for (const service of services) {
      const deployment = yamlDocuments(`k8s/base/${service.name}.yaml`).find(
        (d) => d.kind === 'Deployment',
      ) as {
        spec: { template: { metadata: { annotations: Record<string, string> } } };
      };
      const port = service.ports.find((p) => p.name === service.adminPort)?.default;
      expect(deployment.spec.template.metadata.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(port),
        'prometheus.io/path': metricsPath,
      });
    }
  });

  it("has a ServiceMonitor per service on its admin port's /metrics, at the component's interval", () => {
    const monitors = yamlDocuments('k8s/components/servicemonitors/servicemonitors.yaml') as {
      metadata: { name: string };
      spec: {
        selector: { matchLabels: { app: string } };
        endpoints: { port: string; path: string; interval: string }[];
      };
    }[];
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(services.map((s) => s.name).sort());
    for (const service of services) {
      const monitor = monitors.find((m) => m.metadata.name === service.name);
      expect(monitor?.spec.selector.matchLabels.app).toBe(service.name);
      expect(monitor?.spec.endpoints).toEqual([
        { port: service.adminPort, path: metricsPath, interval: k8s.global.scrape_interval },
      ]);
    }
  });

  it('reads durations as Prometheus writes them', () => {
    expect(seconds(k8s.global.scrape_interval as string)).toBe(15);
    expect(seconds('1m')).toBe(60);
  });
});
