/**
 * The one reading of both pipelines' ends, for `npm run compare` and the live page alike: each store's counters,
 * each broker's backlog (Kafka lag of the consumer group, RabbitMQ queue depth) and dead letters, each consumer's
 * metrics and end-to-end latency (`GET /latency`), and the edge's and the ingest's outcomes. Nothing else: no second
 * source of truth.
 *
 * Every source is read the same way and on its own: one that fails or does not answer within `timeoutMs` is a
 * `{ ok: false, error }` reading (a store that is down is down, never zero), and does not hold up the others. A read
 * of a source still in flight is joined rather than started again, so a slow source never piles up calls.
 */
import { openKafkaBacklogReader, openRabbitBacklogReader } from '@tandem/brokers';
import { type KafkaConnection, kafkaConnection } from '@tandem/config';
import { type ClientCountingStore, type Counts, openRedisStore, openValkeyStore } from '@tandem/counting';
import { type Comparison, compareCounts } from './compare.ts';
import type { SnapshotConfig } from './config.ts';
import { sumBy } from './metrics-text.ts';

export type PipelineId = 'kafka-redis' | 'rabbitmq-valkey';

export interface PipelineInfo {
  id: PipelineId;
  label: string;
  broker: 'Kafka' | 'RabbitMQ';
  store: 'Redis' | 'Valkey';
  consumer: 'kafka-consumer' | 'rabbit-consumer';
  /** What its backlog is, in words. */
  backlog: string;
}

export const pipelineInfo: readonly PipelineInfo[] = [
  {
    id: 'kafka-redis',
    label: 'Kafka → Redis',
    broker: 'Kafka',
    store: 'Redis',
    consumer: 'kafka-consumer',
    backlog: 'lag of the consumer group',
  },
  {
    id: 'rabbitmq-valkey',
    label: 'RabbitMQ → Valkey',
    broker: 'RabbitMQ',
    store: 'Valkey',
    consumer: 'rabbit-consumer',
    backlog: 'messages ready in the queue',
  },
];

/** What one source answered, or why it did not. */
export type Reading<T> = { ok: true; value: T } | { ok: false; error: string };

/** A consumer's `GET /latency`: its end-to-end latency (ms) since it started or was last reset. */
export interface LatencyReading {
  from: number;
  to: number;
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** The whole HdrHistogram (compressed base64), so that a window can be cut out of two readings. */
  histogram: string;
}

export interface ConsumerReading {
  /** `consumer_messages_total` by outcome (counted, duplicate, poison) since the consumer started. */
  messages: Record<string, number>;
  latency: LatencyReading;
}

export interface PipelineReading {
  /** The store's counters. */
  store: Reading<Counts>;
  /** Seen from the broker: Kafka lag of the consumer group, or the messages ready in the RabbitMQ queue. */
  backlog: Reading<number>;
  /** Messages in the dead-letter topic / queue (0 while it does not exist). */
  deadLetters: Reading<number>;
  consumer: Reading<ConsumerReading>;
}

export interface Snapshot {
  /** When it was taken (Unix ms). */
  at: number;
  pipelines: Record<PipelineId, PipelineReading>;
  /** The stores side by side; null unless both answered. */
  comparison: Comparison | null;
  /** The edge's answers to POST /input and /input/batch by status, since it started. */
  edge: Reading<{ answers: Record<string, number> }>;
  /** `ingest_messages_total` by outcome (accepted, invalid, rejected, failed), since it started. */
  ingest: Reading<{ messages: Record<string, number> }>;
}

export interface SnapshotSources {
  redisUrl: string;
  valkeyUrl: string;
  /** Where Kafka is and how to log in (`kafkaConnection`), the topic and group, and the dead-letter topic. */
  kafka: KafkaConnection & { topic: string; groupId: string; deadLetterTopic: string };
  rabbitmq: { url: string; queue: string; deadLetterQueue: string };
  /** Base URLs (`http://host:port`) of the services' metrics ports. */
  metrics: { edge: string; ingest: string; kafkaConsumer: string; rabbitConsumer: string };
  /** A source that has not answered by then reads as not answering. Default 2000 ms. */
  timeoutMs?: number;
  /** How long a read waits for a source before its last answer stands in (see `guarded`). Default `timeoutMs`. */
  waitMs?: number;
  /** Dead letters change rarely: read them at most this often (ms), the last reading in between. Default 0. */
  deadLettersEveryMs?: number;
}

