/**
 * Installs what the local stack runs on: Debian packages (RabbitMQ, Redis, Valkey from bookworm-backports, and
 * the JDK and Maven if missing) and the Kafka jars from Maven Central. Each step is skipped when already done.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '@tandem/config';
import { toolsDir } from './paths.ts';
import { run, StackError } from './processes.ts';

export type Progress = (message: string) => void;

export interface DebianPackage {
  name: string;
  /** A file the package installs: present ⇒ installed. */
  provides: string;
  /** Install from this suite (e.g. backports) instead of the default. */
  fromBackports?: boolean;
}

export const debianPackages: readonly DebianPackage[] = [
  { name: 'rabbitmq-server', provides: '/usr/lib/rabbitmq/bin/rabbitmq-server' },
  { name: 'redis-server', provides: '/usr/bin/redis-server' },
  { name: 'valkey-server', provides: '/usr/bin/valkey-server', fromBackports: true },
  { name: 'openjdk-17-jre-headless', provides: '/usr/bin/java' },
  { name: 'maven', provides: '/usr/bin/mvn' },
];

/**
 * Not the stack's, but installed the same way when something asks for them: Prometheus for `npm start -- --observe`
 * and the dashboards' test, Chromium for the live page's browser test (both run as processes of their own, never as
 * system services).
 */
export const toolPackages = {
  prometheus: { name: 'prometheus', provides: '/usr/bin/prometheus' },
  chromium: { name: 'chromium', provides: '/usr/bin/chromium' },
} as const satisfies Record<string, DebianPackage>;

const policyRcD = '/usr/sbin/policy-rc.d';
const backportsSource = '/etc/apt/sources.list.d/tandem-backports.sources';

export async function ensureDebianPackages(
  progress: Progress,
  packages: readonly DebianPackage[] = debianPackages,
): Promise<void> {
  const missing = packages.filter((pkg) => !existsSync(pkg.provides) && !onPath(pkg.provides));
  if (missing.length === 0) return;
  const names = missing.map((pkg) => pkg.name).join(' ');
  if (process.getuid?.() !== 0) {
    throw new StackError(
      `missing Debian packages: ${names}. Run as root, or install them: sudo apt-get install ${names}`,
    );
  }
  const codename = osCodename();
  if (missing.some((pkg) => pkg.fromBackports)) ensureBackportsSource(codename, progress);
  progress(`apt-get update`);
  await run('apt-get', ['update', '-qq'], { maxBuffer: 64 << 20 });
  progress(`installing ${names}`);
  // The packages would start system-wide services on the stack's own ports; policy-rc.d (exit 101) forbids that.
  const ownPolicy = !existsSync(policyRcD);
  if (ownPolicy) writeFileSync(policyRcD, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const specs = missing.map((pkg) => (pkg.fromBackports ? `${pkg.name}/${codename}-backports` : pkg.name));
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...specs], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      maxBuffer: 64 << 20,
    });
  } finally {
    if (ownPolicy) rmSync(policyRcD, { force: true });
  }
}

function onPath(file: string): boolean {
  const name = file.split('/').pop() ?? file;
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, name)));
}

function osCodename(): string {
  const release = readFileSync('/etc/os-release', 'utf8');
  const codename = /^VERSION_CODENAME=(\w+)/m.exec(release)?.[1];
  if (!codename) throw new StackError('cannot tell the Debian release from /etc/os-release');
  return codename;
}

/**
 * Adds `<codename>-backports` through the mirror apt already uses for `<codename>`, read from the existing sources
 * (deb822 `.sources` files or one-line `sources.list`), so no host name is ever written by this project.
 */
function ensureBackportsSource(codename: string, progress: Progress): void {
  const files = [
    '/etc/apt/sources.list',
    ...listDir('/etc/apt/sources.list.d').map((f) => `/etc/apt/sources.list.d/${f}`),
  ]
    .filter((file) => /\.(list|sources)$/.test(file) && existsSync(file))
    .map((file) => readFileSync(file, 'utf8'));
  const text = files.join('\n');
  if (new RegExp(`\\b${codename}-backports\\b`).test(text)) return;
  const mirror = findMirror(text, codename);
  if (!mirror)
    throw new StackError(`no apt source for Debian ${codename} to add ${codename}-backports through`);
  progress(`adding ${codename}-backports from the mirror apt already uses`);
  writeFileSync(
    backportsSource,
    `# Added by tandem's local stack (stack/src/install.ts) for valkey-server.\nTypes: deb\nURIs: ${mirror.uri}\nSuites: ${codename}-backports\nComponents: main\n${mirror.signedBy ? `Signed-By: ${mirror.signedBy}\n` : ''}`,
  );
}

/** The URI (and keyring) of the source whose suite is exactly `codename`. Exported for tests. */
export function findMirror(
  sources: string,
  codename: string,
): { uri: string; signedBy?: string } | undefined {
  for (const stanza of sources.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim();
    const suites = field('Suites')?.split(/\s+/) ?? [];
    const uri = field('URIs')?.split(/\s+/)[0];
    if (uri && suites.includes(codename)) {
      const signedBy = field('Signed-By');
      return signedBy ? { uri, signedBy } : { uri };
    }
  }
  for (const line of sources.split('\n')) {
    const match = /^\s*deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s/.exec(line);
    if (match?.[2] && match[3] === codename) {
      const signedBy = /signed-by=(\S+)/.exec(match[1] ?? '')?.[1];
      return signedBy ? { uri: match[2], signedBy } : { uri: match[2] };
    }
  }
  return undefined;
}

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

const kafkaPom = join(projectRoot, 'stack/kafka/pom.xml');

export function kafkaVersion(): string {
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(kafkaPom, 'utf8'))?.[1];
  if (!version) throw new StackError(`no <kafka.version> in ${kafkaPom}`);
  return version;
}

/** The folder of Kafka's jars for the pinned version (see `ensureKafkaJars`). */
export function kafkaJarsDir(): string {
  return join(toolsDir, `kafka-${kafkaVersion()}`, 'lib');
}

/** The folder of Kafka's jars for the pinned version, fetched with Maven into `.tools/` on first use. */
export async function ensureKafkaJars(progress: Progress): Promise<string> {
  const version = kafkaVersion();
  const lib = kafkaJarsDir();
  if (existsSync(join(lib, `kafka_2.13-${version}.jar`))) return lib;
  progress(`fetching Kafka ${version} jars from Maven Central`);
  const partial = `${lib}.partial`;
  rmSync(partial, { recursive: true, force: true });
  try {
    await run(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        kafkaPom,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${partial}`,
        '-DincludeScope=runtime',
      ],
      { maxBuffer: 64 << 20 },
    );
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? '';
    throw new StackError(`Maven could not fetch the Kafka jars:\n${output.slice(-2000)}`);
  }
  renameSync(partial, lib);
  return lib;
}
