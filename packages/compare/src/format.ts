/** `npm run compare`'s text: the comparison table, then each pipeline's backlog, consumers and errors. */
import { formatComparison, number } from './compare.ts';
import { pipelineInfo, type Reading, type Snapshot } from './snapshot.ts';

const ms = (value: number) => `${number.format(value)} ms`;
const listed = (record: Record<string, number>) =>
  Object.keys(record).length === 0
    ? 'none yet'
    : Object.entries(record)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, value]) => `${key} ${number.format(value)}`)
        .join(', ');

/** What a reading says, or that it could not be read (never a zero for a source that did not answer). */
function said<T>(reading: Reading<T>, show: (value: T) => string, otherwise = 'unknown'): string {
  return reading.ok ? show(reading.value) : `${otherwise} (${reading.error})`;
}

/** A snapshot as `npm run compare` prints it: the comparison table, then each pipeline's backlog and health. */
export function formatSnapshot(
  snapshot: Snapshot,
  names: { topic: string; group: string; queue: string },
): string {
  const kafka = snapshot.pipelines['kafka-redis'];
  const rabbitmq = snapshot.pipelines['rabbitmq-valkey'];
  const messages = (n: number, what: string) => `${number.format(n)} messages ${what}`;
  const backlog = {
    kafka: said(kafka.backlog, (n) => messages(n, `(lag of group ${names.group} on topic ${names.topic})`)),
    rabbitmq: said(rabbitmq.backlog, (n) => messages(n, `(in queue ${names.queue})`)),
  };
  const lines: string[] = [];
  if (snapshot.comparison) {
    lines.push(formatComparison(snapshot.comparison, backlog));
  } else {
    for (const info of pipelineInfo) {
      const store = snapshot.pipelines[info.id].store;
      lines.push(
        `${info.store.padEnd(8)} ${said(store, (c) => `${number.format(c.total)} messages counted`)}`,
      );
      if (!store.ok) lines[lines.length - 1] = `${info.store.padEnd(8)} down (${store.error})`;
    }
    lines.push('', 'the stores cannot be compared while one is down', '', 'not yet counted');
    lines.push(`  Kafka → Redis      ${backlog.kafka}`, `  RabbitMQ → Valkey  ${backlog.rabbitmq}`);
  }
  lines.push('', 'consumers (since each started)');
  for (const info of pipelineInfo) {
    const { consumer, deadLetters } = snapshot.pipelines[info.id];
    const health = said(
      consumer,
      ({ messages: m, latency }) => {
        const latencyText = latency.count
          ? `end-to-end p50 ${ms(latency.p50)}, p99 ${ms(latency.p99)}, max ${ms(latency.max)}`
          : 'no latency yet';
        return `${listed(m)}; ${latencyText}`;
      },
      'not answering',
    );
    lines.push(`  ${info.label.padEnd(18)} ${health}`);
    lines.push(`  ${''.padEnd(18)} dead letters: ${said(deadLetters, (n) => number.format(n))}`);
  }
  lines.push('', 'errors (since each service started)');
  lines.push(
    `  edge answers       ${said(snapshot.edge, ({ answers }) => listed(answers), 'not answering')}`,
  );
  lines.push(
    `  ingest messages    ${said(snapshot.ingest, ({ messages: m }) => listed(m), 'not answering')}`,
  );
  return lines.join('\n');
}
