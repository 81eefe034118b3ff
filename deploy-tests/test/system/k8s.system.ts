/**
 * tandem on a real cluster (`npm run test:k8s`): k8s/overlays/no-operator deployed with `k8s/deploy.sh` to the
 * current cluster (the local one unless KUBECONFIG names another; it needs metrics-server and the images of
 * `npm run k8s:images`), then the k6 Job of loadtest/ sends a steady load through the edge's Service while
 *   - the HorizontalPodAutoscaler must take edge-api from 1 replica to 2 or more, on CPU;
 *   - one pod of each consumer is deleted a third of the way in;
 * and afterwards every message k6 saw accepted must be counted exactly once in Redis and in Valkey, read inside the
 * cluster (kubectl exec redis-cli / valkey-cli). Prints a short report: time per phase, edge replicas over time,
 * counts. Removes the deployment at the end (`k8s/undeploy.sh`).
 *
 * K8S_TEST_RATE (messages/s, default 150) and K8S_TEST_DURATION (default 150s) size the load: modest on purpose,
 * so that the test holds on a busy 2-core machine; the edge's CPU request (100m in the overlay) is what makes it
 * cross the HPA's 70 % target.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { fromRoot } from '../../src/paths.ts';

const namespace = 'tandem';
const rate = Number(process.env.K8S_TEST_RATE ?? 150);
const durationSeconds = Number.parseInt(process.env.K8S_TEST_DURATION ?? '150', 10);
const runId = `k8s${Date.now().toString(36)}`;

// ------------------------------------------------------------------------------------------------ kubectl

const localKubeconfig = fromRoot('.tools', 'k8s', 'cluster', 'admin.kubeconfig');
const localKubectl = fromRoot('.tools', 'k8s', 'bin', 'kubectl');
const kubectlBin = process.env.KUBECTL || (existsSync(localKubectl) ? localKubectl : 'kubectl');
const env = {
  ...process.env,
  KUBECONFIG: process.env.KUBECONFIG || (existsSync(localKubeconfig) ? localKubeconfig : ''),
  // k8s/deploy.sh and undeploy.sh call `kubectl`: the same one.
  PATH: kubectlBin.includes('/') ? `${dirname(kubectlBin)}:${process.env.PATH}` : process.env.PATH,
};

function run(command: string, args: readonly string[], input?: string, timeoutMs = 120_000): string {
  const result = spawnSync(command, args, {
    env,
    input,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`,
    );
  }
  return result.stdout;
}
const kubectl = (args: readonly string[], input?: string) =>
  run(kubectlBin, ['-n', namespace, ...args], input);
const tryKubectl = (args: readonly string[]) => {
  try {
    return kubectl(args);
  } catch {
    return '';
  }
};

// ------------------------------------------------------------------------------------------------ the report

const phases: [string, number][] = [];
async function timed<T>(name: string, work: () => T | Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    phases.push([name, (Date.now() - started) / 1000]);
  }
}

interface Sample {
  second: number;
  replicas: number;
  ready: number;
  cpu: string;
}
const samples: Sample[] = [];

interface StoreCounts {
  seen: number;
  total: number;
  countrySum: number;
}

// ------------------------------------------------------------------------------------------------ the stores, read in the cluster

/** Redis (kafka-consumer's store) and Valkey (rabbit-consumer's), each read by its own CLI inside its pod. */
const stores = {
  redis: { pod: 'redis-0', cli: 'redis-cli', password: 'REDIS_PASSWORD' },
  valkey: { pod: 'valkey-0', cli: 'valkey-cli', password: 'VALKEY_PASSWORD' },
} as const;
type StoreName = keyof typeof stores;

function readStore(name: StoreName): StoreCounts {
  const { pod, cli, password } = stores[name];
  // One shell in the pod: the password stays in the pod's environment, never on a command line here. No --count with
  // --scan: Debian's redis-cli 7.0 (the stand-in image) does not take it.
  const script = [
    `c() { ${cli} -a "$${password}" --no-auth-warning "$@"; }`,
    `echo "seen $(c --scan --pattern 'seen:${runId}-*' | wc -l)"`,
    `echo "total $(c get messages:total)"`,
    `echo "countries $(c hvals country:counts | awk '{ s += $1 } END { print s + 0 }')"`,
  ].join('\n');
  const out = kubectl(['exec', pod, '--', 'sh', '-c', script]);
  const value = (key: string) => Number(new RegExp(`^${key} (\\d*)$`, 'm').exec(out)?.[1] || 0);
  return { seen: value('seen'), total: value('total'), countrySum: value('countries') };
}

// ------------------------------------------------------------------------------------------------ the k6 Job

