/**
 * Prometheus on the local run (`npm start -- --observe`, and the dashboards' test): Debian's `prometheus` as a
 * process of its own, with a config and data folder under the git-ignored `.observe/prometheus-<port>/`, scraping
 * the system's instances.
 *
 * Its config is made from the Kubernetes component's (`k8s/components/prometheus/prometheus.yml`): the same
 * `global` block (scrape and evaluation interval) and job name, and the labels that component's relabelling gives
 * every target (`app`, `pod`, `namespace`). Only discovery differs: the cluster finds the pods by their
 * `prometheus.io/*` annotations, here the targets are the launcher's instances, each on its admin port's
 * `/metrics`. system/test/prometheus.test.ts checks that the two agree, and with the ServiceMonitors.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '@tandem/config';
import { parse, stringify } from 'yaml';
import type { Instance } from './launcher.ts';

export const kubernetesPrometheusConfig = join(projectRoot, 'k8s/components/prometheus/prometheus.yml');
export const prometheusBinary = '/usr/bin/prometheus';
/** Every service serves its metrics there, on its admin port (`k8s/base` annotates the pods the same way). */
export const metricsPath = '/metrics';

interface KubernetesConfig {
  global: Record<string, string>;
  scrape_configs: { job_name: string }[];
}

/** Prometheus's port: 9090, or base + 9 in a port block (see `plan`). */
export function prometheusPort(portBase: number | undefined): number {
  return portBase === undefined ? 9090 : portBase + 9;
}

/** The local config for these instances, made from the Kubernetes component's. */
export function localPrometheusConfig(instances: readonly Instance[], namespace = 'local'): string {
  const k8s = parse(readFileSync(kubernetesPrometheusConfig, 'utf8')) as KubernetesConfig;
  const [job] = k8s.scrape_configs;
  if (!job || k8s.scrape_configs.length !== 1)
    throw new Error(`${kubernetesPrometheusConfig}: expected one job`);
  const config = {
    global: k8s.global,
    scrape_configs: [
      {
        job_name: job.job_name,
        metrics_path: metricsPath,
        static_configs: instances.map((instance) => ({
          targets: [new URL(instance.adminUrl).host],
          // What the cluster's relabelling gives a pod: its app label, its name, its namespace.
          labels: { app: instance.service.name, pod: instance.name, namespace },
        })),
      },
    ],
  };
  return `# Made by system/src/prometheus.ts from ${kubernetesPrometheusConfig.slice(projectRoot.length)}; do not edit.\n${stringify(config)}`;
}

export interface LocalPrometheus {
  url: string;
  /** The scrape interval in seconds (the Kubernetes component's). */
  scrapeIntervalSeconds: number;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  instances: readonly Instance[];
  port: number;
  /** Default `.observe/prometheus-<port>` under the project. */
  dir?: string;
  /** Start from an empty database (a test's); otherwise what earlier runs scraped is kept (two days). */
  fresh?: boolean;
  /** Each line Prometheus prints (it logs to stderr). */
  onLine?: (line: string) => void;
}

/** Starts Prometheus and resolves once it answers /-/ready. */
export async function startPrometheus(options: PrometheusOptions): Promise<LocalPrometheus> {
  const dir = options.dir ?? join(projectRoot, '.observe', `prometheus-${options.port}`);
  if (options.fresh) rmSync(join(dir, 'data'), { recursive: true, force: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  const configFile = join(dir, 'prometheus.yml');
  const config = localPrometheusConfig(options.instances);
  writeFileSync(configFile, config);
  const address = `127.0.0.1:${options.port}`;
  const child: ChildProcess = spawn(
    prometheusBinary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--storage.tsdb.retention.time=2d',
      `--web.listen-address=${address}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        lines.push(line);
        if (lines.length > 50) lines.shift();
        options.onLine?.(line);
      }
    });
  }
  // Whatever ends this process (a second Ctrl-C, a failed test) must not leave Prometheus holding its port.
  const killLeftover = () => child.kill('SIGKILL');
  process.once('exit', killLeftover);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.removeListener('exit', killLeftover);
      resolve();
    }),
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`cannot run ${prometheusBinary}: ${error.message}`)));
    void exited.then(() => reject(new Error(`prometheus exited:\n${lines.join('\n')}`)));
  });
  failed.catch(() => {});
  const url = `http://${address}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await Promise.race([
      fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then(
        (response) => response.ok,
        () => false,
      ),
      failed,
    ]);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within 30 s at ${url}:\n${lines.join('\n')}`);
    }
    await sleep(200);
  }
  const interval = (parse(config) as KubernetesConfig).global.scrape_interval ?? '1m';
  return { url, scrapeIntervalSeconds: seconds(interval), stop };
}

/** A Prometheus duration of one unit (`15s`, `1m`) in seconds. */
export function seconds(duration: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(duration);
  if (!match) throw new Error(`cannot read the duration ${duration}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}
