/**
 * How every Node service runs, wherever it runs: defined here once. The launcher (npm start, the bench, the soak,
 * the e2e and fault suites) gives these to each service it starts; the Dockerfile's `ENV` lines say the same for the
 * image and so for Kubernetes (deploy-tests fails when they differ). Measured in docs/memory.md.
 *
 * Without them a service held 250–400 MB RSS at a few hundred messages a second, though its live heap was 30–90 MB:
 * V8 sizes its heap from the machine's memory (here a 4 GB limit), so the young generation grew to 64–128 MB and old
 * space ran far ahead of the live data before a full collection; glibc gave each thread a malloc arena of its own;
 * and the type stripper (swc compiled to WebAssembly) stayed in memory after it had stripped the sources.
 */
import { join } from 'node:path';
import { projectRoot } from '@tandem/config';

/**
 * Node's options for every service (NODE_OPTIONS; Node splits it on spaces, so no value may hold one).
 * - `--max-semi-space-size=4`: the young generation stays at 8 MB instead of growing to 64–128 MB. A scavenge
 *   costs what survives it, not the space's size, and a request's objects die within milliseconds: more frequent
 *   scavenges cost little. 4 rather than 8 since @platformatic/kafka became the default Kafka client (its ajv
 *   schemas and protocol tables add ~17 MB): at 2,000 msg/s each service then peaked 11–24 MB lower (107–134 MB
 *   against 116–156), for a few µs more CPU per message, within the run-to-run spread (docs/memory.md).
 * - `--max-old-space-size=128`: V8 derives when to start a full collection from this limit, so old space stays near
 *   the live data (30–90 MB here) rather than growing toward a limit sized for the machine. It is also below the
 *   Kubernetes memory limit (256 Mi), so a heap that really grew would fail as a heap error, not an OOM kill.
 * - `--disable-warning=TimeoutNegativeWarning`: kafkajs 2.2.4 schedules a negative timeout on every response under
 *   Node >= 24 (tulios/kafkajs#1751): harmless, and it would flood the log.
 */
export const nodeOptions: readonly string[] = [
  '--disable-warning=TimeoutNegativeWarning',
  '--max-semi-space-size=4',
  '--max-old-space-size=128',
];

/**
 * The environment besides NODE_OPTIONS. MALLOC_ARENA_MAX: glibc gives each thread that allocates (libuv's pool,
 * V8's workers) an arena of its own, each holding freed memory; two are enough for one event loop.
 */
export const runtimeEnv: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * Where Node keeps its compile cache locally (NODE_COMPILE_CACHE, git-ignored under .tools/). Node 24 keeps the
 * type-stripped source of each .ts file there beside V8's code cache, so a service whose sources did not change
 * never loads the type stripper: 15–25 MB less RSS, and a faster start. A changed file is stripped again and
 * cached (keyed by content). The image warms its own cache at build (Dockerfile).
 */
export const compileCacheDir = join(projectRoot, '.tools', 'node-compile-cache');

/**
 * The variables a service process gets for these settings, given the environment it would otherwise get: a value
 * already set there wins, as for every variable; NODE_OPTIONS keeps what it holds (e.g. the bootstrap's) after
 * `nodeOptions`, so that an option given there wins too (Node takes the last of a repeated option), and an option it
 * holds already is not repeated.
 */
export function serviceRuntime(
  environment: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const given = (name: string, fallback: string) => environment[name] ?? fallback;
  const inherited = (environment.NODE_OPTIONS ?? '').split(' ').filter((option) => option !== '');
  return {
    ...Object.fromEntries(Object.entries(runtimeEnv).map(([name, value]) => [name, given(name, value)])),
    NODE_COMPILE_CACHE: given('NODE_COMPILE_CACHE', compileCacheDir),
    // One already there (the bootstrap's warning switch) is not written twice.
    NODE_OPTIONS: [...nodeOptions.filter((option) => !inherited.includes(option)), ...inherited].join(' '),
  };
}