/** loadtest/'s Job, pointed at the edge's Service with the settings of this test. */
function loadJob(): string {
  const docs = parseAllDocuments(run(kubectlBin, ['kustomize', fromRoot('loadtest')])).map((d) => d.toJS());
  const job = docs.find((d) => d.kind === 'Job');
  const container = job.spec.template.spec.containers[0];
  const settings: Record<string, string> = {
    SCENARIO: 'steady',
    BASE_URL: `http://edge-api.${namespace}.svc.cluster.local:8080`,
    HOST_HEADER: '',
    RATE: String(rate),
    DURATION: `${durationSeconds}s`,
    RUN_ID: runId,
    // Every message with an id, so that each one can be found in the stores by the run's prefix.
    NO_ID_SHARE: '0',
    PRE_VUS: '20',
    // The count is the verdict here, not latency on a shared 2-core machine: thresholds loose enough not to fail
    // the Job for a slow second.
    P95_MS: '5000',
    P99_MS: '10000',
    ERROR_RATE: '0.05',
  };
  container.env = [
    ...container.env.filter((e: { name: string }) => !(e.name in settings)),
    ...Object.entries(settings).map(([name, value]) => ({ name, value })),
  ];
  // Room for the rest on two cores.
  container.resources.requests.cpu = '200m';
  return docs.map((d) => stringify(d)).join('---\n');
}

interface K6Result {
  accepted: number;
  unresolved: number;
  log: string;
}

function k6Result(): K6Result {
  const log = tryKubectl(['logs', 'job/loadtest']);
  const line = /ids accepted\s+(\d+) \(\+(\d+) without client id\), unresolved (\d+)/.exec(log);
  if (!line) return { accepted: 0, unresolved: 0, log };
  return { accepted: Number(line[1]) + Number(line[2]), unresolved: Number(line[3]), log };
}

// ------------------------------------------------------------------------------------------------ the run

const deleted: Record<string, string[]> = {};
const before: Partial<Record<StoreName, StoreCounts>> = {};
const after: Partial<Record<StoreName, StoreCounts>> = {};
let k6: K6Result = { accepted: 0, unresolved: 0, log: '' };
let jobStatus = '';

const podNames = (app: string) =>
  tryKubectl(['get', 'pods', '-l', `app=${app}`, '-o', 'jsonpath={.items[*].metadata.name}'])
    .split(' ')
    .filter(Boolean);

function sample(startedAt: number): void {
  const hpa = tryKubectl([
    'get',
    'hpa',
    'edge-api',
    '-o',
    'jsonpath={.status.currentReplicas} {.status.currentMetrics[0].resource.current.averageUtilization}',
  ]).split(' ');
  const ready = tryKubectl(['get', 'deployment', 'edge-api', '-o', 'jsonpath={.status.readyReplicas}']);
  samples.push({
    second: Math.round((Date.now() - startedAt) / 1000),
    replicas: Number(hpa[0] || 0),
    ready: Number(ready || 0),
    cpu: hpa[1] ? `${hpa[1]}%` : '?',
  });
}

async function waitFor(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(3000);
  }
}

function report(): void {
  const lines = [
    '',
    `k8s system test — run ${runId}, k6 steady ${rate}/s for ${durationSeconds}s`,
    '  phases:',
  ];
  for (const [name, seconds] of phases) lines.push(`    ${name.padEnd(44)} ${seconds.toFixed(1)} s`);
  lines.push('  edge-api replicas (HPA current / ready, CPU vs request):');
  for (const s of samples)
    lines.push(`    t=${String(s.second).padStart(4)}s  ${s.replicas} / ${s.ready}  ${s.cpu}`);
  lines.push(`  k6: ${k6.accepted} accepted, ${k6.unresolved} unresolved (Job ${jobStatus || 'not run'})`);
  for (const name of Object.keys(stores) as StoreName[]) {
    const a = after[name];
    const b = before[name];
    if (a && b)
      lines.push(
        `  ${name.padEnd(6)}: ${a.seen} ids of this run, messages:total +${a.total - b.total}, countries +${a.countrySum - b.countrySum}`,
      );
  }
  for (const [app, pods] of Object.entries(deleted))
    lines.push(`  deleted mid-load: ${app} ${pods.join(', ')}`);
  console.log(lines.join('\n'));
}