export function snapshotSources(config: SnapshotConfig): SnapshotSources {
  return {
    redisUrl: config.REDIS_URL,
    valkeyUrl: config.VALKEY_URL,
    kafka: {
      ...kafkaConnection(config),
      topic: config.KAFKA_TOPIC,
      groupId: config.KAFKA_GROUP,
      deadLetterTopic: config.KAFKA_DLQ_TOPIC ?? `${config.KAFKA_TOPIC}.dlq`,
    },
    rabbitmq: {
      url: config.RABBITMQ_URL,
      queue: config.RABBITMQ_QUEUE,
      deadLetterQueue: config.RABBITMQ_DLQ_QUEUE ?? `${config.RABBITMQ_QUEUE}.dlq`,
    },
    metrics: {
      edge: config.EDGE_URL,
      ingest: config.INGEST_METRICS_URL,
      kafkaConsumer: config.KAFKA_CONSUMER_METRICS_URL,
      rabbitConsumer: config.RABBIT_CONSUMER_METRICS_URL,
    },
  };
}

export interface SnapshotReader {
  read(): Promise<Snapshot>;
  /** Disconnects from the stores and the brokers. Reads still in flight end on their own (each is bounded). */
  close(): Promise<void>;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error)) || 'failed';

/**
 * A read that answers a Reading, joining a call still in flight instead of starting another. A call that has not
 * answered within `timeoutMs` reads as not answering. Past `waitMs` (less, for a page that must move every second),
 * a call still within its bound is stood in for by the last answer: a slow source is not shown as down.
 */
export function guarded<T>(
  read: () => Promise<T>,
  timeoutMs: number,
  waitMs = timeoutMs,
): () => Promise<Reading<T>> {
  let pending: Promise<Reading<T>> | undefined;
  let startedAt = 0;
  let last: Reading<T> | undefined;
  return () => {
    if (!pending) {
      startedAt = Date.now();
      const started = read().then(
        (value): Reading<T> => ({ ok: true, value }),
        (error: unknown): Reading<T> => ({ ok: false, error: messageOf(error) }),
      );
      pending = started;
      void started.then((reading) => {
        last = reading;
        if (pending === started) pending = undefined;
      });
    }
    const current = pending;
    const left = Math.max(0, timeoutMs - (Date.now() - startedAt));
    const stand = last;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Reading<T>>((resolve) => {
      const answer = (): Reading<T> =>
        stand && Date.now() - startedAt < timeoutMs
          ? stand
          : { ok: false, error: `no answer within ${timeoutMs} ms` };
      timer = setTimeout(() => resolve(answer()), stand ? Math.min(waitMs, left) : left);
      timer.unref();
    });
    return Promise.race([current, late]).finally(() => clearTimeout(timer));
  };
}

/** The last reading, taken again only once `everyMs` have passed. */
function cached<T>(read: () => Promise<Reading<T>>, everyMs: number): () => Promise<Reading<T>> {
  let last: { at: number; reading: Reading<T> } | undefined;
  return async () => {
    if (last && Date.now() - last.at < everyMs) return last.reading;
    const reading = await read();
    last = { at: Date.now(), reading };
    return reading;
  };
}

/**
 * A store kept open between reads, and opened again after it failed: a store that went down reads as down (its
 * error), and as itself again once it is back.
 */
function storeCounts(
  open: (url: string) => Promise<ClientCountingStore>,
  url: string,
  timeoutMs: number,
): { read(): Promise<Counts>; close(): Promise<void> } {
  let store: ClientCountingStore | undefined;
  let closed = false;
  const drop = () => {
    store?.client.disconnect();
    store = undefined;
  };
  return {
    async read() {
      if (closed) throw new Error('closed');
      if (!store) {
        store = await open(url);
        // Later connection errors reach the reads; unheard, the client would print each one.
        (store.client as unknown as { on(event: 'error', listener: () => void): void }).on('error', () => {});
      }
      const current = store;
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          current.counts(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } catch (error) {
        // The next read connects afresh rather than waiting in the client's queue for a server that is gone.
        if (store === current) drop();
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      closed = true;
      await store?.close();
      store = undefined;
    },
  };
}

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.text();
}

/** fetch's "fetch failed" says nothing: its cause does (ECONNREFUSED, a timeout, …). */
const unreachable = (error: unknown, url: string) => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message;
  return why ? new Error(`${url}: ${why}`) : error;
};

async function readConsumer(base: string, pipeline: PipelineId, timeoutMs: number): Promise<ConsumerReading> {
  try {
    const [text, latency] = await Promise.all([
      fetchText(`${base}/metrics`, timeoutMs),
      fetchText(`${base}/latency`, timeoutMs).then((body) => JSON.parse(body) as LatencyReading),
    ]);
    const messages = sumBy(text, 'consumer_messages_total', 'outcome', (l) => l.pipeline === pipeline);
    const { from, to, count, p50, p99, max, histogram } = latency;
    return { messages, latency: { from, to, count, p50, p99, max, histogram } };
  } catch (error) {
    throw unreachable(error, base);
  }
}

