/**
 * `npm run compare [-- --json] [-- --check]`: counts per country, per weather and in total from Redis and Valkey,
 * their differences, how far each consumer is behind (Kafka lag of the consumer group, RabbitMQ queue depth), dead
 * letters, each consumer's end-to-end latency and the services' error counts: one snapshot (src/snapshot.ts, which
 * the live page reads too). A source that does not answer is shown as unknown, with why. `--check` exits 1 when the
 * stores differ or one of them cannot be read.
 */
import { parseArgs } from 'node:util';
import { loadServiceConfig } from '@tandem/config';
import { snapshotSchema } from './config.ts';
import { formatSnapshot } from './format.ts';
import { openSnapshotReader, snapshotSources } from './snapshot.ts';

const config = loadServiceConfig('compare', snapshotSchema);
const { values: flags } = parseArgs({ options: { json: { type: 'boolean' }, check: { type: 'boolean' } } });

// A tool asked once may wait longer for an answer than the live page, which asks every second.
const reader = openSnapshotReader({ ...snapshotSources(config), timeoutMs: 10_000 });
try {
  const snapshot = await reader.read();
  if (flags.json) {
    // The histograms are for the live page's windows; a person or a script wants the percentiles.
    console.log(JSON.stringify(snapshot, (key, value) => (key === 'histogram' ? undefined : value), 2));
  } else {
    console.log(
      formatSnapshot(snapshot, {
        topic: config.KAFKA_TOPIC,
        group: config.KAFKA_GROUP,
        queue: config.RABBITMQ_QUEUE,
      }),
    );
  }
  if (flags.check && (snapshot.comparison === null || snapshot.comparison.differences.length > 0)) {
    process.exitCode = 1;
  }
} finally {
  await reader.close();
}