describe('tandem on Kubernetes: k8s/overlays/no-operator under k6', () => {
  beforeAll(async () => {
    await timed('deploy (k8s/deploy.sh no-operator)', () =>
      run('bash', [fromRoot('k8s', 'deploy.sh'), 'k8s/overlays/no-operator'], undefined, 1_500_000),
    );
    await timed('metrics-server reports the edge', () =>
      waitFor('the HPA to read the edge CPU (metrics-server)', 300_000, () =>
        /^\d+$/.test(
          tryKubectl([
            'get',
            'hpa',
            'edge-api',
            '-o',
            'jsonpath={.status.currentMetrics[0].resource.current.averageUtilization}',
          ]),
        ),
      ),
    );
    // The pods' start-up can use enough CPU for the HPA to add an edge before any load; the load starts from one
    // (a scale-down waits out the HPA's 5-minute stabilisation window).
    await timed('the edge at 1 replica before the load', () =>
      waitFor(
        'edge-api back at 1 replica',
        420_000,
        () =>
          tryKubectl([
            'get',
            'hpa',
            'edge-api',
            '-o',
            'jsonpath={.status.currentReplicas}/{.status.desiredReplicas}',
          ]) === '1/1',
      ),
    );
    before.redis = readStore('redis');
    before.valkey = readStore('valkey');

    await timed(`load: k6 ${rate}/s for ${durationSeconds}s, consumers deleted`, async () => {
      tryKubectl(['delete', 'job', 'loadtest', '--wait=true']);
      kubectl(['apply', '-f', '-'], loadJob());
      const startedAt = Date.now();
      const deleteAt = startedAt + (durationSeconds * 1000) / 3;
      for (;;) {
        sample(startedAt);
        if (Object.keys(deleted).length === 0 && Date.now() >= deleteAt) {
          for (const app of ['kafka-consumer', 'rabbit-consumer']) {
            deleted[app] = podNames(app);
            kubectl(['delete', 'pod', '-l', `app=${app}`, '--wait=false']);
          }
        }
        jobStatus = tryKubectl([
          'get',
          'job',
          'loadtest',
          '-o',
          'jsonpath={.status.succeeded}/{.status.failed}',
        ]);
        if (/^1\/|\/1$/.test(jobStatus)) break;
        if (Date.now() - startedAt > (durationSeconds + 300) * 1000)
          throw new Error('the k6 Job did not finish');
        await sleep(5000);
      }
      jobStatus = jobStatus.startsWith('1/') ? 'succeeded' : 'failed (k6 thresholds or errors: see its log)';
      k6 = k6Result();
    });

    await timed('the pipelines drain into the stores', async () => {
      let last = '';
      let stable = 0;
      await waitFor('both stores to hold every accepted message', 300_000, () => {
        // A failed read (an exec that did not reach the kubelet) is retried on the next round.
        try {
          after.redis = readStore('redis');
          after.valkey = readStore('valkey');
        } catch {
          return false;
        }
        const now = `${after.redis.seen}/${after.valkey.seen}`;
        stable = now === last ? stable + 1 : 0;
        last = now;
        const complete = after.redis.seen >= k6.accepted && after.valkey.seen >= k6.accepted;
        // Complete, and no longer changing (a redelivery after the deletions is counted once, but let it land).
        return complete && stable >= 2;
      });
    });
  });

  afterAll(async () => {
    try {
      if (process.env.K8S_TEST_KEEP !== '1') {
        await timed('undeploy (k8s/undeploy.sh)', () =>
          run('bash', [fromRoot('k8s', 'undeploy.sh')], undefined, 900_000),
        );
      }
    } finally {
      report();
    }
  });

  it('k6 got messages accepted through the edge Service (with the API key)', () => {
    expect(k6.accepted, k6.log.slice(-3000)).toBeGreaterThan(rate * durationSeconds * 0.5);
  });

  it('the HPA scaled edge-api from 1 replica to 2 or more on CPU', () => {
    expect(samples[0]?.replicas).toBe(1);
    expect(Math.max(...samples.map((s) => s.replicas))).toBeGreaterThanOrEqual(2);
  });

  it('a pod of each consumer was deleted mid-load and replaced', () => {
    for (const app of ['kafka-consumer', 'rabbit-consumer']) {
      expect(deleted[app]?.length, app).toBeGreaterThan(0);
      const now = podNames(app);
      expect(now.length, app).toBeGreaterThan(0);
      expect(
        now.filter((pod) => deleted[app]?.includes(pod)),
        app,
      ).toEqual([]);
    }
  });

  it.each(Object.keys(stores) as StoreName[])('%s counted every accepted message exactly once', (name) => {
    const a = after[name] as StoreCounts;
    const b = before[name] as StoreCounts;
    // Each accepted id once; an unresolved one (no 202, maybe published) once or not at all.
    expect(a.seen).toBeGreaterThanOrEqual(k6.accepted);
    expect(a.seen).toBeLessThanOrEqual(k6.accepted + k6.unresolved);
    // The counters moved by exactly the ids recorded: nothing counted twice, nothing counted without its id.
    expect(a.total - b.total).toBe(a.seen);
    expect(a.countrySum - b.countrySum).toBe(a.seen);
  });
});