/** Missing yet (nothing was ever dead-lettered, so nobody declared it): none. */
const noneIfMissing = (error: unknown): number => {
  if (/does not exist|NOT.FOUND|404/i.test(messageOf(error))) return 0;
  throw error;
};

/** Opens nothing until the first read; reads every source at once. */
export function openSnapshotReader(sources: SnapshotSources): SnapshotReader {
  const timeoutMs = sources.timeoutMs ?? 2000;
  const waitMs = sources.waitMs ?? timeoutMs;
  const connection = { connectionName: 'tandem-compare', dedupTtlSeconds: 1 };
  const redis = storeCounts((url) => openRedisStore(url, connection), sources.redisUrl, timeoutMs);
  const valkey = storeCounts((url) => openValkeyStore(url, connection), sources.valkeyUrl, timeoutMs);
  const { kafka, rabbitmq, metrics } = sources;
  // One attempt's worth of retrying: a broker that does not answer is reported, and asked again next read.
  const retry = { timeoutMs: Math.min(timeoutMs, 2000) };
  const { topic: _t, groupId: _g, deadLetterTopic, ...kafkaAdmin } = kafka;
  // One Kafka admin and one AMQP connection, kept from read to read (the live page reads every second), and opened
  // again after they failed.
  const kafkaReader = openKafkaBacklogReader({ ...kafkaAdmin, clientId: 'tandem-compare', retry });
  const rabbitReader = openRabbitBacklogReader({ url: rabbitmq.url, retry, timeoutMs });
  const kafkaBacklog = (topic: string, groupId: string) => kafkaReader.groupBacklog(topic, groupId);
  const everyMs = sources.deadLettersEveryMs ?? 0;

  const guard = <T>(read: () => Promise<T>) => guarded(read, timeoutMs, waitMs);
  const metricsOf = (base: string) =>
    fetchText(`${base}/metrics`, timeoutMs).catch((error: unknown) => {
      throw unreachable(error, base);
    });

  const read = {
    redis: guard(() => redis.read()),
    valkey: guard(() => valkey.read()),
    kafkaBacklog: guard(() => kafkaBacklog(kafka.topic, kafka.groupId)),
    rabbitBacklog: guard(() => rabbitReader.queueBacklog(rabbitmq.queue)),
    // The dead-letter topic is never consumed: a group that never commits lags by every record it holds.
    kafkaDeadLetters: cached(
      guard(() => kafkaBacklog(deadLetterTopic, 'tandem-compare-dead-letters').catch(noneIfMissing)),
      everyMs,
    ),
    rabbitDeadLetters: cached(
      guard(() => rabbitReader.queueBacklog(rabbitmq.deadLetterQueue).catch(noneIfMissing)),
      everyMs,
    ),
    kafkaConsumer: guard(() => readConsumer(metrics.kafkaConsumer, 'kafka-redis', timeoutMs)),
    rabbitConsumer: guard(() => readConsumer(metrics.rabbitConsumer, 'rabbitmq-valkey', timeoutMs)),
    edge: guard(async () => ({
      answers: sumBy(await metricsOf(metrics.edge), 'http_requests_total', 'status', (l) =>
        /^\/input/.test(l.route ?? ''),
      ),
    })),
    ingest: guard(async () => ({
      messages: sumBy(await metricsOf(metrics.ingest), 'ingest_messages_total', 'outcome'),
    })),
  };

  return {
    async read() {
      const at = Date.now();
      const [
        redisCounts,
        valkeyCounts,
        kafkaBacklogReading,
        rabbitBacklogReading,
        kafkaDead,
        rabbitDead,
        kafkaConsumer,
        rabbitConsumer,
        edge,
        ingest,
      ] = await Promise.all([
        read.redis(),
        read.valkey(),
        read.kafkaBacklog(),
        read.rabbitBacklog(),
        read.kafkaDeadLetters(),
        read.rabbitDeadLetters(),
        read.kafkaConsumer(),
        read.rabbitConsumer(),
        read.edge(),
        read.ingest(),
      ]);
      return {
        at,
        pipelines: {
          'kafka-redis': {
            store: redisCounts,
            backlog: kafkaBacklogReading,
            deadLetters: kafkaDead,
            consumer: kafkaConsumer,
          },
          'rabbitmq-valkey': {
            store: valkeyCounts,
            backlog: rabbitBacklogReading,
            deadLetters: rabbitDead,
            consumer: rabbitConsumer,
          },
        },
        comparison:
          redisCounts.ok && valkeyCounts.ok ? compareCounts(redisCounts.value, valkeyCounts.value) : null,
        edge,
        ingest,
      };
    },
    async close() {
      await Promise.all([redis.close(), valkey.close(), kafkaReader.close(), rabbitReader.close()]);
    },
  };
}
